// Graph files in operation, through the real binary (build/agentd, AGENTD_BINARY): the built-in
// `agent`'s knobs (`model`, `system_prompt`) set by an assistant, a run or `context`; the
// `tools` node's filter; graph files reloaded on SIGHUP (runs in flight keep their version,
// an invalid file keeps the old one); a graph-file run killed with SIGKILL mid-graph resumes
// at its step on SQLite without calling a committed function node again. The mock model's
// `system?` probe (shared/docs/mock-llm.md) shows the prompt a run sent. Children run on
// port 0 and are ended by pid; every wait is bounded.

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <map>
#include <mutex>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
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

// A real HTTP server on a loopback port for function nodes: it answers every POST with an
// update that appends the AI message "<path> ran", and counts the calls per path; while `Hold(path)` is on, calls to that path wait (bounded) until
// `Release()`, so a test can keep a run inside a step.
class FunctionServer {
 public:
  FunctionServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    ::listen(fd_, 16);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FunctionServer() {
    Release();
    stopping_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
    for (auto& t : handlers_) t.join();
  }
  std::string Url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  void Hold(const std::string& path) {
    std::lock_guard lock(mutex_);
    held_path_ = path;
  }
  void Release() {
    std::lock_guard lock(mutex_);
    held_path_.clear();
    cv_.notify_all();
  }
  int Calls(const std::string& path) {
    std::lock_guard lock(mutex_);
    return calls_[path];
  }
  // Waits at most `bound` until `path` was called `n` times.
  bool WaitCalls(const std::string& path, int n, std::chrono::milliseconds bound) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, bound, [&] { return calls_[path] >= n; });
  }

 private:
  void Serve() {
    while (!stopping_) {
      const int conn = ::accept(fd_, nullptr, nullptr);
      if (conn < 0) return;
      std::lock_guard lock(mutex_);
      handlers_.emplace_back([this, conn] { Handle(conn); });
    }
  }
  void Handle(int conn) {
    std::string request;
    char buf[4096];
    std::size_t need = std::string::npos;
    while (need == std::string::npos || request.size() < need) {
      const ssize_t n = ::recv(conn, buf, sizeof buf, 0);
      if (n <= 0) break;
      request.append(buf, static_cast<std::size_t>(n));
      const auto head_end = request.find("\r\n\r\n");
      if (need == std::string::npos && head_end != std::string::npos) {
        std::size_t length = 0;
        const auto at = request.find("ontent-Length: ");
        if (at != std::string::npos && at < head_end) length = std::stoul(request.substr(at + 15));
        need = head_end + 4 + length;
      }
    }
    const auto sp = request.find(' ');
    const std::string path = sp == std::string::npos ? "" : request.substr(sp + 1, request.find(' ', sp + 1) - sp - 1);
    {
      std::unique_lock lock(mutex_);
      ++calls_[path];
      cv_.notify_all();
      cv_.wait_for(lock, 60s, [&] { return held_path_ != path; });
    }
    const std::string body = R"({"update":{"messages":[{"role":"ai","content":")" + path + R"( ran"}]}})";
    const std::string reply = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                              std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
    ::send(conn, reply.data(), reply.size(), MSG_NOSIGNAL);
    ::close(conn);
  }

  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::vector<std::thread> handlers_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::string held_path_;
  std::map<std::string, int> calls_;
};

// Waits (bounded) for a background run to end; its final status.
std::string JoinRun(HttpClient& c, const std::string& thread, const std::string& run) {
  auto joined = c.Get("/threads/" + thread + "/runs/" + run + "/join");
  EXPECT_EQ(joined.status, 200) << joined.body;
  auto got = c.Get("/threads/" + thread + "/runs/" + run);
  return std::string(json::parse(got.body).at("status").as_string());
}

std::string LastContent(HttpClient& c, const std::string& thread) {
  auto state = json::parse(c.Get("/threads/" + thread + "/state").body);
  const auto& messages = state.at("values").at("messages").as_array();
  return messages.empty() ? "" : std::string(messages.back().at("content").as_string());
}

