#pragma once
// The HTTP/1.1 server: Beast + Asio C++20 coroutines, one coroutine per connection, spread
// over the EventLoops. Keep-alive, pipelining (requests answered in order), body limit (413),
// header/idle/read timeouts, Expect: 100-continue, CORS on every response, request ids,
// access log at debug, per-route metrics. Graceful Stop(): stop accepting, let in-flight
// requests finish up to a deadline, then close what is left.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "common/error.hpp"
#include "http/event_loops.hpp"
#include "http/router.hpp"
#include "observe/metrics.hpp"

namespace agentd::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8123;          // 0 = any free port (tests)
  std::size_t body_limit_bytes = 10 * 1024 * 1024;
  std::chrono::milliseconds header_timeout{10'000};  // whole request head must arrive
  std::chrono::milliseconds read_timeout{30'000};    // whole body must arrive
  std::chrono::milliseconds idle_timeout{60'000};    // keep-alive idle between requests
  std::chrono::milliseconds shutdown_grace{10'000};  // in-flight requests get this long on Stop
  std::size_t max_connections = 10'000;
  std::vector<std::string> cors_origins = {"*"};  // "*" or exact origins
  std::chrono::milliseconds write_timeout{30'000};  // each write (head, body, one chunk)
  std::size_t header_limit_bytes = 64 * 1024;       // request line + headers; over: 431
};

class Server {
 public:
  Server(ServerOptions options, EventLoops& loops, const Router& router,
         observe::Metrics& metrics);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts accepting. Returns the bound port (useful with port 0). Fails with
  // kUnavailable naming the address when the bind fails.
  Result<std::uint16_t> Start();
  // Stops accepting, waits up to shutdown_grace for in-flight requests and streams, then
  // closes every connection. Safe to call from any thread; returns when all are closed.
  void Stop();
  std::size_t open_connections() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace agentd::http
