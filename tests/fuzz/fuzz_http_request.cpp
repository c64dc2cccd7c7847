// fuzz_http_request: arbitrary bytes as what a client sent on one connection, through the
// steps the server's session (src/http/detail/session.cpp, ServeOne) takes for each request:
// Beast's request_parser with our header limit, the head read first with no body limit, then
// the body with ours; x-request-id choice, the framing rules (http::detail::CheckFraming:
// Transfer-Encoding, Content-Length, Host), target parsing (http::detail::ParseTarget), the
// Content-Length check, the preflight answer or the router (the real API routes), GET and HEAD
// requests dispatched to their handlers, then the CORS headers. Up to 8 pipelined requests are
// read from one input, as a keep-alive connection would.
//
// The session itself is not driven: RunSession takes a tcp::socket and a beast::tcp_stream, so
// Beast's test::stream cannot stand in for it without changing src/http (see docs/testing.md).
//
// The first input byte picks the limits (the server's defaults, or tiny ones so that the 413
// and 431 paths are reachable with short inputs) and the CORS configuration.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "api_world.hpp"
#include "http/detail/cors.hpp"
#include "http/detail/framing.hpp"
#include "http/detail/target.hpp"
#include "http/server.hpp"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using namespace agentd;

http::Method ToMethod(bhttp::verb v) {
  switch (v) {
    case bhttp::verb::get: return http::Method::kGet;
    case bhttp::verb::head: return http::Method::kHead;
    case bhttp::verb::post: return http::Method::kPost;
    case bhttp::verb::put: return http::Method::kPut;
    case bhttp::verb::patch: return http::Method::kPatch;
    case bhttp::verb::delete_: return http::Method::kDelete;
    case bhttp::verb::options: return http::Method::kOptions;
    default: return http::Method::kOther;
  }
}

// Feeds `rest` to `parser` until `done()` or an error; the end of the input is the peer's EOF.
template <class Parser, class Done>
void Feed(Parser& parser, std::string_view& rest, beast::error_code& ec, Done done) {
  for (int guard = 0; guard < 1 << 16 && !done(); ++guard) {
    if (rest.empty()) {
      parser.put_eof(ec);
      return;
    }
    auto used = parser.put(asio::buffer(rest.data(), rest.size()), ec);
    rest.remove_prefix(used);
    if (ec == bhttp::error::need_more) {
      ec = {};
      if (used == 0) {  // wants more than the peer sent
        parser.put_eof(ec);
        return;
      }
      continue;
    }
    if (ec) return;
  }
}

// One request; false when the connection would close after it.
bool ServeOne(std::string_view& rest, const http::ServerOptions& opts) {
  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(opts.header_limit_bytes));
  parser.body_limit(boost::none);
  beast::error_code ec;
  Feed(parser, rest, ec, [&] { return parser.is_header_done(); });

  http::Request req;
  http::Response resp =
      http::Response::Json(400, http::detail::ErrorJson("bad_request", "malformed request"));
  bool keep_alive = false;
  if (!ec) {
    auto& msg = parser.get();
    req.method = ToMethod(msg.method());
    req.target = std::string(msg.target());
    for (const auto& field : msg) {
      req.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    req.request_id = http::detail::ChooseRequestId(req.Header("x-request-id"));
    keep_alive = msg.keep_alive();
    auto content_length = parser.content_length();
    if (auto refusal = http::detail::CheckFraming(req, msg.version())) {
      resp = std::move(*refusal);
      keep_alive = false;
    } else if (!http::detail::ParseTarget(req.target, req.path, req.query)) {
      keep_alive = keep_alive && parser.is_done();
    } else if (content_length && *content_length > opts.body_limit_bytes) {
      resp = http::Response::Json(413, http::detail::ErrorJson("payload_too_large", "too big"));
      keep_alive = false;
    } else {
      if (!parser.is_done()) {
        parser.body_limit(opts.body_limit_bytes);
        Feed(parser, rest, ec, [&] { return parser.is_done(); });
      }
      if (ec) {
        keep_alive = false;
      } else {
        req.body = std::move(parser.get().body());
        if (req.method == http::Method::kOptions) {
          resp = http::detail::PreflightResponse(req);
        } else if (req.method == http::Method::kGet || req.method == http::Method::kHead) {
          // Reads only: what a GET creates cannot pile up across inputs.
          resp = fuzz::World().Call(req);
        } else {
          auto match = fuzz::World().router().Find(req);
          resp = http::Response::Text(match.handler ? 200 : match.status, match.allow);
        }
      }
    }
  }
  http::detail::AddCorsHeaders(opts.cors_origins, req.Header("origin"), resp.headers);
  if (!req.request_id.empty()) resp.SetHeader("X-Request-Id", req.request_id);
  (void)http::detail::ErrorJson("bad_target", req.target);
  return keep_alive && !ec;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  http::ServerOptions opts;
  if (data[0] & 1) {
    opts.header_limit_bytes = 256;
    opts.body_limit_bytes = 64;
  }
  if (data[0] & 2) opts.cors_origins = {"https://a.example", "http://localhost:3000"};
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  for (int i = 0; i < 8 && !rest.empty(); ++i) {
    if (!ServeOne(rest, opts)) break;
  }
  return 0;
}
