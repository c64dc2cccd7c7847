#include "http/detail/client_connection.hpp"

#include <array>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/parse.hpp>
#include <fmt/format.h>
#include <openssl/ssl.h>

namespace agentd::http::detail {
namespace {

namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kReadChunk = 16 * 1024;

// When one phase of a call must end: its own timeout, or the call's deadline if that comes
// first. Kept to name the limit that fired in the error.
struct PhaseLimit {
  std::chrono::steady_clock::time_point at;
  std::chrono::milliseconds timeout{0};
  std::string_view timeout_name;  // "connect timeout", "first-byte timeout", "idle timeout"
  bool by_deadline = false;
};

PhaseLimit LimitOf(const runtime::HttpCall& call, std::chrono::milliseconds timeout,
                   std::string_view timeout_name) {
  PhaseLimit limit{std::chrono::steady_clock::now() + timeout, timeout, timeout_name, false};
  if (call.deadline && *call.deadline < limit.at) {
    limit.at = *call.deadline;
    limit.by_deadline = true;
  }
  return limit;
}

Error IoError(const boost::system::error_code& ec, std::string_view phase,
              const Upstream& upstream, const PhaseLimit* limit = nullptr) {
  if (ec == asio::error::operation_aborted) {
    return MakeError(Errc::kCancelled, fmt::format("{} {}: cancelled", upstream.host, phase));
  }
  if (ec == beast::error::timeout) {
    if (limit != nullptr && limit->by_deadline) {
      return MakeError(Errc::kTimeout, fmt::format("{}:{}: {}: the call's deadline passed",
                                                   upstream.host, upstream.port, phase));
    }
    if (limit != nullptr) {
      return MakeError(Errc::kTimeout,
                       fmt::format("{}:{}: {}: nothing for {} ms ({})", upstream.host,
                                   upstream.port, phase, limit->timeout.count(),
                                   limit->timeout_name));
    }
    return MakeError(Errc::kTimeout, fmt::format("{}:{}: {} timed out", upstream.host,
                                                 upstream.port, phase));
  }
  return MakeError(Errc::kUnavailable,
                   fmt::format("{}:{}: {}: {}", upstream.host, upstream.port, phase, ec.message()));
}

// A reused keep-alive socket that the peer closed while it sat idle fails like this on the
// first write or read; nothing was processed, so the request may go out on a fresh socket.
bool LooksStale(const boost::system::error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::not_connected;
}

bhttp::verb VerbOf(const std::string& method) {
  auto verb = bhttp::string_to_verb(method);
  return verb == bhttp::verb::unknown ? bhttp::verb::post : verb;
}

template <class Stream>
asio::awaitable<ExchangeOutcome> ExchangeOn(Stream& stream, ClientConnection& conn,
                                            const Upstream& upstream,
                                            const runtime::HttpCall& call,
                                            const runtime::BodySink& on_body,
                                            std::size_t header_limit) {
  ExchangeOutcome out;
  beast::tcp_stream& lowest = conn.lowest();

  bhttp::request<bhttp::string_body> req{VerbOf(call.method), upstream.target, 11};
  req.set(bhttp::field::host, upstream.host_header);
  req.set(bhttp::field::user_agent, "agentd");
  for (const auto& [name, value] : call.headers) req.set(name, value);
  req.body() = call.body;
  req.keep_alive(true);
  if (!call.body.empty() || req.method() == bhttp::verb::post ||
      req.method() == bhttp::verb::put || req.method() == bhttp::verb::patch) {
    req.prepare_payload();
  }

  // The first-byte budget covers sending the request and receiving the response head.
  const PhaseLimit head_limit = LimitOf(call, call.first_byte_timeout, "first-byte timeout");
  lowest.expires_at(head_limit.at);
  auto [write_ec, written] = co_await bhttp::async_write(stream, req, kUseTuple);
  if (write_ec) {
    out.stale = LooksStale(write_ec);
    out.reply = IoError(write_ec, "sending request", upstream, &head_limit);
    co_return out;
  }

  bhttp::response_parser<bhttp::buffer_body> parser;
  parser.body_limit(boost::none);  // streamed: the sink decides what is too much
  parser.header_limit(static_cast<std::uint32_t>(header_limit));
  if (req.method() == bhttp::verb::head) parser.skip(true);
  const std::size_t buffered_before = conn.buffer.size();
  auto [head_ec, head_bytes] = co_await bhttp::async_read_header(stream, conn.buffer, parser,
                                                                 kUseTuple);
  if (head_ec) {
    out.stale = LooksStale(head_ec) && head_bytes == 0 && buffered_before == 0;
    out.reply = IoError(head_ec, "waiting for the response head", upstream, &head_limit);
    co_return out;
  }

  runtime::HttpReply reply;
  reply.status = static_cast<int>(parser.get().result_int());
  for (const auto& field : parser.get()) {
    reply.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }

  if (call.on_head) call.on_head(reply);

  std::array<char, kReadChunk> chunk;
  while (!parser.is_done()) {
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
    const PhaseLimit idle_limit = LimitOf(call, call.idle_timeout, "idle timeout");
    lowest.expires_at(idle_limit.at);
    // read_some, not read: hand each piece on as soon as it arrives (SSE tokens).
    auto [ec, n] = co_await bhttp::async_read_some(stream, conn.buffer, parser, kUseTuple);
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) {
      if (ec == bhttp::error::partial_message || ec == bhttp::error::end_of_stream ||
          ec == asio::error::eof) {
        out.reply = MakeError(Errc::kUnavailable,
                              fmt::format("{}:{}: connection closed mid-body", upstream.host,
                                          upstream.port));
      } else {
        out.reply = IoError(ec, "reading the response body", upstream, &idle_limit);
      }
      co_return out;
    }
    const std::size_t got = chunk.size() - parser.get().body().size;
    if (got > 0) {
      if (auto status = on_body(std::string_view(chunk.data(), got)); !status) {
        out.reply = status.error();
        co_return out;
      }
    }
  }
  out.reusable = parser.get().keep_alive();
  out.reply = std::move(reply);
  co_return out;
}

}  // namespace

