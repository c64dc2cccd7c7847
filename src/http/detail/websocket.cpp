#include "http/detail/websocket.hpp"

#include <chrono>
#include <exception>
#include <optional>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "observe/log.hpp"

namespace agentd::http::detail {

namespace websocket = beast::websocket;
using Clock = std::chrono::steady_clock;
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
// Messages from clients are small (a publish); a larger one fails the read and closes (1009).
constexpr std::size_t kMaxIncomingMessage = 1024 * 1024;

namespace {

using WsStream = websocket::stream<beast::tcp_stream&>;

// Everything runs on the session's loop (one thread), so the write queue needs no lock: a
// writer that finds another one busy waits on `gate_`, which the finishing writer pokes.
class BeastWebSocket final : public WebSocket {
 public:
  BeastWebSocket(WsStream& ws, ServerState& state, Connection& conn)
      : ws_(ws), state_(state), conn_(conn), gate_(ws.get_executor(), Clock::time_point::max()) {
    ws_.text(true);
  }

  asio::awaitable<bool> Send(std::shared_ptr<const std::string> text) override {
    // `text` lives in this frame until the write completes.
    co_return co_await Write(asio::buffer(*text));
  }
  asio::awaitable<bool> Send(std::string text) override {
    co_return co_await Write(asio::buffer(text));
  }

  asio::awaitable<std::optional<std::string>> Receive() override {
    if (failed_) co_return std::nullopt;
    beast::flat_buffer buffer;
    auto [ec, n] = co_await ws_.async_read(buffer, kUseTuple);
    if (ec) {
      // closed (the peer's close frame), reset, idle timeout, cancellation: all end the session.
      failed_ = true;
      co_return std::nullopt;
    }
    co_return beast::buffers_to_string(buffer.data());
  }

  asio::awaitable<void> Close(std::uint16_t code, std::string reason) override {
    co_await LockWrites();
    if (!failed_ && !closing_ && ws_.is_open()) {
      closing_ = true;
      // Sends the close frame, then reads (discarding) until the peer's close frame, bounded by
      // the handshake timeout; a Receive() pending meanwhile completes with `closed`.
      auto [ec] = co_await ws_.async_close(
          websocket::close_reason(static_cast<websocket::close_code>(code), reason), kUseTuple);
      if (ec) failed_ = true;
    }
    UnlockWrites();
  }

  bool closed() const override {
    return failed_ || closing_ || conn_.force_closed ||
           state_.draining.load(std::memory_order_relaxed);
  }
  bool closing() const { return closing_ || failed_; }

 private:
  asio::awaitable<bool> Write(asio::const_buffer bytes) {
    co_await LockWrites();
    bool ok = !failed_ && !closing_ && !conn_.force_closed;
    if (ok) {
      auto [ec, n] = co_await ws_.async_write(bytes, kUseTuple);
      if (ec) failed_ = true;
      ok = !ec;
    }
    UnlockWrites();
    co_return ok;
  }
  asio::awaitable<void> LockWrites() {
    while (writing_) co_await gate_.async_wait(kUseTuple);
    writing_ = true;
  }
  void UnlockWrites() {
    writing_ = false;
    gate_.cancel_one();
  }

  WsStream& ws_;
  ServerState& state_;
  Connection& conn_;
  asio::steady_timer gate_;
  bool writing_ = false;
  bool failed_ = false;
  bool closing_ = false;
};

bool IsCancellation(const std::exception& e) {
  const auto* se = dynamic_cast<const boost::system::system_error*>(&e);
  return se != nullptr && se->code() == asio::error::operation_aborted;
}

}  // namespace

bool IsWebSocketUpgrade(const beast::http::request<beast::http::string_body>& request) {
  return websocket::is_upgrade(request);
}

asio::awaitable<int> RunWebSocket(beast::tcp_stream& stream, ServerState& state, Connection& conn,
                                  const beast::http::request<beast::http::string_body>& request,
                                  Response& resp, const std::string& request_id) {
  // The WebSocket layer keeps its own timers; the tcp_stream's would cut an idle subscriber.
  stream.expires_never();
  WsStream ws(stream);
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = state.options.header_timeout;  // accept and close handshakes
  timeouts.idle_timeout = state.options.idle_timeout;  // pinged at half of it; dead at all of it
  timeouts.keep_alive_pings = true;
  ws.set_option(timeouts);
  ws.read_message_max(kMaxIncomingMessage);
  ws.set_option(websocket::stream_base::decorator(
      [headers = resp.headers](websocket::response_type& res) {
        for (const auto& [name, value] : headers) res.set(name, value);
      }));
  auto [ec] = co_await ws.async_accept(request, kUseTuple);
  if (ec) {
    observe::Logger("http")->debug("websocket handshake failed request_id={} error={}", request_id,
                                   ec.message());
    co_return 400;
  }

  BeastWebSocket socket(ws, state, conn);
  std::uint16_t code = websocket::close_code::normal;
  try {
    co_await resp.websocket(socket);
  } catch (const std::exception& e) {
    if (IsCancellation(e)) co_return 101;  // Stop() gave up on the session: the socket closes
    observe::Logger("http")->error("websocket handler threw request_id={} what={}", request_id,
                                   e.what());
    code = websocket::close_code::internal_error;
  }
  if (!socket.closing()) co_await socket.Close(code, "");
  co_return 101;
}

}  // namespace agentd::http::detail
