#pragma once
// ClientPool: the HTTP/1.1 client behind runtime::HttpTransport (LLM providers, http tools,
// webhooks). Beast + Asio coroutines; plain http and https (peer certificates verified against
// the system store, SNI, host name checked).
//
// Connections: keep-alive, pooled per (event loop, scheme, host, port). A socket belongs to one
// io_context, so each loop keeps its own idle list (an Asio service of that io_context: idle
// sockets die with their loop, never after it). At most `max_idle_per_upstream` idle
// connections per upstream and loop; an idle connection older than `idle_expiry` is closed
// instead of reused. A connection goes back to the pool only after a complete response whose
// peer allows keep-alive; anything else (body not fully read, error, sink abort, cancellation,
// timeout) closes it. A reused connection that turns out stale (the peer closed it while idle:
// the request fails before any response byte) is retried once on a fresh connection.
//
// Threading: Send() may be called concurrently from any event loop and completes on the
// caller's executor. The ClientPool itself may be destroyed while idle connections remain in
// the loops' pools (they only hold OpenSSL-refcounted state), but not while a Send runs.
// Cancellation: the awaiting coroutine's cancellation slot (terminal) aborts the call with
// kCancelled and closes its connection.
//
// Tests: tests/unit/http/client_pool_test.cpp (loopback, real http::Server on port 0).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

#include <boost/asio/awaitable.hpp>

#include "common/error.hpp"
#include "runtime/http_transport.hpp"

namespace agentd::http {

struct ClientPoolOptions {
  std::size_t max_idle_per_upstream = 16;
  std::chrono::milliseconds idle_expiry{30'000};
  std::size_t header_limit_bytes = 64 * 1024;  // response head
  // Only for tests against self-signed loopback servers: never disable in production.
  bool verify_peer = true;
};

class ClientPool final : public runtime::HttpTransport {
 public:
  explicit ClientPool(ClientPoolOptions options = {});
  ~ClientPool() override;
  ClientPool(const ClientPool&) = delete;
  ClientPool& operator=(const ClientPool&) = delete;

  // See runtime::HttpTransport. Errors: kInvalidArgument (URL not http(s)://host[:port]/...),
  // kUnavailable (resolve/connect/TLS/IO failure, peer closed mid-body; the message names
  // the URL and the phase), kTimeout (connect, first byte or idle gap, or HttpCall::deadline;
  // the message names the limit), kCancelled, or the
  // error the BodySink returned.
  boost::asio::awaitable<Result<runtime::HttpReply>> Send(runtime::HttpCall call,
                                                          runtime::BodySink on_body) override;

  // Counters for tests and metrics: connections opened so far, and calls that reused one.
  std::uint64_t connections_opened() const;
  std::uint64_t connections_reused() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace agentd::http
