#include "loadgen/client.hpp"

#include <netinet/in.h>

#include <array>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "loadgen/sse.hpp"

namespace agentd::loadgen {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {
constexpr auto kUse = asio::as_tuple(asio::use_awaitable);
#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

Error Fail(std::string_view kind, const boost::system::error_code& ec) {
  if (ec == beast::error::timeout) return MakeError(Errc::kTimeout, "timeout");
  return MakeError(Errc::kUnavailable, std::string(kind));
}
}  // namespace

struct Connection::Impl {
  Impl(asio::any_io_executor ex, Target t, std::string src, std::chrono::milliseconds to)
      : stream(ex), target(std::move(t)), source(std::move(src)), timeout(to) {}

  asio::awaitable<Status> Connect() {
    boost::system::error_code ec;
    auto address = asio::ip::make_address(target.host, ec);
    if (ec) co_return MakeError(Errc::kInvalidArgument, "address");
    tcp::endpoint endpoint(address, target.port);
    auto& socket = stream.socket();
    socket.open(endpoint.protocol(), ec);
    if (ec) co_return MakeError(Errc::kResourceExhausted, "socket");
    if (!source.empty()) {
      // Let connect() pick the port for the 4-tuple, not bind(): otherwise each source address
      // still gets only one ephemeral range shared by all destinations.
      int one = 1;
      ::setsockopt(socket.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
      socket.bind(tcp::endpoint(asio::ip::make_address(source, ec), 0), ec);
      if (ec) co_return MakeError(Errc::kUnavailable, "bind");
    }
    stream.expires_after(timeout);
    auto [cec] = co_await stream.async_connect(endpoint, kUse);
    if (cec) co_return Fail("connect", cec);
    socket.set_option(tcp::no_delay(true), ec);
    connected = true;
    co_return Status{};
  }

  http::request<http::string_body> Build(std::string_view method, std::string_view path, std::string_view body) {
    http::request<http::string_body> req{http::string_to_verb(method), path, 11};
    req.set(http::field::host, target.host);
    req.keep_alive(true);
    if (!body.empty() || method == "POST") {
      req.set(http::field::content_type, "application/json");
      req.body() = std::string(body);
    }
    req.prepare_payload();
    return req;
  }

  // Connects if needed and writes; a write on a kept-alive socket the server closed in the
  // meantime is retried once on a new connection.
  asio::awaitable<Status> Send(const http::request<http::string_body>& req) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      const bool reused = connected;
      if (!connected) {
        auto st = co_await Connect();
        if (!st) co_return st;
      }
      stream.expires_after(timeout);
      auto [ec, n] = co_await http::async_write(stream, req, kUse);
      if (!ec) co_return Status{};
      Reset();
      if (!reused) co_return Fail("write", ec);
    }
    co_return MakeError(Errc::kUnavailable, "write");
  }

  void Reset() {
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream.socket().close(ignored);
    buffer.clear();
    connected = false;
  }

  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  Target target;
  std::string source;
  std::chrono::milliseconds timeout;
  bool connected = false;
};

Connection::Connection(asio::any_io_executor ex, Target target, std::string source_address,
                       std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>(ex, std::move(target), std::move(source_address), timeout)) {}

Connection::~Connection() = default;

void Connection::Close() { impl_->Reset(); }

asio::awaitable<Result<HttpReply>> Connection::Request(std::string_view method, std::string_view target,
                                                      std::string_view body) {
  auto& s = *impl_;
  auto req = s.Build(method, target, body);
  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool reused = s.connected;
    auto sent = co_await s.Send(req);
    if (!sent) co_return sent.error();
    http::response_parser<http::string_body> parser;
    parser.body_limit(256u << 20);
    s.stream.expires_after(s.timeout);
    auto [ec, n] = co_await http::async_read(s.stream, s.buffer, parser, kUse);
    if (ec) {
      s.Reset();
      // A kept-alive socket closed by the server between requests reads EOF at once.
      if (reused && ec == http::error::end_of_stream && attempt == 0) continue;
      co_return Fail("read", ec);
    }
    auto& res = parser.get();
    if (!res.keep_alive()) s.Reset();
    co_return HttpReply{static_cast<int>(res.result_int()), std::move(res.body())};
  }
  co_return MakeError(Errc::kUnavailable, "read");
}

asio::awaitable<Result<HttpReply>> Connection::Stream(std::string_view method, std::string_view target,
                                                     std::string_view body, std::function<void(int)> on_headers,
                                                     OnEvent on_event) {
  auto& s = *impl_;
  auto req = s.Build(method, target, body);
  auto sent = co_await s.Send(req);
  if (!sent) co_return sent.error();
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);
  s.stream.expires_after(s.timeout);
  auto [hec, hn] = co_await http::async_read_header(s.stream, s.buffer, parser, kUse);
  if (hec) {
    s.Reset();
    co_return Fail("read_header", hec);
  }
  HttpReply reply;
  reply.status = static_cast<int>(parser.get().result_int());
  if (on_headers) on_headers(reply.status);
  SseDecoder decoder(std::move(on_event));
  std::array<char, 4096> chunk;
  while (!parser.is_done()) {
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
    // read_some, not read: async_read would wait until the 4 KB chunk is full, holding back
    // small events (and the time-to-first-event figure) until more arrive.
    auto [ec, n] = co_await http::async_read_some(s.stream, s.buffer, parser, kUse);
    if (ec == http::error::need_buffer) ec = {};
    const std::size_t got = chunk.size() - parser.get().body().size;
    std::string_view bytes(chunk.data(), got);
    if (reply.status == 200) {
      decoder.Feed(bytes);
    } else {
      reply.body.append(bytes);
    }
    if (ec) {
      s.Reset();
      co_return Fail("read_body", ec);
    }
  }
  if (!parser.get().keep_alive()) s.Reset();
  co_return reply;
}

}  // namespace agentd::loadgen
