// Loopback tests of the request-framing rules (http/detail/framing.hpp) and of the 408 that
// ends a request that does not arrive in time: raw bytes against the real server.
#include <atomic>

#include <gtest/gtest.h>

#include "support/run_co.hpp"
#include "server_fixture.hpp"
#include "test_client.hpp"

namespace agentd::http::testing {
namespace {

using agentd::testing::RunCo;
using namespace std::chrono_literals;

// Sends `bytes` on a fresh connection and returns everything the server wrote until it closed.
std::string Exchange(std::uint16_t port, std::string bytes) {
  return RunCo([](std::uint16_t port, std::string bytes) -> asio::awaitable<std::string> {
    auto s = co_await Connect(port);
    co_await Send(s, std::move(bytes));
    co_return co_await ReadUntilClosed(s);
  }(port, std::move(bytes)), 5s);
}

std::size_t Count(const std::string& haystack, std::string_view needle) {
  std::size_t n = 0;
  for (auto pos = haystack.find(needle); pos != std::string::npos; pos = haystack.find(needle, pos + 1)) ++n;
  return n;
}

class FramingTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    router_.Add(Method::kPost, "/echo", [this](Request& r) -> asio::awaitable<Response> {
      calls_.fetch_add(1);
      co_return Response::Text(200, "echo:" + r.body);
    });
    router_.Add(Method::kGet, "/hello", [this](Request&) -> asio::awaitable<Response> {
      calls_.fetch_add(1);
      co_return Response::Text(200, "hi");
    });
  }
  std::atomic<int> calls_{0};
};

TEST_F(FramingTest, GzipChunkedTransferEncodingGets501AndCloseWithoutReadingTheBody) {
  StartServer();
  const std::string raw = Exchange(
      port_, "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
             "5\r\nhello\r\n0\r\n\r\n");
  EXPECT_EQ(raw.rfind("HTTP/1.1 501 Not Implemented\r\n", 0), 0u) << raw;
  EXPECT_NE(raw.find("Connection: close"), std::string::npos) << raw;
  EXPECT_NE(raw.find("Content-Type: application/json"), std::string::npos) << raw;
  EXPECT_NE(raw.find(R"j({"error":"not_implemented","detail":"transfer coding \"gzip\" is not supported (only chunked)"})j"),
            std::string::npos)
      << raw;
  EXPECT_EQ(calls_.load(), 0);
}

