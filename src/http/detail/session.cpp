#include "http/detail/session.hpp"

#include <chrono>
#include <exception>
#include <string>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "http/detail/cors.hpp"
#include "http/detail/framing.hpp"
#include "http/detail/target.hpp"
#include "http/detail/websocket.hpp"
#include "http/detail/writer.hpp"
#include "observe/log.hpp"

namespace agentd::http::detail {

namespace http = beast::http;
using Clock = std::chrono::steady_clock;
using tcp = asio::ip::tcp;
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kReadChunk = 16 * 1024;

namespace {

Method ToMethod(http::verb v) {
  switch (v) {
    case http::verb::get: return Method::kGet;
    case http::verb::head: return Method::kHead;
    case http::verb::post: return Method::kPost;
    case http::verb::put: return Method::kPut;
    case http::verb::patch: return Method::kPatch;
    case http::verb::delete_: return Method::kDelete;
    case http::verb::options: return Method::kOptions;
    default: return Method::kOther;
  }
}

enum class ReadFailure { kPeerGone, kTimeout, kBadRequest, kHeadersTooLarge, kBodyTooLarge };

// `timed_out`: the read's ReadDeadline expired (its error is then operation_aborted).
ReadFailure Classify(const beast::error_code& ec, bool timed_out) {
  if (timed_out) return ReadFailure::kTimeout;
  if (ec.category() != http::make_error_code(http::error::bad_target).category()) {
    return ReadFailure::kPeerGone;  // timeout, reset, eof, cancelled
  }
  if (ec == http::error::end_of_stream || ec == http::error::partial_message ||
      ec == http::error::short_read) {
    return ReadFailure::kPeerGone;
  }
  if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
    return ReadFailure::kHeadersTooLarge;
  }
  if (ec == http::error::body_limit) return ReadFailure::kBodyTooLarge;
  return ReadFailure::kBadRequest;
}

// `ec`: the parser's error, named in a 400's detail (Beast's messages are short and fixed).
Response ErrorResponseFor(ReadFailure f, std::size_t body_limit, const beast::error_code& ec = {}) {
  switch (f) {
    case ReadFailure::kHeadersTooLarge:
      return Response::Json(431, ErrorJson("headers_too_large",
                                           "request line and headers exceed the header limit"));
    case ReadFailure::kBodyTooLarge:
      return Response::Json(413, ErrorJson("payload_too_large",
                                           "request body exceeds " + std::to_string(body_limit) +
                                               " bytes"));
    case ReadFailure::kTimeout:
      return Response::Json(408, ErrorJson("request_timeout",
                                           "the request did not arrive in time"));
    default:
      return Response::Json(400, ErrorJson("bad_request",
                                           ec ? "malformed request: " + ec.message()
                                              : std::string("malformed request")));
  }
}

// A deadline for one read that, unlike tcp_stream's own timeout (which closes the socket),
// only cancels the read, so a 408 can still be written. The stream's timer is switched off
// meanwhile. Event loops are single-threaded, so Disarm() after the read completes always runs
// before a timer handler that is already queued: that handler then touches nothing.
class ReadDeadline {
 public:
  ReadDeadline(beast::tcp_stream& stream, Clock::time_point deadline)
      : state_(std::make_shared<State>()), timer_(stream.get_executor(), deadline) {
    stream.expires_never();
    timer_.async_wait([state = state_, socket = &stream.socket()](const beast::error_code& ec) {
      if (ec || !state->armed) return;
      state->expired = true;
      beast::error_code ignored;
      socket->cancel(ignored);  // the read completes with operation_aborted
    });
  }
  ~ReadDeadline() { Disarm(); }
  ReadDeadline(const ReadDeadline&) = delete;
  ReadDeadline& operator=(const ReadDeadline&) = delete;

  void Disarm() {
    state_->armed = false;
    timer_.cancel();
  }
  bool expired() const { return state_->expired; }

