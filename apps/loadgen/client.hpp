#pragma once
// The loadgen's own HTTP/1.1 client: one keep-alive TCP connection per virtual user, so that
// thousands of SSE streams can be held at once (http::ClientPool is for upstream calls and
// pools connections, which is the opposite of what a load generator wants). Optionally binds
// to a source address in 127.0.0.0/8 before connecting, to spread ports over addresses.
// One Connection lives on one executor; calls must not overlap. Failures come back as an
// Error whose message is a short kind ("connect", "read", "timeout", ...) used as a counter key.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "common/error.hpp"

namespace agentd::loadgen {

struct Target {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
};

struct HttpReply {
  int status = 0;
  std::string body;
};

class Connection {
 public:
  using OnEvent = std::function<void(std::string_view name, std::string_view data)>;

  Connection(boost::asio::any_io_executor ex, Target target, std::string source_address,
             std::chrono::milliseconds timeout);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Sends one request and reads the whole response (reconnecting once if a kept-alive
  // connection turned out closed).
  boost::asio::awaitable<Result<HttpReply>> Request(std::string_view method, std::string_view target,
                                                    std::string_view body);
  // Sends one request and decodes the body as SSE, calling on_headers once the status line
  // is in and on_event per event, until the body ends. The reply's body stays empty unless
  // the status is not 200 (then it holds the error body).
  boost::asio::awaitable<Result<HttpReply>> Stream(std::string_view method, std::string_view target,
                                                   std::string_view body, std::function<void(int)> on_headers,
                                                   OnEvent on_event);
  // Closes the socket: a pending Stream() ends with an error (used to drop idle subscribers).
  void Close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace agentd::loadgen
