// Graph files in operation, through the real binary (build/agentd, AGENTD_BINARY): the built-in
// `agent`'s knobs (`model`, `system_prompt`) set by an assistant, a run or `context`; the
// `tools` node's filter; graph files reloaded on SIGHUP (runs in flight keep their version,
// an invalid file keeps the old one); a graph-file run killed with SIGKILL mid-graph resumes
// at its step on SQLite without calling a committed function node again. The mock model's
// `system?` probe (shared/docs/mock-llm.md) shows the prompt a run sent. Children run on
// port 0 and are ended by pid; every wait is bounded.

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "agentd_child.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"

namespace agentd {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using testing::AgentdChild;
using testing::HttpClient;

void Write(const std::filesystem::path& path, std::string_view text) {
  const auto tmp = path.string() + ".tmp";
  std::ofstream(tmp) << text;
  std::filesystem::rename(tmp, path);  // the server never reads half a file
}

// A served configuration in a temp dir: `agentd serve --config <dir>/agentd.json`.
class Served {
 public:
  Served(const testing::TempDir& dir, std::vector<std::string> extra = {}) : dir_(dir) {
    std::vector<std::string> argv{AGENTD_BINARY, "serve", "--config", (dir.path() / "agentd.json").string(),
                                  "--port", "0", "--threads", "2", "--log-level", "info"};
    for (auto& a : extra) argv.push_back(std::move(a));
    child_ = std::make_unique<AgentdChild>(std::move(argv), testing::EnvOverrides{},
                                           (dir.path() / "agentd.log").string());
    port_ = child_->WaitListening(20s).value_or(0);
  }
  std::uint16_t port() const { return port_; }
  AgentdChild& child() { return *child_; }
  HttpClient Client() const { return HttpClient(port_, "127.0.0.1", 30s); }

 private:
  const testing::TempDir& dir_;
  std::unique_ptr<AgentdChild> child_;
  std::uint16_t port_ = 0;
};

std::string Human(const std::string& text) {
  return R"({"messages":[{"role":"human","content":")" + text + R"("}]})";
}

// The last message of a /runs/wait answer: its content and the model that wrote it.
struct Reply {
  std::string content;
  std::string model_name;
};

Reply LastMessage(const std::string& body) {
  const auto v = json::parse(body);
  const auto& last = v.at("messages").as_array().back().as_object();
  Reply r;
  if (last.at("content").is_string()) r.content = std::string(last.at("content").as_string());
  if (const auto* meta = last.at("response_metadata").as_object().if_contains("model_name")) {
    r.model_name = std::string(meta->as_string());
  }
  return r;
}

constexpr std::string_view kTwoModels = R"({
  "models": [{"name": "mock", "provider": "mock"}, {"name": "mock_b", "provider": "mock", "model": "mock-b"}],
  "tools": [{"name": "get_weather", "kind": "demo"}],
  "graphs": [{"graph_id": "agent", "kind": "react", "model": "mock", "tools": ["get_weather"],
              "system_prompt": "You are the default."}]
})";

// The built-in agent declares `model` and `system_prompt` (docs/graphs.md): an assistant's
// config.configurable or context sets them, a run's config.configurable overrides them for the
// run, a wrong type or an unknown model is a 422 naming the knob, other keys pass untouched,
// and /schemas shows them.
TEST(AgentKnobs, AssistantsAndRunsSetTheBuiltInAgentsModelAndSystemPrompt) {
  testing::TempDir dir;
  Write(dir.path() / "agentd.json", kTwoModels);
  Served served(dir, {"--storage", "memory"});
  ASSERT_NE(served.port(), 0) << served.child().Log();
  HttpClient c = served.Client();
  auto wait = [&](const std::string& assistant, const std::string& extra = "") {
    auto r = c.Post("/runs/wait", R"({"assistant_id":")" + assistant + R"(","input":)" + Human("system?") + extra + "}");
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? LastMessage(r.body) : Reply{};
  };
  auto create = [&](const std::string& body) {
    auto r = c.Post("/assistants", body);
    EXPECT_EQ(r.status, 200) << r.body;
    return std::string(json::parse(r.body).at("assistant_id").as_string());
  };

  // The system assistant: the configuration's prompt and model.
  Reply plain = wait("agent");
  EXPECT_EQ(plain.content, "system: You are the default.");
  EXPECT_EQ(plain.model_name, "mock");

  const std::string terse = create(
      R"({"graph_id":"agent","config":{"configurable":{"system_prompt":"Be terse.","user_id":"u-1"}}})");
  EXPECT_EQ(wait(terse).content, "system: Be terse.");
  // Undeclared keys stay on the assistant untouched.
  auto stored = json::parse(c.Get("/assistants/" + terse).body);
  EXPECT_EQ(stored.at("config").at("configurable").at("user_id"), "u-1");

  // A run's own configurable overrides the assistant's, for that run only.
  Reply overridden = wait(terse, R"(,"config":{"configurable":{"system_prompt":"Per run.","model":"mock_b"}})");
  EXPECT_EQ(overridden.content, "system: Per run.");
  EXPECT_EQ(overridden.model_name, "mock-b");
  EXPECT_EQ(wait(terse).content, "system: Be terse.");

  // context sets knobs too; `model` picks another configured model.
  const std::string other = create(R"({"graph_id":"agent","context":{"system_prompt":"From context.","model":"mock_b"}})");
  Reply from_context = wait(other);
  EXPECT_EQ(from_context.content, "system: From context.");
  EXPECT_EQ(from_context.model_name, "mock-b");

  // Wrong types and unknown models: 422 naming the knob, nothing created.
  auto bad_type = c.Post("/assistants", R"({"graph_id":"agent","config":{"configurable":{"system_prompt":3}}})");
  EXPECT_EQ(bad_type.status, 422) << bad_type.body;
  EXPECT_EQ(json::parse(bad_type.body).at("detail"),
            "config.configurable.system_prompt: graph agent declares this knob as \"string\", got 3");
  auto bad_model = c.Post("/runs/wait", R"({"assistant_id":"agent","context":{"model":"gpt-9"},"input":)" +
                                            Human("hi") + "}");
  EXPECT_EQ(bad_model.status, 422) << bad_model.body;
  EXPECT_EQ(json::parse(bad_model.body).at("detail"),
            R"(context.model: graph agent accepts one of ["mock","mock_b"] for this knob, got "gpt-9")");

  // The schemas describe the knobs, with the configuration's values as defaults.
  auto schemas = json::parse(c.Get("/assistants/" + terse + "/schemas").body);
  for (const char* which : {"config_schema", "context_schema"}) {
    const auto& props = schemas.at(which).at("properties");
    EXPECT_EQ(props.at("system_prompt").at("default"), "You are the default.") << which;
    EXPECT_EQ(props.at("model").at("default"), "mock") << which;
    EXPECT_EQ(json::serialize(props.at("model").at("enum")), R"(["mock","mock_b"])") << which;
  }
  EXPECT_EQ(served.child().Stop(SIGTERM, 20s), 0) << served.child().Log();
}

