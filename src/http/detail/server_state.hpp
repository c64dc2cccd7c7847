#pragma once
// What the server's coroutines share. Private to http/: includes Asio and Beast.
//
// Thread rules: ServerState is shared by every loop. Its atomics and the mutex-guarded
// registry may be touched from any thread; a Connection's plain fields are touched only on
// that connection's loop (Stop() posts there rather than reaching in).

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_set>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "http/event_loops.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "observe/metrics.hpp"

namespace agentd::http::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;

struct Connection {
  asio::any_io_executor executor;
  beast::tcp_stream* stream = nullptr;  // set while the session coroutine owns a stream
  asio::cancellation_signal cancel;     // bound to the session coroutine
  bool idle = true;                     // waiting for the first byte of a request
  bool force_closed = false;            // Stop() gave up waiting; streams must end
};

struct ServerState {
  ServerState(ServerOptions o, EventLoops& l, const Router& r, observe::Metrics& m);

  ServerOptions options;
  EventLoops& loops;
  const Router& router;
  observe::Metrics& metrics;
  observe::Gauge& open_gauge;

  std::atomic<std::size_t> open{0};  // sessions holding a socket (rejections excluded)
  std::atomic<bool> draining{false};
  std::atomic<bool> stop_called{false};
  std::optional<asio::ip::tcp::acceptor> acceptor;  // on loop 0; touched only there after Start

  // Every coroutine the server spawned (accept loop, sessions, rejections) is counted here;
  // Stop() returns once the count is back to zero.
  std::mutex mu;
  std::condition_variable cv;
  std::size_t tasks = 0;
  std::unordered_set<std::shared_ptr<Connection>> connections;

  void TaskStarted(const std::shared_ptr<Connection>& conn);
  void TaskEnded(const std::shared_ptr<Connection>& conn);

  void CountRequest(std::string_view route, std::string_view method, int status,
                    double seconds);
};

}  // namespace agentd::http::detail
