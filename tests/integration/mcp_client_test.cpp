// The MCP client against the REAL reference server, @modelcontextprotocol/server-everything
// (tests/mcp, installed by scripts/setup.sh), over stdio (a child process per McpServer) and
// over Streamable HTTP (the server's streamableHttp mode on a free loopback port, forced onto
// 127.0.0.1 by tests/mcp/loopback.cjs). Plus servers that misbehave: one that never answers,
// one that prints garbage first. Calls run on the test's own io_context while the sessions live
// on an agentd event loop, as runs do. Every wait is bounded (RunCo, WaitUntil).

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "agentd_child.hpp"
#include "mcp_test_node.hpp"
#include "http/client_pool.hpp"
#include "http/event_loops.hpp"
#include "mcp/mcp_tools.hpp"
#include "observe/metrics.hpp"
#include "support/run_co.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

namespace agentd {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;
using testing::RunCo;

const std::string kEverything = AGENTD_SOURCE_DIR
    "/tests/mcp/node_modules/@modelcontextprotocol/server-everything/dist/index.js";
const std::string kLoopback = AGENTD_SOURCE_DIR "/tests/mcp/loopback.cjs";

std::vector<std::string> ChildEnv() {
  std::vector<std::string> env;
  for (const char* name : {"PATH", "HOME"}) {
    if (const char* v = std::getenv(name)) env.push_back(std::string(name) + "=" + v);
  }
  return env;
}

config::McpServerSpec StdioSpec(std::string name = "ev") {
  config::McpServerSpec s;
  s.name = std::move(name);
  s.transport = "stdio";
  s.command = testing::NodeBinary();
  s.args = {kEverything, "stdio"};
  s.child_env = ChildEnv();
  s.prefix = "ev_";
  s.timeout = 15s;
  return s;
}

asio::awaitable<void> WaitUntil(std::function<bool()> condition, std::chrono::milliseconds bound) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (!condition() && std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(10ms);
    co_await timer.async_wait(asio::use_awaitable);
  }
}

class McpClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (testing::NodeBinary().empty() || !std::filesystem::exists(kEverything)) {
      GTEST_SKIP() << "node or server-everything missing: run scripts/setup.sh";
    }
    loops_.Start();
  }
  void TearDown() override {
    if (tools_) tools_->Stop();
    tools_.reset();
    loops_.Stop();
  }

  mcp::McpTools& Start(std::vector<config::McpServerSpec> specs) {
    tools_ = std::make_shared<mcp::McpTools>(std::move(specs), loops_.loop(0).get_executor(), pool_,
                                             &metrics_);
    tools_->Start();
    EXPECT_TRUE(tools_->WaitFirstAttempts(20s));
    return *tools_;
  }

  config::ToolSpec Spec(std::string_view name) {
    for (const auto& t : *tools_->Tools()) {
      if (t.name == name) return t;
    }
    ADD_FAILURE() << "no tool " << name;
    return {};
  }

  runtime::ToolOutcome Call(std::string_view name, json::value args) {
    auto spec = Spec(name);
    return RunCo(tools_->Call(spec, std::move(args)), 30s);
  }

  std::uint64_t Counter(std::string_view name, observe::Labels labels) {
    return metrics_.GetCounter(name, "", labels).value();
  }

  // Starts a call of trigger-long-running-operation (30 s) and waits until it is in flight;
  // `done` is set when it ends. `signal` cancels it.
  struct LongCall {
    std::optional<runtime::ToolOutcome> outcome;
  };

  observe::Metrics metrics_;
  http::EventLoops loops_{1};
  http::ClientPool pool_;
  std::shared_ptr<mcp::McpTools> tools_;
};

