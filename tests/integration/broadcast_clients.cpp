#include "integration/broadcast_clients.hpp"

#include <string_view>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json/parse.hpp>

namespace agentd::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace json = boost::json;
using tcp = asio::ip::tcp;
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

namespace {

asio::awaitable<bool> Connect(beast::tcp_stream& stream, std::uint16_t port) {
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
  auto [ec] = co_await stream.async_connect(ep, kUseTuple);
  co_return !ec;
}

// Records one message's JSON; true when it was the end marker.
bool Record(Follower& out, std::string_view text) {
  boost::system::error_code ec;
  auto message = json::parse(text, ec);
  if (ec || !message.is_object() || !message.as_object().contains("data")) {
    out.error = "not a message: " + std::string(text);
    return true;
  }
  const auto& data = message.as_object().at("data");
  if (data.is_object() && data.as_object().contains("kind") &&
      data.as_object().at("kind") == "end") {
    out.finished = true;
    return true;
  }
  out.data.push_back(data);
  return false;
}

}  // namespace

asio::awaitable<void> FollowSse(std::uint16_t port, std::string key, std::string channel,
                                std::shared_ptr<Follower> out) {
  beast::tcp_stream stream(co_await asio::this_coro::executor);
  if (!co_await Connect(stream, port)) {
    out->error = "connect failed";
    co_return;
  }
  http::request<http::empty_body> req(http::verb::get, "/broadcast/" + channel + "/stream", 11);
  req.set(http::field::host, "127.0.0.1");
  req.set("x-api-key", key);
  if (auto [ec, n] = co_await http::async_write(stream, req, kUseTuple); ec) {
    out->error = "write failed";
    co_return;
  }
  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);
  if (auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, kUseTuple); ec) {
    out->error = "no response head: " + ec.message();
    co_return;
  }
  out->status = static_cast<int>(parser.get().result_int());
  if (out->status != 200) co_return;
  out->connected = true;
  // The body arrives de-chunked piece by piece; frames end with an empty line.
  std::string pending;
  char chunk[8192];
  for (;;) {
    parser.get().body().data = chunk;
    parser.get().body().size = sizeof(chunk);
    auto [ec, n] = co_await http::async_read_some(stream, buffer, parser, kUseTuple);
    if (ec && ec != http::error::need_buffer) {
      out->error = "stream ended: " + ec.message();
      co_return;
    }
    pending.append(chunk, sizeof(chunk) - parser.get().body().size);
    std::size_t end;
    while ((end = pending.find("\n\n")) != std::string::npos) {
      std::string frame = pending.substr(0, end);
      pending.erase(0, end + 2);
      // Heartbeats are `: hb\n` comments; they may prefix a frame.
      while (frame.rfind(": hb\n", 0) == 0) frame.erase(0, 5);
      if (frame.rfind("event: message\ndata: ", 0) == 0) {
        if (Record(*out, std::string_view(frame).substr(21))) co_return;
      } else if (!frame.empty()) {
        out->error = "unexpected frame: " + frame;
        co_return;
      }
    }
    if (parser.is_done()) {
      out->error = "body ended";
      co_return;
    }
  }
}

asio::awaitable<void> FollowWebSocket(std::uint16_t port, std::string key, std::string channel,
                                      std::shared_ptr<Follower> out,
                                      std::vector<std::string> publish) {
  websocket::stream<beast::tcp_stream> ws(co_await asio::this_coro::executor);
  if (!co_await Connect(beast::get_lowest_layer(ws), port)) {
    out->error = "connect failed";
    co_return;
  }
  ws.set_option(websocket::stream_base::decorator(
      [key](websocket::request_type& req) { req.set("x-api-key", key); }));
  websocket::response_type response;
  auto [hec] = co_await ws.async_handshake(response, "127.0.0.1", "/broadcast/" + channel + "/ws",
                                           kUseTuple);
  out->status = static_cast<int>(response.result_int());
  if (hec) {
    out->error = "handshake failed: " + hec.message();
    co_return;
  }
  out->connected = true;
  for (auto& text : publish) {
    if (auto [ec, n] = co_await ws.async_write(asio::buffer(text), kUseTuple); ec) {
      out->error = "publish failed";
      co_return;
    }
  }
  for (;;) {
    beast::flat_buffer buffer;
    auto [ec, n] = co_await ws.async_read(buffer, kUseTuple);
    if (ec) {
      out->error = "socket ended: " + ec.message();
      co_return;
    }
    if (Record(*out, beast::buffers_to_string(buffer.data()))) break;
  }
  co_await ws.async_close(websocket::close_code::normal, kUseTuple);
}

namespace {

asio::awaitable<PostResult> Exchange(std::uint16_t port, std::string key, http::verb verb,
                                     std::string target, std::string body) {
  PostResult result;
  beast::tcp_stream stream(co_await asio::this_coro::executor);
  if (!co_await Connect(stream, port)) co_return result;
  http::request<http::string_body> req(verb, target, 11);
  req.set(http::field::host, "127.0.0.1");
  if (!body.empty()) req.set(http::field::content_type, "application/json");
  req.set("x-api-key", key);
  req.body() = std::move(body);
  req.prepare_payload();
  if (auto [ec, n] = co_await http::async_write(stream, req, kUseTuple); ec) co_return result;
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  if (auto [ec, n] = co_await http::async_read(stream, buffer, res, kUseTuple); ec) {
    co_return result;
  }
  result.status = static_cast<int>(res.result_int());
  result.body = res.body();
  if (auto it = res.find(http::field::retry_after); it != res.end()) {
    result.retry_after = std::string(it->value());
  }
  co_return result;
}

}  // namespace

asio::awaitable<PostResult> PostJson(std::uint16_t port, std::string key, std::string target,
                                     std::string body) {
  return Exchange(port, std::move(key), http::verb::post, std::move(target), std::move(body));
}

asio::awaitable<PostResult> PlainGet(std::uint16_t port, std::string key, std::string target) {
  return Exchange(port, std::move(key), http::verb::get, std::move(target), {});
}

}  // namespace agentd::testing