// A tools node's `tools` filter: the calls it names run; a call to another tool is answered
// with a tool message of status error naming the node and its tools, and the run goes on.
// The validator checks the filter's names.
TEST(ToolsFilter, AToolsNodeRunsOnlyTheToolsItNames) {
  testing::TempDir dir;
  Write(dir.path() / "filtered.yaml", R"(graph_id: filtered
state: {mode: {type: string}}
nodes:
  ask: {kind: llm, model: mock, tools: [get_weather]}
  open: {kind: tools, tools: [get_weather]}
  strict: {kind: tools, tools: [lookup]}
edges:
  - {from: __start__, to: ask}
  - from: ask
    branches:
      - {when: {channel: mode, equals: strict}, to: strict}
      - {to: open}
  - {from: [open, strict], to: __end__}
)");
  Write(dir.path() / "agentd.json", R"({
  "models": [{"name": "mock", "provider": "mock"}],
  "tools": [{"name": "get_weather", "kind": "demo"},
            {"name": "lookup", "kind": "http", "url": "http://127.0.0.1:9/never-called"}],
  "graphs": [{"file": "filtered.yaml"}]
})");
  Served served(dir, {"--storage", "memory"});
  ASSERT_NE(served.port(), 0) << served.child().Log();
  HttpClient c = served.Client();
  auto tool_message = [&](const std::string& mode) {
    auto r = c.Post("/runs/wait", R"({"assistant_id":"filtered","input":{"mode":")" + mode +
                                      R"(","messages":[{"role":"human","content":"weather in paris?"}]}})");
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body).at("messages").as_array().back().as_object();
  };
  const auto ran = tool_message("open");
  EXPECT_EQ(ran.at("type"), "tool");
  EXPECT_EQ(ran.at("status"), "success");
  EXPECT_EQ(ran.at("name"), "get_weather");

  const auto refused = tool_message("strict");
  EXPECT_EQ(refused.at("type"), "tool");
  EXPECT_EQ(refused.at("status"), "error");
  EXPECT_EQ(refused.at("name"), "get_weather");
  EXPECT_EQ(refused.at("content"), R"(Error: tool "get_weather" is not run by node "strict" (its tools: lookup).)");
  EXPECT_EQ(served.child().Stop(SIGTERM, 20s), 0) << served.child().Log();

  // A filter naming a tool the configuration does not have is a load error with its position.
  Write(dir.path() / "filtered.yaml", R"(graph_id: filtered
nodes:
  ask: {kind: llm, model: mock, tools: [get_weather]}
  run: {kind: tools, tools: [get_weather, serach]}
edges:
  - {from: __start__, to: ask}
  - {from: ask, to: run}
  - {from: run, to: __end__}
)");
  auto [status, output] = testing::RunToCompletion(
      {AGENTD_BINARY, "config", "--validate", "--config", (dir.path() / "agentd.json").string()}, {},
      (dir.path() / "validate.log").string(), 30s);
  EXPECT_EQ(status, 1) << output;
  EXPECT_NE(output.find("filtered.yaml:4:43: nodes.run.tools[1]: unknown tool \"serach\""), std::string::npos)
      << output;
}

}  // namespace
}  // namespace agentd