 private:
  struct State {
    bool armed = true;
    bool expired = false;
  };
  std::shared_ptr<State> state_;
  asio::steady_timer timer_;
};

// After answering an error with the request body unread, the client may still be sending.
// Closing at once would make the kernel reset the connection, and the reset can destroy our
// answer before the client reads it; so stop sending, then read and drop for a short while.
asio::awaitable<void> LingeringClose(beast::tcp_stream& stream, beast::flat_buffer& buffer) {
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  std::size_t drained = 0;
  auto deadline = Clock::now() + std::chrono::milliseconds(500);
  while (drained < 4 * 1024 * 1024) {
    buffer.clear();
    stream.expires_at(deadline);
    auto [ec, n] = co_await stream.async_read_some(buffer.prepare(kReadChunk), kUseTuple);
    if (ec) break;
    drained += n;
  }
}

asio::awaitable<Response> CallHandler(const Handler& handler, Request& request) {
  try {
    co_return co_await handler(request);
  } catch (const boost::system::system_error& e) {
    // Stop() cancelling a handler past the grace period is not a handler bug.
    if (e.code() == asio::error::operation_aborted) {
      observe::Logger("http")->debug("handler cancelled request_id={}", request.request_id);
    } else {
      observe::Logger("http")->error("handler threw request_id={} method={} target={} what={}",
                                     request.request_id, MethodName(request.method),
                                     request.target, e.what());
    }
  } catch (const std::exception& e) {
    observe::Logger("http")->error("handler threw request_id={} method={} target={} what={}",
                                   request.request_id, MethodName(request.method),
                                   request.target, e.what());
  } catch (...) {
    observe::Logger("http")->error("handler threw request_id={} what=unknown", request.request_id);
  }
  co_return Response::Json(500, ErrorJson("internal", "internal server error"));
}

asio::awaitable<Response> Dispatch(ServerState& state, Request& request, std::string& route) {
  if (request.method == Method::kOptions) {
    route = "preflight";
    co_return PreflightResponse(request);
  }
  auto match = state.router.Find(request);
  if (match.handler == nullptr) {
    route = "unmatched";
    if (match.status == 405) {
      auto r = Response::Json(405, ErrorJson("method_not_allowed", "405 Method Not Allowed"));
      r.SetHeader("Allow", match.allow);
      co_return r;
    }
    co_return Response::Json(404, ErrorJson("not_found", "404 Not Found"));
  }
  route = match.route;
  co_return co_await CallHandler(*match.handler, request);
}

// Reads, answers and logs one request whose first bytes are in `buffer`.
// Returns true when the connection may carry another request.
asio::awaitable<bool> ServeOne(ServerState& state, Connection& conn, beast::tcp_stream& stream,
                               beast::flat_buffer& buffer, const std::string& remote,
                               Clock::time_point head_deadline) {
  const auto& opts = state.options;
  http::request_parser<http::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(opts.header_limit_bytes));
  // No limit while reading the head: Beast would reject a large Content-Length before we can
  // read the headers (CORS origin, request id) needed to answer it properly.
  parser.body_limit(boost::none);
  ReadDeadline head_timer(stream, head_deadline);
  auto [head_ec, head_bytes] = co_await http::async_read_header(stream, buffer, parser, kUseTuple);
  head_timer.Disarm();
  auto started = Clock::now();

  Request req;
  req.remote_address = remote;
  Response resp;
  std::string route = "none";
  bool close_after = false;  // the request (or its body) was not fully read
  bool head_only = false;
  unsigned version = 11;
  bool client_keep_alive = false;
  bool upgrade = false;  // the handler answered with a WebSocket session and the client asked

  if (head_ec) {
    auto failure = Classify(head_ec, head_timer.expired());
    if (failure == ReadFailure::kPeerGone) co_return false;
    resp = ErrorResponseFor(failure, opts.body_limit_bytes, head_ec);
    close_after = true;
  } else {
    auto& msg = parser.get();
    req.method = ToMethod(msg.method());
    req.target = std::string(msg.target());
    req.headers.reserve(16);
    for (const auto& field : msg) {
      req.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    req.request_id = ChooseRequestId(req.Header("x-request-id"));
    version = msg.version();
    client_keep_alive = msg.keep_alive();
    head_only = req.method == Method::kHead;
    auto content_length = parser.content_length();

    if (auto refusal = CheckFraming(req, version)) {
      // The body's length is unknown (or disputed): answer, then close without reading it.
      resp = std::move(*refusal);
      close_after = true;
    } else if (!ParseTarget(req.target, req.path, req.query)) {
      resp = Response::Json(400, ErrorJson("bad_request", "malformed request target"));
      close_after = !parser.is_done();
    } else if (content_length && *content_length > opts.body_limit_bytes) {
      resp = ErrorResponseFor(ReadFailure::kBodyTooLarge, opts.body_limit_bytes);
      close_after = true;
    } else {
      bool body_ok = true;
      if (!parser.is_done()) {
        parser.body_limit(opts.body_limit_bytes);
        auto expect = req.Header("expect");
        if (expect && EqualsIgnoreCase(*expect, "100-continue")) {
          // The body is within the limit, so invite it.
          http::response<http::empty_body> cont(http::status::continue_, version);
          stream.expires_after(opts.write_timeout);
          auto [ec, n] = co_await http::async_write(stream, cont, kUseTuple);
          if (ec) co_return false;
        }
        ReadDeadline body_timer(stream, Clock::now() + opts.read_timeout);
        auto [body_ec, n] = co_await http::async_read(stream, buffer, parser, kUseTuple);
        body_timer.Disarm();
        if (body_ec) {
          auto failure = Classify(body_ec, body_timer.expired());
          if (failure == ReadFailure::kPeerGone) co_return false;
          resp = ErrorResponseFor(failure, opts.body_limit_bytes, body_ec);
          close_after = true;
          body_ok = false;
        }
      }
      if (body_ok) {
        req.body = std::move(parser.get().body());
        resp = co_await Dispatch(state, req, route);
        if (resp.websocket) {
          upgrade = IsWebSocketUpgrade(parser.get());
          if (!upgrade) {
            resp = Response::Json(426, ErrorJson("upgrade_required",
                                                 "this endpoint speaks WebSocket only"));
            resp.SetHeader("Upgrade", "websocket");
          }
        }
      }
    }
  }

  AddCorsHeaders(opts.cors_origins, req.Header("origin"), resp.headers);
  if (!req.request_id.empty()) resp.SetHeader("X-Request-Id", req.request_id);
  bool keep_alive = client_keep_alive && !close_after && !state.draining.load();
  int status = resp.status;
  bool ok = false;
  if (upgrade) {
    // The connection belongs to the WebSocket from here on and is closed after it.
    status = co_await RunWebSocket(stream, state, conn, parser.get(), resp, req.request_id);
    keep_alive = false;
  } else {
    // A streamed response (SSE, /wait) may last minutes: give the read buffer's 16 KB back
    // meanwhile unless pipelined bytes wait in it. At 10,000 concurrent streams that is
    // 160 MB; the next request on the connection allocates it again.
    if (resp.stream && buffer.size() == 0) buffer.shrink_to_fit();
    ok = co_await WriteResponse(stream, state, conn, resp, head_only, keep_alive, version,
                                req.request_id);
  }

  auto seconds = std::chrono::duration<double>(Clock::now() - started).count();
  state.CountRequest(route, head_ec ? "OTHER" : MethodName(req.method), status, seconds);
  observe::Logger("http")->debug(
      "request method={} target={} status={} duration_ms={:.3f} request_id={} remote={}",
      head_ec ? "-" : MethodName(req.method), req.target, status, seconds * 1000.0,
      req.request_id, remote);

  if (ok && close_after) co_await LingeringClose(stream, buffer);
  co_return ok && keep_alive;
}

// The 408 for a connection that sent no request within header_timeout of its accept.
asio::awaitable<void> AnswerTimeout(ServerState& state, Connection& conn, beast::tcp_stream& stream,
                                    beast::flat_buffer& buffer, const std::string& remote) {
  auto started = Clock::now();
  Response resp = ErrorResponseFor(ReadFailure::kTimeout, state.options.body_limit_bytes);
  AddCorsHeaders(state.options.cors_origins, std::nullopt, resp.headers);
  bool ok = co_await WriteResponse(stream, state, conn, resp, false, false, 11, "");
  auto seconds = std::chrono::duration<double>(Clock::now() - started).count();
  state.CountRequest("none", "OTHER", 408, seconds);
  observe::Logger("http")->debug("request timed out status=408 remote={}", remote);
  if (ok) co_await LingeringClose(stream, buffer);
}

}  // namespace