std::string NewThread(HttpClient& c) {
  return std::string(json::parse(c.Post("/threads", "{}").body).at("thread_id").as_string());
}

// Starts a background run on a new thread: {thread_id, run_id}.
std::pair<std::string, std::string> StartRun(HttpClient& c, const std::string& assistant, const std::string& text) {
  const std::string thread = NewThread(c);
  auto r = c.Post("/threads/" + thread + "/runs", R"({"assistant_id":")" + assistant + R"(","input":)" + Human(text) + "}");
  EXPECT_EQ(r.status, 200) << r.body;
  return {thread, std::string(json::parse(r.body).at("run_id").as_string())};
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

  // PATCH checks the knobs against the assistant's graph too.
  auto bad_patch = c.Send("PATCH", "/assistants/" + terse, R"({"config":{"configurable":{"system_prompt":["x"]}}})",
                          {{"content-type", "application/json"}});
  EXPECT_EQ(bad_patch.status, 422) << bad_patch.body;
  EXPECT_EQ(wait(terse).content, "system: Be terse.");

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

// SIGHUP re-reads the graph files: a run in flight finishes on the version it started with
// (v1's `hold` -> `mark`), a run after the reload uses the new one (v2 drops `hold`, changes the
// knob default the system assistant carries, adds a graph); an invalid file is refused with
// every error logged, and the running version stays.
TEST(GraphReload, SighupReloadsGraphFilesAndRunsKeepTheVersionTheyStartedWith) {
  testing::TempDir dir;
  FunctionServer functions;
  const auto graphs = dir.path() / "graphs";
  std::filesystem::create_directories(graphs);
  Write(graphs / "g.yaml", R"(graph_id: g
configurable: {tone: {type: string, default: calm}}
nodes:
  hold: {kind: function, url: ")" + functions.Url("/hold") + R"("}
  mark: {kind: set, update: {messages: [{role: ai, content: "v1 {{config.tone}}"}]}}
edges:
  - {from: __start__, to: hold}
  - {from: hold, to: mark}
  - {from: mark, to: __end__}
)");
  Write(dir.path() / "agentd.json", R"({"graphs_dir": "graphs"})");
  Served served(dir, {"--storage", "memory"});
  ASSERT_NE(served.port(), 0) << served.child().Log();
  HttpClient c = served.Client();

  functions.Hold("/hold");
  const auto [old_thread, old_run] = StartRun(c, "g", "first");
  ASSERT_TRUE(functions.WaitCalls("/hold", 1, 20s)) << served.child().Log();

  Write(graphs / "g.yaml", R"(graph_id: g
configurable: {tone: {type: string, default: bright}}
nodes:
  mark: {kind: set, update: {messages: [{role: ai, content: "v2 {{config.tone}}"}]}}
edges:
  - {from: __start__, to: mark}
  - {from: mark, to: __end__}
)");
  Write(graphs / "h.json", R"({"graph_id": "h", "nodes": {"only": {"kind": "set", "update": {"messages": [{"role": "ai", "content": "h"}]}}},
  "edges": [{"from": "__start__", "to": "only"}, {"from": "only", "to": "__end__"}]})");
  std::size_t from = served.child().Log().size();
  served.child().Signal(SIGHUP);
  ASSERT_NE(served.child().WaitForLog("config reload applied", from, 20s), std::string::npos) << served.child().Log();

  // After the reload: the new version, with the new default, and the new graph.
  auto after = c.Post("/runs/wait", R"({"assistant_id":"g","input":)" + Human("second") + "}");
  ASSERT_EQ(after.status, 200) << after.body;
  EXPECT_EQ(LastMessage(after.body).content, "v2 bright");
  auto added = c.Post("/runs/wait", R"({"assistant_id":"h","input":)" + Human("third") + "}");
  ASSERT_EQ(added.status, 200) << added.body;
  EXPECT_EQ(LastMessage(added.body).content, "h");
  EXPECT_EQ(json::parse(c.Get("/assistants/g/graph").body).at("nodes").as_array().size(), 3u);  // start, mark, end

  // The run started before the reload finishes on v1.
  functions.Release();
  EXPECT_EQ(JoinRun(c, old_thread, old_run), "success");
  EXPECT_EQ(LastContent(c, old_thread), "v1 calm");

  // An invalid file: refused, every problem logged with its position, v2 keeps serving.
  Write(graphs / "g.yaml", R"(graph_id: g
nodes:
  mark: {kind: sett}
edges:
  - {from: __start__, to: mark}
  - {from: mark, to: nowhere}
)");
  from = served.child().Log().size();
  served.child().Signal(SIGHUP);
  ASSERT_NE(served.child().WaitForLog("config reload refused, keeping the running configuration", from, 20s),
            std::string::npos)
      << served.child().Log();
  const std::string log = served.child().Log().substr(from);
  EXPECT_NE(log.find("errors=3"), std::string::npos) << log;
  EXPECT_NE(log.find("g.yaml:3:16: nodes.mark.kind: unknown node kind \"sett\""), std::string::npos) << log;
  EXPECT_NE(log.find("g.yaml:6:22: edges[1].to: unknown node \"nowhere\""), std::string::npos) << log;
  EXPECT_NE(log.find("g.yaml:3:3: nodes.mark: no way to __end__"), std::string::npos) << log;
  auto still = c.Post("/runs/wait", R"({"assistant_id":"g","input":)" + Human("fourth") + "}");
  ASSERT_EQ(still.status, 200) << still.body;
  EXPECT_EQ(LastMessage(still.body).content, "v2 bright");
  EXPECT_EQ(functions.Calls("/hold"), 1);
  EXPECT_EQ(served.child().Stop(SIGTERM, 20s), 0) << served.child().Log();
}

