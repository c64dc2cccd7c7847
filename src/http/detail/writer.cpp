#include "http/detail/writer.hpp"

#include <exception>
#include <system_error>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "observe/log.hpp"

namespace agentd::http::detail {

namespace http = beast::http;
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

namespace {

// Hands each piece to the socket as one chunk; the coroutine calling Write waits for the
// socket, so a slow client slows its own producer and nobody else.
// Not for concurrent use: one producer writes one piece at a time.
class ChunkWriter final : public BodyWriter {
 public:
  ChunkWriter(beast::tcp_stream& stream, ServerState& state, Connection& conn)
      : stream_(stream), state_(state), conn_(conn) {}

  asio::awaitable<bool> Write(std::string_view bytes) override {
    co_return co_await WriteBuffer(asio::const_buffer(bytes.data(), bytes.size()));
  }
  asio::awaitable<bool> Write(std::shared_ptr<const std::string> bytes) override {
    // `bytes` lives in this frame until the write completes.
    co_return co_await WriteBuffer(asio::buffer(*bytes));
  }
  // Draining counts as closed so that endless streams (join, keep-alive pings) can end early;
  // Write keeps working until the grace period is over.
  bool closed() const override {
    return failed_ || conn_.force_closed || state_.draining.load(std::memory_order_relaxed);
  }
  bool failed() const { return failed_ || conn_.force_closed; }
  void Fail() { failed_ = true; }

 private:
  asio::awaitable<bool> WriteBuffer(asio::const_buffer buffer) {
    if (failed()) co_return false;
    if (buffer.size() == 0) co_return true;  // a zero-size chunk would end the body
    stream_.expires_after(state_.options.write_timeout);
    auto [ec, n] = co_await asio::async_write(stream_, http::make_chunk(buffer), kUseTuple);
    if (ec) failed_ = true;
    co_return !failed_;
  }

  beast::tcp_stream& stream_;
  ServerState& state_;
  Connection& conn_;
  bool failed_ = false;
};

template <class Body>
void FillHead(http::response<Body>& res, const Response& resp, bool keep_alive, unsigned version) {
  res.version(version);
  res.result(static_cast<unsigned>(resp.status));
  for (const auto& [name, value] : resp.headers) res.insert(name, value);
  res.keep_alive(keep_alive);
}

bool IsCancellation(const std::exception& e) {
  const auto* se = dynamic_cast<const boost::system::system_error*>(&e);
  return se != nullptr && se->code() == asio::error::operation_aborted;
}

}  // namespace

asio::awaitable<bool> WriteResponse(beast::tcp_stream& stream, ServerState& state,
                                    Connection& conn, Response& resp, bool head_only,
                                    bool keep_alive, unsigned version,
                                    const std::string& request_id) {
  if (!resp.stream) {
    http::response<http::string_body> res;
    FillHead(res, resp, keep_alive, version);
    // 1xx, 204 and 304 carry no body by definition; prepare_payload insists.
    if (resp.status < 200 || resp.status == 204 || resp.status == 304) resp.body.clear();
    res.body() = std::move(resp.body);
    res.prepare_payload();
    http::response_serializer<http::string_body> sr(res);
    stream.expires_after(state.options.write_timeout);
    if (head_only) {
      // Content-Length stays: it tells the client what a GET would have sent.
      auto [ec, n] = co_await http::async_write_header(stream, sr, kUseTuple);
      co_return !ec;
    }
    auto [ec, n] = co_await http::async_write(stream, sr, kUseTuple);
    co_return !ec;
  }

  http::response<http::empty_body> res;
  FillHead(res, resp, keep_alive, version);
  res.chunked(true);
  http::response_serializer<http::empty_body> sr(res);
  stream.expires_after(state.options.write_timeout);
  {
    auto [ec, n] = co_await http::async_write_header(stream, sr, kUseTuple);
    if (ec) co_return false;
  }
  if (head_only) co_return true;

  ChunkWriter writer(stream, state, conn);
  try {
    co_await resp.stream(writer);
  } catch (const std::exception& e) {
    // The head is out, so a 500 is no longer possible: cut the connection so the client
    // sees a truncated body rather than a clean end.
    if (!IsCancellation(e)) {
      observe::Logger("http")->error("stream producer threw request_id={} what={}", request_id,
                                     e.what());
    }
    writer.Fail();
  }
  if (writer.failed()) co_return false;
  stream.expires_after(state.options.write_timeout);
  auto [ec, n] = co_await asio::async_write(stream, http::make_chunk_last(), kUseTuple);
  co_return !ec;
}

}  // namespace agentd::http::detail