TEST_F(McpClientTest, StdioListsToolsAndCallsThem) {
  auto& tools = Start({StdioSpec()});
  ASSERT_TRUE(tools.server("ev")->up()) << tools.server("ev")->last_error();
  std::vector<std::string> names;
  for (const auto& t : *tools.Tools()) names.push_back(t.name);
  for (const char* want : {"ev_echo", "ev_get-sum", "ev_get-tiny-image", "ev_get-structured-content",
                           "ev_trigger-long-running-operation"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want;
  }
  EXPECT_EQ(Spec("ev_echo").parameters.at("properties").as_object().at("message").at("type"), "string");

  auto echo = Call("ev_echo", {{"message", "hello mcp"}});
  EXPECT_TRUE(echo.ok);
  EXPECT_EQ(echo.content, "Echo: hello mcp");

  auto sum = Call("ev_get-sum", {{"a", 2}, {"b", 40}});
  EXPECT_TRUE(sum.ok);
  EXPECT_NE(sum.content.find("42"), std::string::npos) << sum.content;

  auto structured = Call("ev_get-structured-content", {{"location", "New York"}});
  EXPECT_TRUE(structured.ok);
  EXPECT_NE(structured.content.find("temperature"), std::string::npos) << structured.content;

  auto image = Call("ev_get-tiny-image", json::object{});
  EXPECT_TRUE(image.ok);
  EXPECT_NE(image.content.find("[image: image/png, "), std::string::npos) << image.content;

  // Arguments the tool refuses: a tool error (isError or a JSON-RPC error), not a crash.
  auto bad = Call("ev_get-sum", {{"a", "two"}});
  EXPECT_FALSE(bad.ok);
  EXPECT_NE(bad.content.find("expected number"), std::string::npos) << bad.content;

  EXPECT_EQ(Counter("agentd_mcp_calls_total", {{"server", "ev"}, {"outcome", "success"}}), 4u);
  EXPECT_EQ(Counter("agentd_mcp_calls_total", {{"server", "ev"}, {"outcome", "error"}}), 1u);
}

TEST_F(McpClientTest, StdioCutsOutputPastTheCap) {
  auto spec = StdioSpec();
  spec.max_output_bytes = 256;
  Start({spec});
  auto echo = Call("ev_echo", {{"message", std::string(1000, 'z')}});
  EXPECT_TRUE(echo.ok);
  EXPECT_EQ(echo.content.substr(0, 256), "Echo: " + std::string(250, 'z'));
  EXPECT_NE(echo.content.find("[output cut: 750 more bytes over the 256-byte limit"), std::string::npos);
}

TEST_F(McpClientTest, StdioAnswerOverTheSizeBoundFailsThatCallOnly) {
  auto& tools = Start({StdioSpec()});
  // The bound is max(8 MiB, 2 x max_output_bytes): a 9 MiB echo line is dropped unread.
  auto huge = Call("ev_echo", {{"message", std::string(9u << 20, 'h')}});
  EXPECT_FALSE(huge.ok);
  EXPECT_NE(huge.content.find("-byte bound"), std::string::npos) << huge.content.substr(0, 300);
  EXPECT_EQ(Counter("agentd_mcp_protocol_errors_total", {{"server", "ev"}}), 1u);
  EXPECT_TRUE(tools.server("ev")->up());
  EXPECT_EQ(Call("ev_echo", {{"message", "small"}}).content, "Echo: small");
}

// Runs `name` with `args` on a fresh io_context; emits `cancel` once the server has the call
// (or `before` returns), and returns the outcome.
runtime::ToolOutcome CallAndInterrupt(mcp::McpTools& tools, const config::ToolSpec& spec, json::value args,
                                      std::function<void(asio::cancellation_signal&)> interrupt) {
  return RunCo(
      [](mcp::McpTools& tools, config::ToolSpec spec, json::value args,
         std::function<void(asio::cancellation_signal&)> interrupt) -> asio::awaitable<runtime::ToolOutcome> {
        auto ex = co_await asio::this_coro::executor;
        asio::cancellation_signal signal;
        std::optional<runtime::ToolOutcome> outcome;
        asio::co_spawn(ex, tools.Call(spec, std::move(args)),
                       asio::bind_cancellation_slot(signal.slot(),
                                                    [&](std::exception_ptr, runtime::ToolOutcome o) {
                                                      outcome = std::move(o);
                                                    }));
        mcp::McpServer* server = tools.server(spec.server);
        co_await WaitUntil([&] { return server->in_flight() == 1; }, 10s);
        EXPECT_EQ(server->in_flight(), 1u);
        interrupt(signal);
        co_await WaitUntil([&] { return outcome.has_value(); }, 15s);
        if (!outcome) co_return runtime::ToolOutcome{"(no outcome)", false};
        co_return std::move(*outcome);
      }(tools, spec, std::move(args), std::move(interrupt)),
      30s);
}

TEST_F(McpClientTest, StdioCancelledCallEndsAtOnceAndTheSessionGoesOn) {
  auto& tools = Start({StdioSpec()});
  auto out = CallAndInterrupt(tools, Spec("ev_trigger-long-running-operation"),
                              {{"duration", 60}, {"steps", 60}},
                              [](asio::cancellation_signal& s) { s.emit(asio::cancellation_type::terminal); });
  EXPECT_FALSE(out.ok);
  EXPECT_NE(out.content.find("tools/call cancelled"), std::string::npos) << out.content;
  EXPECT_EQ(tools.server("ev")->in_flight(), 0u);
  EXPECT_EQ(Counter("agentd_mcp_calls_total", {{"server", "ev"}, {"outcome", "cancelled"}}), 1u);
  auto echo = Call("ev_echo", {{"message", "after cancel"}});
  EXPECT_EQ(echo.content, "Echo: after cancel");
}

TEST_F(McpClientTest, StdioProcessKilledMidCallFailsThatCallAndTheNextWorks) {
  auto& tools = Start({StdioSpec()});
  mcp::McpServer* server = tools.server("ev");
  const int pid = server->pid_for_test();
  ASSERT_GT(pid, 0);
  auto out = CallAndInterrupt(tools, Spec("ev_trigger-long-running-operation"),
                              {{"duration", 60}, {"steps", 60}},
                              [pid](asio::cancellation_signal&) { ::kill(pid, SIGKILL); });
  EXPECT_FALSE(out.ok);
  EXPECT_NE(out.content.find("Error: MCP tool ev_trigger-long-running-operation (server ev): the connection was lost"),
            std::string::npos)
      << out.content;
  EXPECT_NE(out.content.find("killed by signal 9"), std::string::npos) << out.content;
  // The next call waits for the restarted process.
  auto echo = Call("ev_echo", {{"message", "after the crash"}});
  EXPECT_TRUE(echo.ok) << echo.content;
  EXPECT_EQ(echo.content, "Echo: after the crash");
  EXPECT_NE(server->pid_for_test(), pid);
  EXPECT_EQ(Counter("agentd_mcp_restarts_total", {{"server", "ev"}}), 1u);
}

TEST_F(McpClientTest, StdioCallTimesOut) {
  auto spec = StdioSpec();
  spec.timeout = 1500ms;
  auto& tools = Start({spec});
  // The short timeout also bounds initialize: on a loaded machine node may need longer to
  // start, and the supervisor then retries. Wait (bounded) until it is up.
  RunCo(WaitUntil([&] { return tools.server("ev")->up(); }, 30s), 40s);
  ASSERT_TRUE(tools.server("ev")->up()) << tools.server("ev")->last_error();
  auto out = Call("ev_trigger-long-running-operation", {{"duration", 30}, {"steps", 30}});
  EXPECT_FALSE(out.ok);
  EXPECT_NE(out.content.find("tools/call got no answer within 1500 ms (timeout_ms)"), std::string::npos)
      << out.content;
  EXPECT_EQ(Counter("agentd_mcp_calls_total", {{"server", "ev"}, {"outcome", "timeout"}}), 1u);
  EXPECT_EQ(tools.server("ev")->in_flight(), 0u);
  EXPECT_EQ(Call("ev_echo", {{"message", "still here"}}).content, "Echo: still here");
}

TEST_F(McpClientTest, HungServerIsDownWithAClearErrorNotAHungCall) {
  config::McpServerSpec spec;
  spec.name = "hung";
  spec.transport = "stdio";
  spec.command = "/bin/sh";
  spec.args = {"-c", "while read -r line; do :; done"};  // reads requests, never answers
  spec.child_env = ChildEnv();
  spec.timeout = 300ms;
  spec.required = true;
  auto& tools = Start({spec});
  EXPECT_FALSE(tools.server("hung")->up());
  std::string why;
  EXPECT_FALSE(tools.RequiredUp(&why));
  EXPECT_NE(why.find("mcp server hung is down: initialize: initialize got no answer within 300 ms"),
            std::string::npos)
      << why;
  config::ToolSpec tool;
  tool.name = "x";
  tool.kind = "mcp";
  tool.server = "hung";
  tool.remote_name = "x";
  auto out = RunCo(tools.Call(tool, json::object{}), 10s);
  EXPECT_FALSE(out.ok);
  EXPECT_NE(out.content.find("the server is down"), std::string::npos) << out.content;
}

TEST_F(McpClientTest, GarbageLinesAreCountedAndIgnored) {
  auto spec = StdioSpec();
  spec.command = "/bin/sh";
  spec.args = {"-c", "echo 'this is not JSON'; echo '[1,2]'; exec \"$0\" \"$1\" stdio", testing::NodeBinary(), kEverything};
  auto& tools = Start({spec});
  ASSERT_TRUE(tools.server("ev")->up()) << tools.server("ev")->last_error();
  EXPECT_EQ(Call("ev_echo", {{"message", "fine"}}).content, "Echo: fine");
  EXPECT_EQ(Counter("agentd_mcp_protocol_errors_total", {{"server", "ev"}}), 2u);
}

TEST_F(McpClientTest, StreamableHttpListsCallsAndSurvivesAServerRestart) {
  testing::TempDir dir;
  const std::uint16_t port = testing::FreePort();
  auto start_server = [&](const std::string& log) {
    return std::make_unique<testing::AgentdChild>(
        std::vector<std::string>{testing::NodeBinary(), "--require", kLoopback, kEverything, "streamableHttp"},
        testing::EnvOverrides{{"PORT", std::to_string(port)}}, (dir.path() / log).string());
  };
  auto server = start_server("http1.log");
  ASSERT_NE(server->WaitForLog("listening on port", 0, 20s), std::string::npos) << server->Log();

  config::McpServerSpec spec;
  spec.name = "web";
  spec.transport = "streamable_http";
  spec.url = "http://127.0.0.1:" + std::to_string(port) + "/mcp";
  spec.prefix = "web_";
  spec.timeout = 15s;
  auto& tools = Start({spec});
  ASSERT_TRUE(tools.server("web")->up()) << tools.server("web")->last_error();
  EXPECT_EQ(Call("web_echo", {{"message", "over http"}}).content, "Echo: over http");
  auto sum = Call("web_get-sum", {{"a", 1}, {"b", 2}});
  EXPECT_NE(sum.content.find("3"), std::string::npos) << sum.content;
  auto image = Call("web_get-tiny-image", json::object{});
  EXPECT_NE(image.content.find("[image: image/png, "), std::string::npos) << image.content;

  // The server restarts and forgets the session: the first call fails with a clear error or
  // succeeds after re-initializing; either way the call after it works.
  server->Stop();
  server = start_server("http2.log");
  ASSERT_NE(server->WaitForLog("listening on port", 0, 20s), std::string::npos) << server->Log();
  auto first = Call("web_echo", {{"message", "one"}});
  if (!first.ok) EXPECT_NE(first.content.find("server web"), std::string::npos) << first.content;
  auto again = Call("web_echo", {{"message", "after restart"}});
  EXPECT_TRUE(again.ok) << again.content;
  EXPECT_EQ(again.content, "Echo: after restart");
}

}  // namespace
}  // namespace agentd
