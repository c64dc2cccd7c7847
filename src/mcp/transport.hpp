#pragma once
// How an McpServer reaches its server: a child process over stdio (stdio_transport.hpp) or
// Streamable HTTP (streamable_http.hpp). A transport moves encoded JSON-RPC messages; the
// session logic (ids, timeouts, initialize) is McpServer's.
//
// Threading: Send() may be called from any event loop; callbacks run on the transport's
// strand (stdio) or on the sender's loop (HTTP), so they must be thread-safe.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "common/error.hpp"
#include "mcp/jsonrpc.hpp"

namespace agentd::mcp {

struct TransportCallbacks {
  std::function<void(Message)> on_message;
  // A line or event that is not JSON-RPC (counted and logged, then ignored).
  std::function<void(std::string why)> on_garbage;
  // A message over the size bound: `id` when it could be read (that request then fails).
  std::function<void(std::optional<std::int64_t> id, std::size_t bytes)> on_oversized;
  // The connection is gone (child exited, or Close()); called once.
  std::function<void(std::string why)> on_closed;
};

class Transport {
 public:
  virtual ~Transport() = default;
  // stdio: spawns the child and starts reading its stdout. HTTP: nothing to connect yet.
  virtual Status Open(TransportCallbacks callbacks) = 0;
  // Sends one message; `request_id` is set for requests (HTTP waits for that answer, feeding
  // every message of the reply to on_message first). Errors: kUnavailable (not connected,
  // refused, HTTP 4xx/5xx), kResourceExhausted (stdio write queue full, reply too large),
  // kNotFound (HTTP 404 for our session: the server forgot it; initialize again), kTimeout,
  // kCancelled.
  virtual boost::asio::awaitable<Status> Send(std::string message,
                                              std::optional<std::int64_t> request_id) = 0;
  // Ends the connection (stdio: kills the child's process group); on_closed follows.
  virtual void Close() = 0;
  // HTTP: forget the session id (before initializing again); the negotiated version.
  virtual void ResetSession() {}
  virtual void SetProtocolVersion(std::string) {}
  virtual int pid() const { return 0; }  // stdio: the child's pid while it runs
};

}  // namespace agentd::mcp