// kill -9 mid-graph on SQLite: the run is inside `second` (its function server holds the
// call) when the server is killed; after a restart on the same data dir the run resumes at
// `second` and ends, and `first`, whose step had committed, is not called again.
TEST(GraphCrash, AGraphFileRunKilledMidGraphResumesAtItsStepAfterRestart) {
  testing::TempDir dir;
  FunctionServer functions;
  Write(dir.path() / "steps.yaml", R"(graph_id: steps
nodes:
  first: {kind: function, url: ")" + functions.Url("/first") + R"("}
  second: {kind: function, url: ")" + functions.Url("/second") + R"("}
  done: {kind: set, update: {messages: [{role: ai, content: done}]}}
edges:
  - {from: __start__, to: first}
  - {from: first, to: second}
  - {from: second, to: done}
  - {from: done, to: __end__}
)");
  Write(dir.path() / "agentd.json", R"({"graphs": [{"file": "steps.yaml"}]})");
  const std::string data = (dir.path() / "data").string();
  std::string thread, run;
  {
    Served served(dir, {"--storage", "sqlite", "--data-dir", data});
    ASSERT_NE(served.port(), 0) << served.child().Log();
    HttpClient c = served.Client();
    functions.Hold("/second");
    std::tie(thread, run) = StartRun(c, "steps", "go");
    ASSERT_TRUE(functions.WaitCalls("/second", 1, 20s)) << served.child().Log();
    EXPECT_EQ(served.child().Stop(SIGKILL, 20s), -1);
  }
  functions.Release();
  EXPECT_EQ(functions.Calls("/first"), 1);

  Served restarted(dir, {"--storage", "sqlite", "--data-dir", data});
  ASSERT_NE(restarted.port(), 0) << restarted.child().Log();
  HttpClient c = restarted.Client();
  EXPECT_EQ(JoinRun(c, thread, run), "success") << restarted.child().Log();
  auto state = json::parse(c.Get("/threads/" + thread + "/state").body);
  std::vector<std::string> texts;
  for (const auto& m : state.at("values").at("messages").as_array()) texts.emplace_back(m.at("content").as_string());
  EXPECT_EQ(texts, (std::vector<std::string>{"go", "/first ran", "/second ran", "done"}));
  EXPECT_EQ(functions.Calls("/first"), 1);
  EXPECT_EQ(functions.Calls("/second"), 2);
  EXPECT_EQ(restarted.child().Stop(SIGTERM, 20s), 0) << restarted.child().Log();
}

}  // namespace
}  // namespace agentd