Result<Upstream> ParseUpstream(const std::string& url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return MakeError(Errc::kInvalidArgument, fmt::format("malformed URL: {}", url));
  Upstream up;
  const auto scheme = parsed->scheme();
  if (scheme == "https") {
    up.tls = true;
  } else if (scheme != "http") {
    return MakeError(Errc::kInvalidArgument, fmt::format("URL is not http(s): {}", url));
  }
  up.host = parsed->host_address();
  if (up.host.empty()) return MakeError(Errc::kInvalidArgument, fmt::format("URL has no host: {}", url));
  up.port = parsed->has_port() ? std::string(parsed->port()) : (up.tls ? "443" : "80");
  up.target = std::string(parsed->encoded_path());
  if (up.target.empty()) up.target = "/";
  if (parsed->has_query()) up.target += "?" + std::string(parsed->encoded_query());
  up.host_header = parsed->has_port() ? up.host + ":" + up.port : up.host;
  return up;
}

asio::awaitable<Result<std::unique_ptr<ClientConnection>>> Connect(const Upstream& upstream,
                                                                   const runtime::HttpCall& call,
                                                                   asio::ssl::context& ssl,
                                                                   bool verify_peer) {
  auto executor = co_await asio::this_coro::executor;
  auto conn = std::make_unique<ClientConnection>();
  const PhaseLimit limit = LimitOf(call, call.connect_timeout, "connect timeout");

  tcp::resolver resolver(executor);
  auto [resolve_ec, endpoints] = co_await resolver.async_resolve(upstream.host, upstream.port,
                                                                  kUseTuple);
  if (resolve_ec) co_return IoError(resolve_ec, "resolving", upstream);

  if (upstream.tls) {
    conn->tls.emplace(executor, ssl);
  } else {
    conn->plain.emplace(executor);
  }
  beast::tcp_stream& lowest = conn->lowest();
  lowest.expires_at(limit.at);
  auto [connect_ec, endpoint] = co_await lowest.async_connect(endpoints, kUseTuple);
  if (connect_ec) co_return IoError(connect_ec, "connecting", upstream, &limit);
  lowest.socket().set_option(tcp::no_delay(true));

  if (upstream.tls) {
    auto& tls = *conn->tls;
    // SNI: without it virtual-hosted HTTPS endpoints present the wrong certificate.
    if (!SSL_set_tlsext_host_name(tls.native_handle(), upstream.host.c_str())) {
      co_return MakeError(Errc::kUnavailable, fmt::format("{}: cannot set SNI", upstream.host));
    }
    if (verify_peer) {
      tls.set_verify_mode(asio::ssl::verify_peer);
      tls.set_verify_callback(asio::ssl::host_name_verification(upstream.host));
    } else {
      tls.set_verify_mode(asio::ssl::verify_none);
    }
    lowest.expires_at(limit.at);
    auto [hs_ec] = co_await tls.async_handshake(asio::ssl::stream_base::client, kUseTuple);
    if (hs_ec) co_return IoError(hs_ec, "TLS handshake", upstream, &limit);
  }
  co_return conn;
}

asio::awaitable<ExchangeOutcome> Exchange(ClientConnection& conn, const Upstream& upstream,
                                          const runtime::HttpCall& call,
                                          const runtime::BodySink& on_body,
                                          std::size_t header_limit) {
  if (conn.tls) co_return co_await ExchangeOn(*conn.tls, conn, upstream, call, on_body, header_limit);
  co_return co_await ExchangeOn(*conn.plain, conn, upstream, call, on_body, header_limit);
}

}  // namespace agentd::http::detail
