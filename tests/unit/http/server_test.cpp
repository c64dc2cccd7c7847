// Loopback tests of request handling: framing, keep-alive, pipelining, limits, CORS, errors.
#include <stdexcept>

#include <gtest/gtest.h>

#include "common/uuid.hpp"
#include "support/run_co.hpp"
#include "server_fixture.hpp"
#include "test_client.hpp"

namespace agentd::http::testing {
namespace {

using agentd::testing::RunCo;

Handler TextHandler(std::string body) {
  return [body](Request&) -> asio::awaitable<Response> { co_return Response::Text(200, body); };
}

Handler EchoBody() {
  return [](Request& r) -> asio::awaitable<Response> { co_return Response::Text(200, r.body); };
}

Handler DelayedText(std::string body, std::chrono::milliseconds delay) {
  return [body, delay](Request&) -> asio::awaitable<Response> {
    co_await Pause(delay);
    co_return Response::Text(200, body);
  };
}

TEST_F(ServerTest, AnswersPlainRequestWithCorsAndRequestId) {
  router_.Add(Method::kGet, "/hello", TextHandler("hi"));
  StartServer();
  auto res = RunCo(RoundTrip(port_, Get("/hello")));
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "hi");
  EXPECT_EQ(res["Access-Control-Allow-Origin"], "*");
  EXPECT_EQ(res["Access-Control-Expose-Headers"],
            "content-location, location, x-pagination-total, x-pagination-next");
  EXPECT_TRUE(IsUuid(std::string(res["X-Request-Id"])));
  EXPECT_TRUE(res.keep_alive());
}

TEST_F(ServerTest, EchoesClientRequestIdAndCountsMetrics) {
  router_.Add(Method::kGet, "/hello", TextHandler("hi"));
  StartServer();
  auto res = RunCo(RoundTrip(port_, Get("/hello", "X-Request-Id: req-42\r\n")));
  EXPECT_EQ(res["X-Request-Id"], "req-42");
  const std::string counted =
      "agentd_http_requests_total{route=\"/hello\",method=\"GET\",status=\"200\"} 1";
  EXPECT_TRUE(WaitFor([&] { return metrics_.RenderPrometheus().find(counted) != std::string::npos; }))
      << metrics_.RenderPrometheus();
  auto text = metrics_.RenderPrometheus();
  EXPECT_NE(text.find("agentd_http_request_duration_seconds_count{route=\"/hello\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("agentd_http_open_connections"), std::string::npos);
}

TEST_F(ServerTest, KeepAliveServesTwoRequestsOnOneConnection) {
  router_.Add(Method::kGet, "/a", TextHandler("A"));
  router_.Add(Method::kGet, "/b", TextHandler("B"));
  StartServer();
  auto bodies = RunCo([](std::uint16_t port) -> asio::awaitable<std::string> {
    auto s = co_await Connect(port);
    beast::flat_buffer buf;
    co_await Send(s, Get("/a"));
    auto r1 = co_await ReadResponse(s, buf);
    co_await Send(s, Get("/b"));
    auto r2 = co_await ReadResponse(s, buf);
    co_return r1.body() + r2.body();
  }(port_));
  EXPECT_EQ(bodies, "AB");
}

TEST_F(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
  router_.Add(Method::kGet, "/slow", DelayedText("first", std::chrono::milliseconds(50)));
  router_.Add(Method::kGet, "/fast", TextHandler("second"));
  StartServer();
  auto bodies = RunCo([](std::uint16_t port) -> asio::awaitable<std::string> {
    auto s = co_await Connect(port);
    beast::flat_buffer buf;
    co_await Send(s, Get("/slow") + Get("/fast"));
    auto r1 = co_await ReadResponse(s, buf);
    auto r2 = co_await ReadResponse(s, buf);
    co_return r1.body() + "," + r2.body();
  }(port_));
  EXPECT_EQ(bodies, "first,second");
}

TEST_F(ServerTest, OversizeBodyWithContentLengthGets413AndClose) {
  router_.Add(Method::kPost, "/echo", EchoBody());
  ServerOptions o;
  o.body_limit_bytes = 100;
  StartServer(o);
  auto res = RunCo(RoundTrip(port_, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n" +
                         std::string(1000, 'x')));
  EXPECT_EQ(res.result_int(), 413);
  EXPECT_EQ(res.body(),
            R"({"error":"payload_too_large","detail":"request body exceeds 100 bytes"})");
  EXPECT_EQ(res["Content-Type"], "application/json");
  EXPECT_EQ(res["Access-Control-Allow-Origin"], "*");
  EXPECT_FALSE(res.keep_alive());
}

TEST_F(ServerTest, OversizeChunkedBodyGets413) {
  router_.Add(Method::kPost, "/echo", EchoBody());
  ServerOptions o;
  o.body_limit_bytes = 100;
  StartServer(o);
  auto res = RunCo([](std::uint16_t port) -> asio::awaitable<BeastResponse> {
    auto s = co_await Connect(port);
    beast::flat_buffer buf;
    std::string chunk = "40\r\n" + std::string(64, 'y') + "\r\n";
    co_await Send(s, "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" +
                         chunk + chunk + chunk + "0\r\n\r\n");
    co_return co_await ReadResponse(s, buf);
  }(port_));
  EXPECT_EQ(res.result_int(), 413);
  EXPECT_NE(res.body().find("payload_too_large"), std::string::npos);
}

TEST_F(ServerTest, ChunkedBodyWithinLimitIsDelivered) {
  router_.Add(Method::kPost, "/echo", EchoBody());
  StartServer();
  auto res = RunCo(RoundTrip(port_, "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"));
  EXPECT_EQ(res.body(), "abcde");
}

TEST_F(ServerTest, ExpectContinueGets100BeforeBodyIsSent) {
  router_.Add(Method::kPost, "/echo", EchoBody());
  StartServer();
  auto out = RunCo([](std::uint16_t port) -> asio::awaitable<std::string> {
    auto s = co_await Connect(port);
    beast::flat_buffer buf;
    co_await Send(s, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n"
                     "Expect: 100-continue\r\n\r\n");
    std::string interim;
    auto n = co_await asio::async_read_until(s, asio::dynamic_buffer(interim), "\r\n\r\n",
                                             asio::use_awaitable);
    interim.resize(n);
    co_await Send(s, "hello");
    auto res = co_await ReadResponse(s, buf);
    co_return interim + "|" + res.body();
  }(port_));
  EXPECT_EQ(out, "HTTP/1.1 100 Continue\r\n\r\n|hello");
}

TEST_F(ServerTest, ExpectContinueWithOversizeBodyGets413Without100) {
  router_.Add(Method::kPost, "/echo", EchoBody());
  ServerOptions o;
  o.body_limit_bytes = 10;
  StartServer(o);
  auto raw = RunCo([](std::uint16_t port) -> asio::awaitable<std::string> {
    auto s = co_await Connect(port);
    co_await Send(s, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 50\r\n"
                     "Expect: 100-continue\r\n\r\n");
    co_return co_await ReadUntilClosed(s);
  }(port_));
  EXPECT_EQ(raw.rfind("HTTP/1.1 413 ", 0), 0u) << raw;
  EXPECT_EQ(raw.find("100 Continue"), std::string::npos);
}

TEST_F(ServerTest, UnknownRouteGets404JsonWithCors) {
  StartServer();
  auto res = RunCo(RoundTrip(port_, Get("/nope")));
  EXPECT_EQ(res.result_int(), 404);
  EXPECT_EQ(res.body(), R"({"error":"not_found","detail":"404 Not Found"})");
  EXPECT_EQ(res["Content-Type"], "application/json");
  EXPECT_EQ(res["Access-Control-Allow-Origin"], "*");
}

TEST_F(ServerTest, WrongMethodGets405WithAllow) {
  router_.Add(Method::kGet, "/hello", TextHandler("hi"));
  StartServer();
  auto res = RunCo(RoundTrip(port_, "DELETE /hello HTTP/1.1\r\nHost: t\r\n\r\n"));
  EXPECT_EQ(res.result_int(), 405);
  EXPECT_EQ(res["Allow"], "GET, HEAD");
  EXPECT_EQ(res.body(), R"({"error":"method_not_allowed","detail":"405 Method Not Allowed"})");
  EXPECT_EQ(res["Content-Type"], "application/json");
  EXPECT_EQ(res["Access-Control-Allow-Origin"], "*");
}

TEST_F(ServerTest, ThrowingHandlerGets500JsonWithCors) {
  router_.Add(Method::kGet, "/boom", [](Request&) -> asio::awaitable<Response> {
    throw std::runtime_error("kaboom");
    co_return Response::Empty(200);
  });
  StartServer();
  auto res = RunCo(RoundTrip(port_, Get("/boom")));
  EXPECT_EQ(res.result_int(), 500);
  EXPECT_EQ(res.body(), R"({"error":"internal","detail":"internal server error"})");
  EXPECT_EQ(res["Access-Control-Allow-Origin"], "*");
  EXPECT_TRUE(res.keep_alive());
}

TEST_F(ServerTest, PreflightOnAnyPathGets204WithEchoedHeaders) {
  StartServer();
  auto res = RunCo(RoundTrip(port_, "OPTIONS /threads/x/runs/stream HTTP/1.1\r\nHost: t\r\n"
                     "Origin: https://ui.example\r\nAccess-Control-Request-Method: POST\r\n"
                     "Access-Control-Request-Headers: content-type,x-api-key\r\n\r\n"));
  EXPECT_EQ(res.result_int(), 204);
  EXPECT_EQ(res["Access-Control-Allow-Methods"], "GET,HEAD,PUT,POST,DELETE,PATCH");
  EXPECT_EQ(res["Access-Control-Allow-Headers"], "content-type,x-api-key");
  EXPECT_EQ(res["Access-Control-Allow-Origin"], "*");
}

TEST_F(ServerTest, ConfiguredOriginIsEchoedOthersGetNoAllowOrigin) {
  router_.Add(Method::kGet, "/hello", TextHandler("hi"));
  ServerOptions o;
  o.cors_origins = {"https://ui.example"};
  StartServer(o);
  auto pair = RunCo([](std::uint16_t port) -> asio::awaitable<std::pair<BeastResponse, BeastResponse>> {
    auto s = co_await Connect(port);
    beast::flat_buffer buf;
    co_await Send(s, Get("/hello", "Origin: https://ui.example\r\n"));
    auto good = co_await ReadResponse(s, buf);
    co_await Send(s, Get("/hello", "Origin: https://evil.example\r\n"));
    auto bad = co_await ReadResponse(s, buf);
    co_return std::make_pair(std::move(good), std::move(bad));
  }(port_));
  EXPECT_EQ(pair.first["Access-Control-Allow-Origin"], "https://ui.example");
  EXPECT_EQ(pair.second.count("Access-Control-Allow-Origin"), 0u);
  EXPECT_EQ(pair.second["Access-Control-Expose-Headers"],
            "content-location, location, x-pagination-total, x-pagination-next");
}

TEST_F(ServerTest, HeadGetsHeadersWithoutBody) {
  router_.Add(Method::kGet, "/hello", TextHandler("hello"));
  StartServer();
  auto out = RunCo([](std::uint16_t port) -> asio::awaitable<std::string> {
    auto s = co_await Connect(port);
    beast::flat_buffer buf;
    co_await Send(s, "HEAD /hello HTTP/1.1\r\nHost: t\r\n\r\n");
    auto head = co_await ReadResponse(s, buf, /*head_request=*/true);
    // A stray body would be parsed as the start of this response and fail it.
    co_await Send(s, Get("/hello"));
    auto get = co_await ReadResponse(s, buf);
    co_return std::to_string(head.result_int()) + "," + std::string(head["Content-Length"]) + "," +
        head.body() + "," + get.body();
  }(port_));
  EXPECT_EQ(out, "200,5,,hello");
}

TEST_F(ServerTest, MalformedRequestGets400AndClose) {
  StartServer();
  auto raw = RunCo([](std::uint16_t port) -> asio::awaitable<std::string> {
    auto s = co_await Connect(port);
    co_await Send(s, "GET / HTTP/1.1\r\nBad Header Line\r\n\r\n");
    co_return co_await ReadUntilClosed(s);
  }(port_));
  EXPECT_EQ(raw.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << raw;
  EXPECT_NE(raw.find("Connection: close"), std::string::npos) << raw;
  EXPECT_NE(raw.find(R"({"error":"bad_request","detail":"malformed request)"), std::string::npos)
      << raw;
}

}  // namespace
}  // namespace agentd::http::testing
