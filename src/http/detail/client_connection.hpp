#pragma once
// One client connection (plain TCP or TLS over TCP) and the two coroutines that use it:
// Connect() and Exchange(). Private to http/client_pool.cpp.

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "common/error.hpp"
#include "runtime/http_transport.hpp"

namespace agentd::http::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;

struct Upstream {
  bool tls = false;
  std::string host;
  std::string port;    // "443"
  std::string target;  // path + query, "/" at least
  std::string host_header;
};

// Parses http(s)://host[:port][/path][?query]. kInvalidArgument otherwise.
Result<Upstream> ParseUpstream(const std::string& url);

struct ClientConnection {
  // Exactly one of the two holds the socket.
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;  // bytes read past the last response stay with the connection
  std::chrono::steady_clock::time_point idle_since;

  beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }
};

// Resolves, connects and (for https) handshakes within `call.connect_timeout`.
asio::awaitable<Result<std::unique_ptr<ClientConnection>>> Connect(const Upstream& upstream,
                                                                   const runtime::HttpCall& call,
                                                                   asio::ssl::context& ssl,
                                                                   bool verify_peer);

struct ExchangeOutcome {
  Result<runtime::HttpReply> reply = MakeError(Errc::kInternal, "unset");
  bool reusable = false;  // complete response, keep-alive: may go back to the pool
  bool stale = false;     // failed before any response byte: a reused socket may be dead
};

// Sends the request and streams the response body to `on_body`.
asio::awaitable<ExchangeOutcome> Exchange(ClientConnection& conn, const Upstream& upstream,
                                          const runtime::HttpCall& call,
                                          const runtime::BodySink& on_body,
                                          std::size_t header_limit);

}  // namespace agentd::http::detail
