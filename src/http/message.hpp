#pragma once
// Request and Response as the rest of agentd sees them: plain values, no Beast types, so that
// api/ and apps/ never include Beast (it costs ~30 s per translation unit to compile).
//
// A Response either carries a whole body, or a `stream` coroutine that writes the body in
// pieces through a BodyWriter (SSE, long-poll keep-alives); the server then sends it chunked;
// or a `websocket` coroutine: the server then upgrades the connection (RFC 6455) and hands it
// a WebSocket for as long as the coroutine runs (426 when the request is not an upgrade).

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "model/principal.hpp"

namespace agentd::http {

enum class Method { kGet, kHead, kPost, kPut, kPatch, kDelete, kOptions, kOther };
std::string_view MethodName(Method m);

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// Case-insensitive ASCII comparison, for header names.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

struct Request {
  Method method = Method::kGet;
  std::string target;  // as received: path + query
  std::string path;    // percent-decoded path, no query
  std::vector<std::pair<std::string, std::string>> query;  // percent-decoded, in order
  HeaderList headers;
  std::string body;
  std::string request_id;      // x-request-id from the client, or generated
  std::string remote_address;  // peer IP
  // Filled by the router from `{name}` segments of the matched pattern.
  std::vector<std::pair<std::string, std::string>> path_params;
  // Who the request acts for: set by the API's auth gate (api/gate.hpp) before the handler
  // runs; http/ itself never reads it. Empty tenant = auth off (or a public path).
  model::Principal principal;

  std::optional<std::string_view> Header(std::string_view name) const;
  std::optional<std::string_view> Query(std::string_view name) const;  // first occurrence
  std::vector<std::string_view> QueryAll(std::string_view name) const;
  std::string_view PathParam(std::string_view name) const;  // "" when absent
};

// Writes pieces of a streamed body. Each Write completes when the bytes are handed to the
// socket (so a slow client applies backpressure to the writer, and only to it).
class BodyWriter {
 public:
  virtual ~BodyWriter() = default;
  // false when the client is gone; stop producing then.
  virtual boost::asio::awaitable<bool> Write(std::string_view bytes) = 0;
  // Shares immutable bytes without copying (the same encoded event to many subscribers).
  virtual boost::asio::awaitable<bool> Write(std::shared_ptr<const std::string> bytes) = 0;
  // True once the peer has closed or the server is shutting down.
  virtual bool closed() const = 0;
};

// One upgraded connection, as a handler sees it: whole text messages in and out, no Beast types.
// Pings, pongs and the idle timeout are the server's business. Send and Close may be awaited
// from several coroutines of the same session at once (writes are queued); Receive from one.
class WebSocket {
 public:
  virtual ~WebSocket() = default;
  // Sends one text message; false once the peer is gone or the socket closed.
  virtual boost::asio::awaitable<bool> Send(std::shared_ptr<const std::string> text) = 0;
  virtual boost::asio::awaitable<bool> Send(std::string text) = 0;
  // The next whole message from the client (text or binary); nullopt once the peer closed, the
  // connection failed, or the server is stopping.
  virtual boost::asio::awaitable<std::optional<std::string>> Receive() = 0;
  // Starts the closing handshake with an RFC 6455 code (1000 normal, 1001 going away, 1008
  // policy, 1011 error, 1013 try again later) and a short reason. Further sends fail.
  virtual boost::asio::awaitable<void> Close(std::uint16_t code, std::string reason) = 0;
  // True once closed, failed, or the server is draining.
  virtual bool closed() const = 0;
};

struct Response {
  int status = 200;
  HeaderList headers;
  std::string body;
  std::function<boost::asio::awaitable<void>(BodyWriter&)> stream;
  // Set: upgrade to WebSocket and run this until it returns (status and body are not used;
  // headers go on the 101 answer). The connection closes afterwards.
  std::function<boost::asio::awaitable<void>(WebSocket&)> websocket;

  Response& SetHeader(std::string name, std::string value);

  static Response Json(int status, std::string body);
  static Response Text(int status, std::string body);
  static Response Empty(int status);  // e.g. 204
  static Response Stream(int status, std::string content_type,
                         std::function<boost::asio::awaitable<void>(BodyWriter&)> producer);
  static Response WebSocketUpgrade(std::function<boost::asio::awaitable<void>(WebSocket&)> session);
};

using Handler = std::function<boost::asio::awaitable<Response>(Request&)>;

}  // namespace agentd::http
