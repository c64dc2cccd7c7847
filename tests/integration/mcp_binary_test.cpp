// MCP tools through the real binary as a user runs it: `agentd serve --config
// examples/mcp.json` with the reference server-everything over stdio (agentd's child) and over
// Streamable HTTP (started here on a free loopback port). A react assistant's mock-model tool
// call (docs/mock-llm.md: "weather" -> the first offered tool) reaches an MCP tool; a run
// cancelled during a long-running MCP tool cancels that call; /ready reports a required
// server that is down; /metrics has the per-server series.

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "agentd_child.hpp"
#include "mcp_test_node.hpp"
#include "support/http_client.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

namespace agentd {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using testing::AgentdChild;
using testing::HttpClient;

const std::string kSource = AGENTD_SOURCE_DIR;
const std::string kEverything =
    kSource + "/tests/mcp/node_modules/@modelcontextprotocol/server-everything/dist/index.js";

// The value of the first metrics line starting with `series`, or -1.
double Metric(HttpClient& client, const std::string& series) {
  const std::string text = client.Get("/metrics").body;
  const std::size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

// Polls `condition` every 20 ms for at most `bound`.
template <class F>
bool WaitFor(F condition, std::chrono::milliseconds bound) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

json::object ToolMessage(const json::value& values) {
  for (const auto& m : values.at("messages").as_array()) {
    if (m.at("type") == "tool") return m.as_object();
  }
  return {};
}

class McpBinaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (testing::NodeBinary().empty() || !std::filesystem::exists(kEverything)) {
      GTEST_SKIP() << "node or server-everything missing: run scripts/setup.sh";
    }
  }
  testing::TempDir dir_;
};

