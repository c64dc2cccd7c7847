#pragma once
// A small HTTP/1.1 client for loopback server tests: raw writes (so tests control framing,
// pipelining and malformed input) and Beast parsing of the answers. Use inside RunCo, which
// bounds every wait.

#include <chrono>
#include <cstdint>
#include <string>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

namespace agentd::http::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using BeastResponse = bhttp::response<bhttp::string_body>;

inline asio::awaitable<tcp::socket> Connect(std::uint16_t port) {
  tcp::socket s(co_await asio::this_coro::executor);
  co_await s.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                           asio::use_awaitable);
  co_return s;
}

inline asio::awaitable<void> Send(tcp::socket& s, std::string bytes) {
  co_await asio::async_write(s, asio::buffer(bytes), asio::use_awaitable);
}

inline asio::awaitable<BeastResponse> ReadResponse(tcp::socket& s, beast::flat_buffer& buf,
                                                   bool head_request = false) {
  bhttp::response_parser<bhttp::string_body> parser;
  parser.skip(head_request);
  parser.body_limit(64 * 1024 * 1024);
  co_await bhttp::async_read(s, buf, parser, asio::use_awaitable);
  co_return parser.release();
}

// Reads until the peer closes; returns what arrived.
inline asio::awaitable<std::string> ReadUntilClosed(tcp::socket& s) {
  std::string out;
  char tmp[4096];
  while (true) {
    auto [ec, n] = co_await s.async_read_some(asio::buffer(tmp),
                                              asio::as_tuple(asio::use_awaitable));
    out.append(tmp, n);
    if (ec) break;
  }
  co_return out;
}

// One request on a fresh connection, one response back.
inline asio::awaitable<BeastResponse> RoundTrip(std::uint16_t port, std::string request,
                                                bool head_request = false) {
  auto s = co_await Connect(port);
  beast::flat_buffer buf;
  co_await Send(s, std::move(request));
  co_return co_await ReadResponse(s, buf, head_request);
}

inline asio::awaitable<void> Pause(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::use_awaitable);
}

inline std::string Get(std::string_view target, std::string_view extra = "") {
  return std::string("GET ") + std::string(target) + " HTTP/1.1\r\nHost: t\r\n" +
         std::string(extra) + "\r\n";
}

}  // namespace agentd::http::testing
