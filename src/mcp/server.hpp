#pragma once
// McpServer: agentd's one long-lived session with one configured MCP server, shared by every
// run of the process (never a process or session per call).
//
// Life: Start() spawns a supervisor on `strand` that connects (stdio: spawn the child; both:
// initialize, notifications/initialized, tools/list with every page), then waits until the
// connection dies (the child exits or is killed, an HTTP request cannot reach the server) and
// connects again after 100 ms, then while connecting fails after 250 ms doubling to 30 s.
// Every call in flight when the connection dies fails at once with a tool error naming the
// server and why; a call made while the server is down waits for it up to its timeout.
// notifications/tools/list_changed re-reads the list. Server requests: `ping` is answered,
// anything else gets "method not found" (this client offers no sampling, roots or
// elicitation); progress and logging notifications are ignored.
//
// Threading: Call(), tools(), up() from any event loop; state is under one mutex; a call
// waits on its own loop (timers, a concurrent_channel for the answer), so cancelling a run
// cancels only that run's call, and sends notifications/cancelled for it.
// Tests: tests/integration/mcp_client_test.cpp (real server-everything), tests/unit/mcp/.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/json/value.hpp>

#include "config/config.hpp"
#include "mcp/transport.hpp"
#include "observe/metrics.hpp"
#include "runtime/http_transport.hpp"
#include "runtime/tools.hpp"

namespace agentd::mcp {

class McpServer : public std::enable_shared_from_this<McpServer> {
 public:
  using Signal = boost::asio::experimental::concurrent_channel<void(boost::system::error_code)>;

  // `on_tools_changed` runs (on any thread) after each tools/list and when the server comes
  // up. `metrics` may be null.
  McpServer(config::McpServerSpec spec, boost::asio::any_io_executor strand,
            runtime::HttpTransport& http, observe::Metrics* metrics,
            std::function<void()> on_tools_changed);
  ~McpServer();

  void Start();
  // Ends the session (kills a stdio child); calls in flight fail. Thread-safe, idempotent.
  void Stop();

  // tools/call for `tool` (kind "mcp" of this server). Never fails: errors are ok = false.
  boost::asio::awaitable<runtime::ToolOutcome> Call(const config::ToolSpec& tool,
                                                    boost::json::value args);

  std::shared_ptr<const std::vector<config::ToolSpec>> tools() const;
  std::vector<std::string> refusals() const;  // tools/list entries refused, with why
  const config::McpServerSpec& spec() const { return spec_; }
  bool up() const;
  std::string last_error() const;
  // True once the first connection attempt ended (up or failed).
  bool attempted() const { return attempted_.load(); }
  int pid_for_test() const;
  std::size_t in_flight() const;  // requests sent and not yet answered

 private:
  struct Pending;
  struct Metrics;

  static boost::asio::awaitable<void> Supervise(std::shared_ptr<McpServer> self);
  boost::asio::awaitable<Status> Connect();
  boost::asio::awaitable<Status> Initialize(std::shared_ptr<Transport> transport);
  boost::asio::awaitable<Status> RefreshTools();
  static boost::asio::awaitable<void> RefreshLater(std::shared_ptr<McpServer> self);
  static boost::asio::awaitable<void> SendLater(std::shared_ptr<Transport> transport,
                                                std::string message);
  // One request; kTimeout after `timeout`, kCancelled when the caller is cancelled (then
  // notifications/cancelled goes to the server).
  boost::asio::awaitable<Result<boost::json::value>> Request(std::string method,
                                                             boost::json::value params,
                                                             std::chrono::milliseconds timeout);
  boost::asio::awaitable<bool> WaitUp(std::chrono::steady_clock::time_point deadline);
  void OnMessage(const Transport* from, Message message);
  void OnClosed(const Transport* from, std::string why);
  void Complete(std::int64_t id, Result<boost::json::value> result);
  void SetUp(bool up, std::string error);

  const config::McpServerSpec spec_;
  boost::asio::any_io_executor strand_;
  runtime::HttpTransport& http_;
  std::function<void()> on_tools_changed_;
  std::unique_ptr<Metrics> metrics_;
  std::size_t max_message_bytes_;

  mutable std::mutex mu_;
  std::shared_ptr<Transport> transport_;  // the live connection, null while down
  std::map<std::int64_t, std::shared_ptr<Pending>> pending_;
  std::vector<std::shared_ptr<Signal>> up_waiters_;
  std::shared_ptr<const std::vector<config::ToolSpec>> tools_;
  std::vector<std::string> refusals_;
  bool up_ = false;
  bool stopping_ = false;
  std::string last_error_ = "not connected yet";
  std::atomic<std::int64_t> next_id_{1};
  std::atomic<bool> attempted_{false};
  Signal closed_;  // the live connection died, or Stop()
};

}  // namespace agentd::mcp