TEST_F(McpBinaryTest, ExampleConfigRunsReactTurnsThroughMcpTools) {
  const std::uint16_t mcp_port = testing::FreePort();
  AgentdChild web({testing::NodeBinary(), "--require", kSource + "/tests/mcp/loopback.cjs", kEverything, "streamableHttp"},
                  {{"PORT", std::to_string(mcp_port)}}, (dir_.path() / "web.log").string());
  ASSERT_NE(web.WaitForLog("listening on port", 0, 20s), std::string::npos) << web.Log();

  AgentdChild serve({AGENTD_BINARY, "serve", "--config", kSource + "/examples/mcp.json", "--port", "0"},
                    {{"MCP_EVERYTHING", kEverything},
                     {"MCP_HTTP_URL", "http://127.0.0.1:" + std::to_string(mcp_port) + "/mcp"}},
                    (dir_.path() / "serve.log").string());
  const auto port = serve.WaitListening(30s);
  ASSERT_TRUE(port) << serve.Log();
  HttpClient client(*port, "127.0.0.1", 30s);
  EXPECT_EQ(client.Get("/ready").status, 200) << serve.Log();

  // stdio: the mock calls ev_get-tiny-image; its image becomes a note in the tool message.
  auto stdio = client.Post("/runs/wait", R"({"assistant_id": "mcp_stdio",
      "input": {"messages": [{"role": "user", "content": "what is the weather?"}]}})");
  ASSERT_EQ(stdio.status, 200) << stdio.body;
  json::object tool = ToolMessage(json::parse(stdio.body));
  EXPECT_EQ(tool["name"], "ev_get-tiny-image") << stdio.body;
  EXPECT_EQ(tool["status"], "success");
  EXPECT_NE(std::string(tool["content"].as_string()).find("[image: image/png, "), std::string::npos)
      << stdio.body;

  // Streamable HTTP: web_get-env answers with the server process's environment.
  auto http = client.Post("/runs/wait", R"({"assistant_id": "mcp_http",
      "input": {"messages": [{"role": "user", "content": "weather please"}]}})");
  ASSERT_EQ(http.status, 200) << http.body;
  tool = ToolMessage(json::parse(http.body));
  EXPECT_EQ(tool["name"], "web_get-env") << http.body;
  EXPECT_EQ(tool["status"], "success");
  EXPECT_NE(std::string(tool["content"].as_string()).find("PATH"), std::string::npos) << http.body;

  EXPECT_EQ(Metric(client, R"(agentd_mcp_calls_total{server="everything",outcome="success"})"), 1);
  EXPECT_EQ(Metric(client, R"(agentd_mcp_calls_total{server="web",outcome="success"})"), 1);
  EXPECT_EQ(Metric(client, R"(agentd_mcp_up{server="everything"})"), 1);
  EXPECT_EQ(Metric(client, R"(agentd_mcp_tools{server="web"})"), 3);  // its tool_filter

  // A run cancelled while its MCP tool runs (10 s by default) cancels the call.
  auto thread = json::parse(client.Post("/threads", "{}").body);
  const std::string thread_id(thread.at("thread_id").as_string());
  auto run = client.Post("/threads/" + thread_id + "/runs", R"({"assistant_id": "mcp_slow",
      "input": {"messages": [{"role": "user", "content": "weather, slowly"}]}})");
  ASSERT_EQ(run.status, 200) << run.body;
  const std::string run_id(json::parse(run.body).at("run_id").as_string());
  // The tools step has begun once the checkpoint after the model step says next = tools.
  ASSERT_TRUE(WaitFor([&] {
    auto state = json::parse(client.Get("/threads/" + thread_id + "/state").body);
    return state.at("next").as_array().size() == 1 && state.at("next").as_array()[0] == "tools";
  }, 20s));
  auto cancel = client.Post("/threads/" + thread_id + "/runs/" + run_id + "/cancel", "{}");
  EXPECT_LT(cancel.status, 300) << cancel.body;
  ASSERT_TRUE(WaitFor([&] {
    return Metric(client, R"(agentd_mcp_calls_total{server="everything",outcome="cancelled"})") == 1;
  }, 20s)) << serve.Log();
  ASSERT_TRUE(WaitFor([&] {
    auto r = json::parse(client.Get("/threads/" + thread_id + "/runs/" + run_id).body);
    return r.at("status") != "running" && r.at("status") != "pending";
  }, 20s));
  EXPECT_EQ(Metric(client, R"(agentd_mcp_calls_total{server="everything",outcome="success"})"), 1);
}

TEST_F(McpBinaryTest, ReadyFailsWhileARequiredServerIsDown) {
  const std::string config = (dir_.path() / "broken.json").string();
  {
    std::FILE* f = std::fopen(config.c_str(), "w");
    std::fputs(R"({"models": [{"name": "m", "provider": "mock"}],
      "mcp_servers": [{"name": "broken", "transport": "stdio", "command": "/nonexistent/mcp-server",
                       "required": true, "prefix": "b_"}],
      "graphs": [{"graph_id": "g", "kind": "react", "model": "m", "tools": ["b_anything"]}]})", f);
    std::fclose(f);
  }
  AgentdChild serve({AGENTD_BINARY, "serve", "--config", config, "--port", "0", "--storage", "memory"}, {},
                    (dir_.path() / "serve.log").string());
  const auto port = serve.WaitListening(30s);
  ASSERT_TRUE(port) << serve.Log();
  HttpClient client(*port);
  auto ready = client.Get("/ready");
  EXPECT_EQ(ready.status, 503) << ready.body;
  EXPECT_NE(ready.body.find("mcp server broken is down: cannot start \\\"/nonexistent/mcp-server\\\""),
            std::string::npos)
      << ready.body;
  // A run of a graph whose MCP tool is unavailable still answers: the tool is not offered.
  auto run = client.Post("/runs/wait", R"({"assistant_id": "g",
      "input": {"messages": [{"role": "user", "content": "weather?"}]}})");
  EXPECT_EQ(run.status, 200) << run.body;
  EXPECT_NE(run.body.find("echo: weather?"), std::string::npos) << run.body;
}

}  // namespace
}  // namespace agentd
