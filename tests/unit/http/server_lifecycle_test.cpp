// Loopback tests of streaming, timeouts, connection limits and graceful shutdown.
#include <atomic>
#include <thread>

#include <boost/beast/http/read.hpp>
#include <gtest/gtest.h>

#include "support/run_co.hpp"
#include "server_fixture.hpp"
#include "test_client.hpp"

namespace agentd::http::testing {
namespace {

using agentd::testing::RunCo;
using namespace std::chrono_literals;

// Waits (on the calling coroutine's loop, bounded by RunCo) until `flag` is set by another thread.
asio::awaitable<void> AwaitFlag(const std::atomic<bool>& flag) {
  while (!flag.load()) co_await Pause(2ms);
}

TEST_F(ServerTest, StreamedResponseArrivesChunkedInPieces) {
  std::atomic<bool> release{false};
  router_.Add(Method::kGet, "/stream", [&release](Request&) -> asio::awaitable<Response> {
    co_return Response::Stream(200, "text/event-stream",
                               [&release](BodyWriter& w) -> asio::awaitable<void> {
                                 co_await w.Write(std::string_view("one;"));
                                 co_await AwaitFlag(release);
                                 co_await w.Write(std::make_shared<const std::string>("two"));
                               });
  });
  StartServer();
  auto out = RunCo([](std::uint16_t port, std::atomic<bool>& release) -> asio::awaitable<std::string> {
    auto s = co_await Connect(port);
    beast::flat_buffer buf;
    co_await Send(s, Get("/stream"));
    bhttp::response_parser<bhttp::string_body> parser;
    co_await bhttp::async_read_header(s, buf, parser, asio::use_awaitable);
    std::string seen = std::string(parser.get()[bhttp::field::transfer_encoding]) + "|";
    // The first piece arrives while the producer is still waiting.
    while (parser.get().body().size() < 4) {
      co_await bhttp::async_read_some(s, buf, parser, asio::use_awaitable);
    }
    seen += parser.get().body() + (parser.is_done() ? "done" : "open") + "|";
    release = true;
    co_await bhttp::async_read(s, buf, parser, asio::use_awaitable);
    seen += parser.get().body();
    co_return seen;
  }(port_, release));
  EXPECT_EQ(out, "chunked|one;open|one;two");
}

TEST_F(ServerTest, StreamWriteReturnsFalseOnceClientIsGone) {
  std::atomic<bool> write_failed{false};
  std::atomic<bool> saw_closed{false};
  router_.Add(Method::kGet, "/forever", [&](Request&) -> asio::awaitable<Response> {
    co_return Response::Stream(200, "text/plain", [&](BodyWriter& w) -> asio::awaitable<void> {
      std::string piece(1024, 'z');
      // Bounded: 10 s of writes at most.
      for (int i = 0; i < 5000; ++i) {
        if (!co_await w.Write(std::string_view(piece))) {
          write_failed = true;
          saw_closed = w.closed();
          co_return;
        }
        co_await Pause(2ms);
      }
    });
  });
  StartServer();
  RunCo([](std::uint16_t port) -> asio::awaitable<void> {
    auto s = co_await Connect(port);
    beast::flat_buffer buf;
    co_await Send(s, Get("/forever"));
    bhttp::response_parser<bhttp::string_body> parser;
    co_await bhttp::async_read_header(s, buf, parser, asio::use_awaitable);
    s.close();
  }(port_));
  RunCo([](std::atomic<bool>& flag) -> asio::awaitable<void> { co_await AwaitFlag(flag); }(write_failed),
        10s);
  EXPECT_TRUE(write_failed.load());
  EXPECT_TRUE(saw_closed.load());
}

TEST_F(ServerTest, StreamedResponseToHeadHasNoBody) {
  router_.Add(Method::kGet, "/stream", [](Request&) -> asio::awaitable<Response> {
    co_return Response::Stream(200, "text/event-stream", [](BodyWriter& w) -> asio::awaitable<void> {
      co_await w.Write(std::string_view("never"));
    });
  });
  StartServer();
  auto body = RunCo([](std::uint16_t port) -> asio::awaitable<std::string> {
    auto s = co_await Connect(port);
    beast::flat_buffer buf;
    co_await Send(s, "HEAD /stream HTTP/1.1\r\nHost: t\r\n\r\n");
    auto head = co_await ReadResponse(s, buf, true);
    co_await Send(s, "HEAD /stream HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    auto rest = co_await ReadUntilClosed(s);
    co_return std::to_string(head.result_int()) + "|" + head.body() + "|" +
        std::to_string(rest.find("never"));
  }(port_));
  EXPECT_EQ(body, "200||" + std::to_string(std::string::npos));
}

TEST_F(ServerTest, SilentConnectionGets408AndIsClosedAfterHeaderTimeout) {
  ServerOptions o;
  o.header_timeout = 200ms;
  StartServer(o);
  auto started = std::chrono::steady_clock::now();
  auto raw = RunCo([](std::uint16_t port) -> asio::awaitable<std::string> {
    auto s = co_await Connect(port);
    co_await Send(s, "GET /partial HTTP/1.1\r\n");  // never finishes the head
    co_return co_await ReadUntilClosed(s);
  }(port_), 5s);
  auto elapsed = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(raw.rfind("HTTP/1.1 408 Request Timeout\r\n", 0), 0u) << raw;
  EXPECT_GE(elapsed, 150ms);
}

TEST_F(ServerTest, OverConnectionLimitGets503WithRetryAfter) {
  router_.Add(Method::kGet, "/hello", [](Request&) -> asio::awaitable<Response> {
    co_return Response::Text(200, "hi");
  });
  ServerOptions o;
  o.max_connections = 1;
  StartServer(o);
  auto res = RunCo([](std::uint16_t port) -> asio::awaitable<BeastResponse> {
    auto first = co_await Connect(port);
    beast::flat_buffer buf1;
    co_await Send(first, Get("/hello"));
    co_await ReadResponse(first, buf1);  // now certainly counted as open
    auto second = co_await Connect(port);
    beast::flat_buffer buf2;
    co_return co_await ReadResponse(second, buf2);
  }(port_));
  EXPECT_EQ(res.result_int(), 503);
  EXPECT_EQ(res["Retry-After"], "1");
  EXPECT_EQ(res["Access-Control-Allow-Origin"], "*");
}

TEST_F(ServerTest, GracefulStopLetsInFlightRequestFinish) {
  std::atomic<bool> started{false};
  router_.Add(Method::kGet, "/slow", [&started](Request&) -> asio::awaitable<Response> {
    started = true;
    co_await Pause(300ms);
    co_return Response::Text(200, "done");
  });
  ServerOptions o;
  o.shutdown_grace = 5s;
  StartServer(o);
  std::thread stopper;
  auto res = RunCo([](std::uint16_t port, std::atomic<bool>& started, std::thread& stopper,
                      Server& server) -> asio::awaitable<BeastResponse> {
    auto s = co_await Connect(port);
    beast::flat_buffer buf;
    co_await Send(s, Get("/slow"));
    co_await AwaitFlag(started);
    stopper = std::thread([&server] { server.Stop(); });
    co_return co_await ReadResponse(s, buf);
  }(port_, started, stopper, *server_));
  stopper.join();  // Stop() returned: every session has ended
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "done");
  EXPECT_FALSE(res.keep_alive());
  EXPECT_EQ(server_->open_connections(), 0u);
}

TEST_F(ServerTest, StopClosesIdleKeepAliveConnectionsAtOnce) {
  router_.Add(Method::kGet, "/hello", [](Request&) -> asio::awaitable<Response> {
    co_return Response::Text(200, "hi");
  });
  ServerOptions o;
  o.shutdown_grace = 30s;
  StartServer(o);
  std::thread stopper;
  auto started = std::chrono::steady_clock::now();
  auto rest = RunCo([](std::uint16_t port, std::thread& stopper,
                       Server& server) -> asio::awaitable<std::string> {
    auto s = co_await Connect(port);
    beast::flat_buffer buf;
    co_await Send(s, Get("/hello"));
    co_await ReadResponse(s, buf);
    stopper = std::thread([&server] { server.Stop(); });
    co_return co_await ReadUntilClosed(s);
  }(port_, stopper, *server_), 10s);
  stopper.join();
  EXPECT_EQ(rest, "");
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);  // well under the 30 s grace
}

TEST_F(ServerTest, StopPastGraceCancelsHandlerAndCloses) {
  std::atomic<bool> started{false};
  router_.Add(Method::kGet, "/stuck", [&started](Request&) -> asio::awaitable<Response> {
    started = true;
    co_await Pause(60s);
    co_return Response::Text(200, "late");
  });
  ServerOptions o;
  o.shutdown_grace = 100ms;
  StartServer(o);
  std::thread stopper;
  auto begin = std::chrono::steady_clock::now();
  auto raw = RunCo([](std::uint16_t port, std::atomic<bool>& started, std::thread& stopper,
                      Server& server) -> asio::awaitable<std::string> {
    auto s = co_await Connect(port);
    co_await Send(s, Get("/stuck"));
    co_await AwaitFlag(started);
    stopper = std::thread([&server] { server.Stop(); });
    co_return co_await ReadUntilClosed(s);
  }(port_, started, stopper, *server_), 10s);
  stopper.join();
  EXPECT_EQ(raw.find("late"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 5s);
  EXPECT_EQ(server_->open_connections(), 0u);
}

}  // namespace
}  // namespace agentd::http::testing