asio::awaitable<void> RunSession(std::shared_ptr<ServerState> state,
                                 std::shared_ptr<Connection> conn, tcp::socket socket) {
  auto accepted = Clock::now();
  std::string remote;
  {
    beast::error_code ec;
    auto ep = socket.remote_endpoint(ec);
    if (!ec) remote = ep.address().to_string();
  }
  beast::tcp_stream stream(std::move(socket));
  conn->stream = &stream;
  state->open.fetch_add(1, std::memory_order_relaxed);
  state->open_gauge.Add(1);
  // Runs however the coroutine ends (returns, throws, or its frame is destroyed).
  struct Release {
    ServerState& s;
    Connection& c;
    ~Release() {
      c.stream = nullptr;
      s.open.fetch_sub(1, std::memory_order_relaxed);
      s.open_gauge.Add(-1);
    }
  } release{*state, *conn};

  beast::flat_buffer buffer;
  bool first = true;
  while (!state->draining.load()) {
    conn->idle = true;
    // The first request's head must arrive within header_timeout of the accept; later ones
    // get idle_timeout for their first byte, then header_timeout for the rest of the head.
    if (buffer.size() == 0 && first) {
      // Nothing yet: the header_timeout runs from the accept, and ends with a 408.
      ReadDeadline deadline(stream, accepted + state->options.header_timeout);
      auto [ec, n] = co_await stream.async_read_some(buffer.prepare(kReadChunk), kUseTuple);
      deadline.Disarm();
      if (ec) {
        if (deadline.expired()) co_await AnswerTimeout(*state, *conn, stream, buffer, remote);
        break;
      }
      buffer.commit(n);
    } else if (buffer.size() == 0) {
      // An idle keep-alive connection is closed without an answer: no request is pending.
      stream.expires_at(Clock::now() + state->options.idle_timeout);
      auto [ec, n] = co_await stream.async_read_some(buffer.prepare(kReadChunk), kUseTuple);
      if (ec) break;
      buffer.commit(n);
    }
    conn->idle = false;
    auto head_deadline =
        first ? accepted + state->options.header_timeout : Clock::now() + state->options.header_timeout;
    first = false;
    if (!co_await ServeOne(*state, *conn, stream, buffer, remote, head_deadline)) break;
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<void> RejectConnection(std::shared_ptr<ServerState> state, tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  auto resp = Response::Json(503, ErrorJson("unavailable", "too many connections"));
  resp.SetHeader("Retry-After", "1");
  AddCorsHeaders(state->options.cors_origins, std::nullopt, resp.headers);
  Connection conn;
  co_await WriteResponse(stream, *state, conn, resp, false, false, 11, "");
  beast::flat_buffer buffer;
  co_await LingeringClose(stream, buffer);
}

}  // namespace agentd::http::detail
