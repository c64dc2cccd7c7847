// `agentd mock-llm` in process: the mock routes on a real http::Server bound to a loopback
// port 0, driven by a raw HTTP/1.1 client, compared with the reference implementation's bytes.

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "http/event_loops.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "mock/mock_routes.hpp"
#include "observe/metrics.hpp"
#include "support/run_co.hpp"

namespace agentd::mock {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using asio::ip::tcp;

struct HttpReply {
  int status = 0;
  std::string head;
  std::string body;  // de-chunked
};

std::string Dechunk(std::string_view raw) {
  std::string out;
  while (!raw.empty()) {
    const auto eol = raw.find("\r\n");
    if (eol == std::string_view::npos) break;
    const std::size_t size = std::stoul(std::string(raw.substr(0, eol)), nullptr, 16);
    if (size == 0) break;
    out.append(raw.substr(eol + 2, size));
    raw.remove_prefix(eol + 2 + size + 2);
  }
  return out;
}

asio::awaitable<HttpReply> Exchange(std::uint16_t port, std::string method, std::string path, std::string body) {
  tcp::socket socket(co_await asio::this_coro::executor);
  co_await socket.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), asio::use_awaitable);
  std::string request = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" +
                        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                        "\r\n\r\n" + body;
  co_await asio::async_write(socket, asio::buffer(request), asio::use_awaitable);
  std::string raw;
  auto [ec, n] = co_await asio::async_read(socket, asio::dynamic_buffer(raw), asio::as_tuple(asio::use_awaitable));
  (void)n;  // EOF ends the read: Connection: close
  HttpReply reply;
  const auto end_of_head = raw.find("\r\n\r\n");
  if (end_of_head == std::string::npos) co_return reply;
  reply.head = raw.substr(0, end_of_head);
  reply.status = std::stoi(raw.substr(9, 3));
  std::string payload = raw.substr(end_of_head + 4);
  std::string lower = reply.head;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  reply.body = lower.find("transfer-encoding: chunked") != std::string::npos ? Dechunk(payload) : payload;
  co_return reply;
}

class MockServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RegisterMockRoutes(router_, options_);
    loops_.Start();
    http::ServerOptions o;
    o.port = 0;
    o.shutdown_grace = std::chrono::milliseconds(100);
    server_ = std::make_unique<http::Server>(o, loops_, router_, metrics_);
    auto port = server_->Start();
    ASSERT_TRUE(port) << port.error().message;
    port_ = *port;
  }
  void TearDown() override {
    if (server_) server_->Stop();
    loops_.Stop();
  }

  HttpReply Call(std::string method, std::string path, std::string body = "") {
    return testing::RunCo(Exchange(port_, std::move(method), std::move(path), std::move(body)),
                          std::chrono::seconds(10));
  }

  json::object Reference(std::string_view name) {
    std::ifstream in(std::string(AGENTD_MOCK_TESTDATA) + "/reference.json");
    std::stringstream buffer;
    buffer << in.rdbuf();
    const json::value all = json::parse(buffer.str());
    for (const auto& c : all.as_array()) {
      if (c.at("name").as_string() == name) return c.as_object();
    }
    ADD_FAILURE() << "no reference case " << name;
    return {};
  }

  MockOptions options_;
  observe::Metrics metrics_;
  http::Router router_;
  http::EventLoops loops_{1};
  std::unique_ptr<http::Server> server_;
  std::uint16_t port_ = 0;
};

TEST_F(MockServerTest, StreamsACompletionFramedExactlyLikeTheReference) {
  for (const char* name : {"text_stream_usage", "weather_tool_stream", "parts_unicode_stream"}) {
    SCOPED_TRACE(name);
    const auto ref = Reference(name);
    const auto reply = Call("POST", "/v1/chat/completions", std::string(ref.at("request").as_string()));
    EXPECT_EQ(reply.status, 200);
    EXPECT_NE(reply.head.find("text/event-stream"), std::string::npos) << reply.head;
    EXPECT_EQ(reply.body, ref.at("response").as_string());
  }
}

TEST_F(MockServerTest, AnswersNonStreamedCompletionsModelsHealthAndTheDemoTool) {
  const auto plain = Reference("text_plain");
  EXPECT_EQ(Call("POST", "/chat/completions", std::string(plain.at("request").as_string())).body,
            plain.at("response").as_string());
  EXPECT_EQ(Call("GET", "/v1/models").body, Reference("models").at("response").as_string());
  EXPECT_EQ(Call("GET", "/health").body, R"({"ok":true})");
  const auto weather = Call("POST", "/tools/get_weather", R"({"city":"Oslo"})");
  EXPECT_EQ(weather.status, 200);
  EXPECT_EQ(weather.body, "sunny in Oslo");
  EXPECT_EQ(Call("POST", "/v1/chat/completions", "{not json").status, 400);
}

TEST_F(MockServerTest, DelaysWithTimersSoSlowCompletionsOverlapOnOneThread) {
  // Ten completions of 300 ms each on a one-thread server: sequential waits would take 3 s.
  const auto start = std::chrono::steady_clock::now();
  testing::RunCo([](std::uint16_t port) -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    std::vector<std::shared_ptr<HttpReply>> replies;
    int done = 0;
    for (int i = 0; i < 10; ++i) {
      auto slot = std::make_shared<HttpReply>();
      replies.push_back(slot);
      asio::co_spawn(ex, Exchange(port, "POST", "/v1/chat/completions",
                                  R"({"stream":true,"messages":[{"role":"user","content":"hi delay=300 #)" +
                                      std::to_string(i) + R"("}]})"),
                     [slot, &done](std::exception_ptr e, HttpReply r) {
                       if (!e) *slot = std::move(r);
                       ++done;
                     });
    }
    asio::steady_timer timer(ex);
    while (done < 10) {
      timer.expires_after(std::chrono::milliseconds(10));
      co_await timer.async_wait(asio::use_awaitable);
    }
    for (const auto& r : replies) {
      EXPECT_EQ(r->status, 200);
      EXPECT_NE(r->body.find("data: [DONE]"), std::string::npos);
    }
  }(port_), std::chrono::seconds(10));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_GE(elapsed, std::chrono::milliseconds(300));
  EXPECT_LT(elapsed, std::chrono::milliseconds(2500));
}

}  // namespace
}  // namespace agentd::mock
