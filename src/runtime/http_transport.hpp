#pragma once
// The HTTP client the runtime needs (LLM providers, http tools, webhooks), as an interface so
// runtime/ does not depend on http/ (Beast). http/client_pool.hpp implements it with pooled
// keep-alive connections per upstream and TLS; apps/ wires it in.
//
// Threading: Send() may be called concurrently from any event loop; it completes on the
// caller's executor. Cancellation through the awaiting coroutine's cancellation slot.

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "common/error.hpp"

namespace agentd::runtime {

struct HttpReply;

struct HttpCall {
  std::string method = "POST";
  std::string url;  // http:// or https://
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds connect_timeout{10'000};     // resolve + TCP connect + TLS handshake
  std::chrono::milliseconds first_byte_timeout{60'000};  // request sent -> response head
  std::chrono::milliseconds idle_timeout{60'000};        // max gap between body bytes
  // When set, the whole call (connect included) ends by then, whatever the timeouts above
  // would still allow: the bound of one tool attempt, or of a model call over its retries.
  std::optional<std::chrono::steady_clock::time_point> deadline;
  // Optional: called once with the status and headers as soon as the response head arrives,
  // before the first body piece (a caller can then tell an SSE stream from an error body).
  std::function<void(const HttpReply&)> on_head;
};

struct HttpReply {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string Header(std::string_view name) const;  // "" when absent (case-insensitive)
};

// Receives the response body in pieces as they arrive. Returning an error aborts the call
// (the connection is then closed, not reused) and Send returns that error.
using BodySink = std::function<Status(std::string_view bytes)>;

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // Errors: kUnavailable (connect/TLS/IO failure, peer closed mid-body), kTimeout (a timeout
  // or the deadline of HttpCall; the message names which and its value), kCancelled,
  // kInvalidArgument (malformed URL). Any HTTP status is a successful Send: callers decide.
  virtual boost::asio::awaitable<Result<HttpReply>> Send(HttpCall call, BodySink on_body) = 0;
};

}  // namespace agentd::runtime
