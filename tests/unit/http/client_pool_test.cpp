// ClientPool over loopback against a real http::Server on port 0 (label integration).
#include "http/client_pool.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>
#include <gtest/gtest.h>

#include "server_fixture.hpp"
#include "support/run_co.hpp"

namespace agentd::http {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using agentd::testing::RunCo;
using runtime::HttpCall;
using runtime::HttpReply;

asio::awaitable<void> Pause(std::chrono::milliseconds delay) {
  asio::steady_timer timer(co_await asio::this_coro::executor, delay);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

class ClientPoolTest : public testing::ServerTest {
 protected:
  HttpCall Call(std::string path, std::string method = "GET") {
    HttpCall call;
    call.method = std::move(method);
    call.url = "http://127.0.0.1:" + std::to_string(port_) + path;
    call.connect_timeout = 2s;
    call.first_byte_timeout = 5s;
    call.idle_timeout = 5s;
    return call;
  }
  ClientPool pool_;
};

TEST_F(ClientPoolTest, ReusesOneConnectionForSequentialCalls) {
  router_.Add(Method::kPost, "/echo", [](Request& r) -> asio::awaitable<Response> {
    co_return Response::Text(200, "got " + r.body);
  });
  StartServer();
  RunCo([&]() -> asio::awaitable<void> {
    for (int i = 0; i < 3; ++i) {
      auto call = Call("/echo", "POST");
      call.body = std::to_string(i);
      std::string body;
      auto reply = co_await pool_.Send(call, [&](std::string_view bytes) {
        body.append(bytes);
        return Status{};
      });
      EXPECT_TRUE(reply.has_value());
      if (!reply) co_return;
      EXPECT_EQ(reply->status, 200);
      EXPECT_EQ(reply->Header("content-type").substr(0, 10), "text/plain");
      EXPECT_EQ(body, "got " + std::to_string(i));
    }
  }());
  EXPECT_EQ(pool_.connections_opened(), 1u);
  EXPECT_EQ(pool_.connections_reused(), 2u);
}

TEST_F(ClientPoolTest, StreamedBodyArrivesInPiecesAsWritten) {
  router_.Add(Method::kGet, "/stream", [](Request&) -> asio::awaitable<Response> {
    co_return Response::Stream(200, "text/event-stream", [](BodyWriter& w) -> asio::awaitable<void> {
      for (int i = 0; i < 3; ++i) {
        co_await w.Write("piece" + std::to_string(i) + ";");
        co_await Pause(30ms);
      }
    });
  });
  StartServer();
  std::vector<std::string> pieces;
  RunCo([&]() -> asio::awaitable<void> {
    auto reply = co_await pool_.Send(Call("/stream"), [&](std::string_view bytes) {
      pieces.emplace_back(bytes);
      return Status{};
    });
    EXPECT_TRUE(reply.has_value());
    // The chunked body was read to its end, so the connection is reusable (pools are per
    // event loop: the same io_context).
    reply = co_await pool_.Send(Call("/stream"), [](std::string_view) { return Status{}; });
    EXPECT_TRUE(reply.has_value());
  }());
  std::string whole;
  for (const auto& p : pieces) whole += p;
  EXPECT_EQ(whole, "piece0;piece1;piece2;");
  EXPECT_EQ(pieces.size(), 3u);  // one per write: nothing waited for more bytes
  EXPECT_EQ(pool_.connections_opened(), 1u);
}

TEST_F(ClientPoolTest, FirstByteTimeoutIsTimeout) {
  router_.Add(Method::kGet, "/slow", [](Request&) -> asio::awaitable<Response> {
    co_await Pause(1500ms);
    co_return Response::Text(200, "late");
  });
  ServerOptions options;
  options.shutdown_grace = 100ms;
  StartServer(options);
  const auto started = std::chrono::steady_clock::now();
  RunCo([&]() -> asio::awaitable<void> {
    auto call = Call("/slow");
    call.first_byte_timeout = 100ms;
    auto reply = co_await pool_.Send(call, [](std::string_view) { return Status{}; });
    EXPECT_FALSE(reply.has_value());
    if (!reply) {
      EXPECT_EQ(reply.error().code, Errc::kTimeout) << reply.error().message;
    }
  }());
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1000ms);
}

TEST_F(ClientPoolTest, TimeoutErrorsNameTheLimitThatFired) {
  // /trickle never goes idle and never ends; /stall sends one piece, then nothing.
  router_.Add(Method::kGet, "/trickle", [](Request&) -> asio::awaitable<Response> {
    co_return Response::Stream(200, "text/plain", [](BodyWriter& w) -> asio::awaitable<void> {
      for (int i = 0; i < 200 && !w.closed(); ++i) {
        if (!co_await w.Write(".")) co_return;
        co_await Pause(10ms);
      }
    });
  });
  router_.Add(Method::kGet, "/stall", [](Request&) -> asio::awaitable<Response> {
    co_return Response::Stream(200, "text/plain", [](BodyWriter& w) -> asio::awaitable<void> {
      co_await w.Write("one piece");
      co_await Pause(1500ms);
    });
  });
  ServerOptions options;
  options.shutdown_grace = 100ms;
  StartServer(options);
  RunCo([&]() -> asio::awaitable<void> {
    auto idle = Call("/stall");
    idle.idle_timeout = 100ms;
    auto reply = co_await pool_.Send(idle, [](std::string_view) { return Status{}; });
    EXPECT_FALSE(reply.has_value());
    if (!reply) {
      EXPECT_EQ(reply.error().code, Errc::kTimeout);
      EXPECT_NE(reply.error().message.find("reading the response body: nothing for 100 ms (idle timeout)"),
                std::string::npos)
          << reply.error().message;
    }
    auto whole = Call("/trickle");
    whole.deadline = std::chrono::steady_clock::now() + 150ms;
    reply = co_await pool_.Send(whole, [](std::string_view) { return Status{}; });
    EXPECT_FALSE(reply.has_value());
    if (!reply) {
      EXPECT_EQ(reply.error().code, Errc::kTimeout);
      EXPECT_NE(reply.error().message.find("reading the response body: the call's deadline passed"),
                std::string::npos)
          << reply.error().message;
    }
  }());
}

TEST_F(ClientPoolTest, PeerClosingMidBodyIsUnavailableAndNotReused) {
  router_.Add(Method::kGet, "/cut", [](Request&) -> asio::awaitable<Response> {
    co_return Response::Stream(200, "text/plain", [](BodyWriter& w) -> asio::awaitable<void> {
      co_await w.Write("partial");
      // A throwing producer makes the server cut the connection without the last chunk.
      throw boost::system::system_error(asio::error::operation_aborted);
    });
  });
  StartServer();
  std::string body;
  RunCo([&]() -> asio::awaitable<void> {
    auto reply = co_await pool_.Send(Call("/cut"), [&](std::string_view bytes) {
      body.append(bytes);
      return Status{};
    });
    EXPECT_FALSE(reply.has_value());
    if (!reply) {
      EXPECT_EQ(reply.error().code, Errc::kUnavailable) << reply.error().message;
    }
    reply = co_await pool_.Send(Call("/cut"), [](std::string_view) { return Status{}; });
    EXPECT_FALSE(reply.has_value());
  }());
  EXPECT_EQ(body, "partial");
  EXPECT_EQ(pool_.connections_opened(), 2u);
}

TEST_F(ClientPoolTest, SinkErrorAbortsTheCall) {
  router_.Add(Method::kGet, "/text", [](Request&) -> asio::awaitable<Response> {
    co_return Response::Text(200, "body");
  });
  StartServer();
  RunCo([&]() -> asio::awaitable<void> {
    auto reply = co_await pool_.Send(Call("/text"), [](std::string_view) -> Status {
      return MakeError(Errc::kResourceExhausted, "too much");
    });
    EXPECT_FALSE(reply.has_value());
    if (!reply) {
      EXPECT_EQ(reply.error().code, Errc::kResourceExhausted);
    }
  }());
}

TEST_F(ClientPoolTest, CancellationEndsTheCallAndClosesTheConnection) {
  router_.Add(Method::kGet, "/forever", [](Request&) -> asio::awaitable<Response> {
    co_return Response::Stream(200, "text/plain", [](BodyWriter& w) -> asio::awaitable<void> {
      co_await w.Write("first");
      co_await Pause(1s);
    });
  });
  ServerOptions options;
  options.shutdown_grace = 100ms;
  StartServer(options);
  const auto started = std::chrono::steady_clock::now();
  RunCo([&]() -> asio::awaitable<void> {
    auto executor = co_await asio::this_coro::executor;
    asio::cancellation_signal signal;
    std::optional<Result<HttpReply>> result;
    asio::steady_timer done(executor, asio::steady_timer::time_point::max());
    runtime::BodySink sink = [&](std::string_view) {
      asio::post(executor, [&] { signal.emit(asio::cancellation_type::terminal); });
      return Status{};
    };
    asio::co_spawn(executor, pool_.Send(Call("/forever"), sink),
                   asio::bind_cancellation_slot(signal.slot(),
                                                [&](std::exception_ptr, Result<HttpReply> r) {
                                                  result = std::move(r);
                                                  done.cancel();
                                                }));
    co_await done.async_wait(asio::as_tuple(asio::use_awaitable));
    EXPECT_TRUE(result.has_value());
    if (result) {
      EXPECT_FALSE(result->has_value());
      if (!result->has_value()) {
      EXPECT_EQ(result->error().code, Errc::kCancelled);
    }
    }
  }());
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
  EXPECT_TRUE(WaitFor([&] { return server_->open_connections() == 0; }));
}

TEST_F(ClientPoolTest, MalformedUrlIsInvalidArgument) {
  StartServer();
  RunCo([&]() -> asio::awaitable<void> {
    HttpCall call;
    call.url = "ftp://example.com/x";
    auto reply = co_await pool_.Send(call, [](std::string_view) { return Status{}; });
    EXPECT_FALSE(reply.has_value());
    if (!reply) {
      EXPECT_EQ(reply.error().code, Errc::kInvalidArgument);
    }
  }());
}

TEST_F(ClientPoolTest, ConnectionRefusedIsUnavailable) {
  StartServer();
  const auto port = port_;
  server_->Stop();
  server_.reset();
  RunCo([&]() -> asio::awaitable<void> {
    HttpCall call;
    call.url = "http://127.0.0.1:" + std::to_string(port) + "/";
    auto reply = co_await pool_.Send(call, [](std::string_view) { return Status{}; });
    EXPECT_FALSE(reply.has_value());
    if (!reply) {
      EXPECT_EQ(reply.error().code, Errc::kUnavailable) << reply.error().message;
    }
  }());
}

}  // namespace
}  // namespace agentd::http