TEST_F(FramingTest, ChunkedNotLastCannotSmuggleASecondRequest) {
  // Beast alone reads "chunked, gzip" as a request without a body, so the bytes after the
  // head would be served as a second request.
  StartServer();
  const std::string raw = Exchange(
      port_, "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"
             "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_EQ(raw.rfind("HTTP/1.1 501 ", 0), 0u) << raw;
  EXPECT_EQ(Count(raw, "HTTP/1.1 "), 1u) << raw;
  EXPECT_EQ(calls_.load(), 0);
}

TEST_F(FramingTest, ContentLengthWithTransferEncodingGets400InEitherOrder) {
  StartServer();
  for (const std::string head :
       {"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
        "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
        "Transfer-Encoding: gzip\r\nContent-Length: 5\r\n"}) {
    SCOPED_TRACE(head);
    const std::string raw =
        Exchange(port_, "POST /echo HTTP/1.1\r\nHost: t\r\n" + head + "\r\n5\r\nhello\r\n0\r\n\r\n");
    EXPECT_EQ(raw.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << raw;
    EXPECT_NE(raw.find(R"({"error":"bad_request","detail":")"), std::string::npos) << raw;
    EXPECT_NE(raw.find("Connection: close"), std::string::npos) << raw;
    EXPECT_EQ(Count(raw, "HTTP/1.1 "), 1u) << raw;
  }
  EXPECT_EQ(calls_.load(), 0);
}

TEST_F(FramingTest, MissingHostGets400OnHttp11ButHttp10MayOmitIt) {
  StartServer();
  std::string raw = Exchange(port_, "GET /hello HTTP/1.1\r\n\r\n");
  EXPECT_EQ(raw.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << raw;
  EXPECT_NE(raw.find(R"j({"error":"bad_request","detail":"missing Host header (required in HTTP/1.1)"})j"),
            std::string::npos)
      << raw;
  EXPECT_EQ(calls_.load(), 0);

  raw = Exchange(port_, "GET /hello HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
  EXPECT_EQ(raw.rfind("HTTP/1.1 400 ", 0), 0u) << raw;
  EXPECT_NE(raw.find("more than one Host header"), std::string::npos) << raw;
  EXPECT_EQ(calls_.load(), 0);

  raw = Exchange(port_, "GET /hello HTTP/1.0\r\n\r\n");
  EXPECT_EQ(raw.rfind("HTTP/1.0 200 OK\r\n", 0), 0u) << raw;
  EXPECT_EQ(calls_.load(), 1);
}

TEST_F(FramingTest, MalformedHeadGets400JsonAndClose) {
  StartServer();
  const std::string raw = Exchange(port_, "GET / HTTP/1.1\r\nBad Header Line\r\n\r\n");
  EXPECT_EQ(raw.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << raw;
  EXPECT_NE(raw.find(R"({"error":"bad_request","detail":"malformed request: )"), std::string::npos) << raw;
  EXPECT_NE(raw.find("Connection: close"), std::string::npos) << raw;
}

TEST_F(FramingTest, HeaderTimeoutSends408ThenCloses) {
  ServerOptions o;
  o.header_timeout = 200ms;
  StartServer(o);
  // Part of a head, then nothing; and a connection that sends nothing at all.
  for (const std::string sent : {"GET /hello HTTP/1.1\r\nHost: t\r\n", ""}) {
    SCOPED_TRACE(sent);
    const std::string raw = Exchange(port_, sent);
    EXPECT_EQ(raw.rfind("HTTP/1.1 408 Request Timeout\r\n", 0), 0u) << raw;
    EXPECT_NE(raw.find("Connection: close"), std::string::npos) << raw;
    EXPECT_NE(raw.find(R"({"error":"request_timeout","detail":"the request did not arrive in time"})"),
              std::string::npos)
        << raw;
  }
  EXPECT_EQ(calls_.load(), 0);
  const std::string counted =
      "agentd_http_requests_total{route=\"none\",method=\"OTHER\",status=\"408\"} 2";
  EXPECT_TRUE(WaitFor([&] { return metrics_.RenderPrometheus().find(counted) != std::string::npos; }))
      << metrics_.RenderPrometheus();
}

TEST_F(FramingTest, BodyTimeoutSends408) {
  ServerOptions o;
  o.read_timeout = 200ms;
  StartServer(o);
  const std::string raw =
      Exchange(port_, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc");
  EXPECT_EQ(raw.rfind("HTTP/1.1 408 Request Timeout\r\n", 0), 0u) << raw;
  EXPECT_EQ(calls_.load(), 0);
}

TEST_F(FramingTest, IdleKeepAliveConnectionClosesWithoutAnAnswer) {
  ServerOptions o;
  o.idle_timeout = 200ms;
  StartServer(o);
  const std::string raw = RunCo([](std::uint16_t port) -> asio::awaitable<std::string> {
    auto s = co_await Connect(port);
    beast::flat_buffer buf;
    co_await Send(s, Get("/hello"));
    auto first = co_await ReadResponse(s, buf);
    // Nothing more is sent: the server closes after idle_timeout, with no 408.
    std::string rest = co_await ReadUntilClosed(s);
    co_return std::to_string(first.result_int()) + "|" + rest;
  }(port_), 5s);
  EXPECT_EQ(raw, "200|");
}

}  // namespace
}  // namespace agentd::http::testing
