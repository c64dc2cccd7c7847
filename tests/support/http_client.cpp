#include "support/http_client.hpp"

#include <stdexcept>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace agentd::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;

std::optional<std::string> HttpResult::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (beast::iequals(k, name)) return v;
  }
  return std::nullopt;
}

struct HttpClient::Impl {
  asio::io_context io;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
  std::string host;
  std::uint16_t port;
  std::chrono::milliseconds timeout;
  int opened = 0;

  void Connect() {
    stream.emplace(io);
    stream->expires_after(timeout);
    asio::ip::tcp::endpoint ep(asio::ip::make_address(host), port);
    stream->connect(ep);
    buffer.clear();
    ++opened;
  }

  // Runs one async operation to completion on the private io_context, bounded by `timeout`.
  template <class Op>
  void RunBounded(Op op) {
    beast::error_code result = asio::error::would_block;
    op([&](beast::error_code ec, std::size_t) { result = ec; });
    io.restart();
    io.run_for(timeout);
    if (result == asio::error::would_block) {
      stream->close();
      io.restart();
      io.run();
      throw std::runtime_error("HttpClient: timed out");
    }
    if (result) throw beast::system_error(result);
  }
};

HttpClient::HttpClient(std::uint16_t port, std::string host, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>()) {
  impl_->host = std::move(host);
  impl_->port = port;
  impl_->timeout = timeout;
}

HttpClient::~HttpClient() = default;

int HttpClient::connections_opened() const { return impl_->opened; }

HttpResult HttpClient::Send(std::string_view method, std::string_view target,
                            std::string_view body,
                            const std::vector<std::pair<std::string, std::string>>& headers) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!impl_->stream) impl_->Connect();
    bhttp::request<bhttp::string_body> req;
    req.method_string(method);
    req.target(target);
    req.version(11);
    req.set(bhttp::field::host, impl_->host);
    for (const auto& [k, v] : headers) req.set(k, v);
    req.body() = std::string(body);
    if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH" ||
        method == "DELETE") {
      req.prepare_payload();
    }
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    if (method == "HEAD") parser.skip(true);
    try {
      impl_->stream->expires_after(impl_->timeout);
      impl_->RunBounded([&](auto handler) { bhttp::async_write(*impl_->stream, req, handler); });
      impl_->RunBounded(
          [&](auto handler) { bhttp::async_read(*impl_->stream, impl_->buffer, parser, handler); });
    } catch (const beast::system_error& e) {
      // A kept-alive connection the server closed: reconnect once.
      impl_->stream.reset();
      if (attempt == 0 && (e.code() == bhttp::error::end_of_stream ||
                           e.code() == asio::error::connection_reset ||
                           e.code() == asio::error::broken_pipe)) {
        continue;
      }
      throw std::runtime_error(std::string("HttpClient: ") + e.what());
    }
    auto res = parser.release();
    HttpResult out;
    out.status = static_cast<int>(res.result_int());
    for (const auto& field : res) {
      out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    out.body = std::move(res.body());
    if (!res.keep_alive()) impl_->stream.reset();
    return out;
  }
  throw std::runtime_error("HttpClient: connection closed twice");
}

}  // namespace agentd::testing
