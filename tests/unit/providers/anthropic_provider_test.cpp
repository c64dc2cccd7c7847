// AnthropicProvider against an in-test route replaying a recorded Messages API stream.
#include "runtime/providers/anthropic_provider.hpp"

#include <atomic>
#include <mutex>

#include "anthropic_testdata.hpp"
#include "provider_fixture.hpp"
#include "support/run_co.hpp"

namespace agentd::runtime::providers {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using agentd::testing::RunCo;
using testing::UserRequest;


class AnthropicProviderTest : public testing::ProviderServerTest {
 protected:
  // POST /v1/messages: the first `overloaded` requests get 529, then the recorded stream.
  void Serve(int overloaded) {
    overloaded_left_ = overloaded;
    router_.Add(http::Method::kPost, "/v1/messages",
                [this](http::Request& request) -> asio::awaitable<http::Response> {
                  {
                    std::lock_guard lock(mutex_);
                    api_keys_.emplace_back(request.Header("x-api-key").value_or(""));
                    versions_.emplace_back(request.Header("anthropic-version").value_or(""));
                    bodies_.push_back(request.body);
                  }
                  if (overloaded_left_.fetch_sub(1) > 0) {
                    co_return http::Response::Json(
                        529, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})");
                  }
                  co_return http::Response::Stream(
                      200, "text/event-stream", [](http::BodyWriter& w) -> asio::awaitable<void> {
                        // Two writes, split mid-event, as a network would.
                        const std::string_view all = testing::kAnthropicTextReply;
                        co_await w.Write(all.substr(0, 300));
                        co_await w.Write(all.substr(300));
                      });
                });
    StartServer();
  }
  Result<ChatResult> Complete(AnthropicProvider& provider, std::vector<StreamDelta>* deltas) {
    return RunCo([&]() -> asio::awaitable<Result<ChatResult>> {
      co_return co_await provider.Complete(UserRequest("hi"), [&](const StreamDelta& d) {
        deltas->push_back(d);
      });
    }());
  }

  std::atomic<int> overloaded_left_{0};
  std::mutex mutex_;
  std::vector<std::string> api_keys_, versions_, bodies_;
};

TEST_F(AnthropicProviderTest, StreamsARecordedReply) {
  Serve(0);
  AnthropicProvider provider(FastOptions(BaseUrl()), pool_);
  std::vector<StreamDelta> deltas;
  auto result = Complete(provider, &deltas);
  ASSERT_TRUE(result.has_value()) << result.error().message;
  EXPECT_EQ(result->id, "msg_01TextReply");
  EXPECT_EQ(result->model, "claude-sonnet-4-5");
  EXPECT_EQ(result->text, "Hello, world!\nBye.");
  EXPECT_EQ(result->finish_reason, "stop");
  ASSERT_TRUE(result->usage.has_value());
  EXPECT_EQ(result->usage->prompt_tokens, 30);  // 25 + 5 cache-read input tokens
  EXPECT_EQ(result->usage->completion_tokens, 15);
  ASSERT_GE(deltas.size(), 2u);
  EXPECT_EQ(provider.attempts(), 1u);
  ASSERT_EQ(api_keys_.size(), 1u);
  EXPECT_EQ(api_keys_[0], "sk-test");
  EXPECT_EQ(versions_[0], "2023-06-01");
  EXPECT_NE(bodies_[0].find(R"("stream":true)"), std::string::npos) << bodies_[0];
}

TEST_F(AnthropicProviderTest, RetriesOverloaded529) {
  Serve(1);
  AnthropicProvider provider(FastOptions(BaseUrl()), pool_);
  std::vector<StreamDelta> deltas;
  auto result = Complete(provider, &deltas);
  ASSERT_TRUE(result.has_value()) << result.error().message;
  EXPECT_EQ(result->text, "Hello, world!\nBye.");
  EXPECT_EQ(provider.attempts(), 2u);
  const std::vector<std::chrono::milliseconds> expected_sleeps = {1ms};
  EXPECT_EQ(sleeps_, expected_sleeps);
}

TEST_F(AnthropicProviderTest, OverloadedPastTheAttemptLimitIsUnavailableWithTheMessage) {
  Serve(100);
  AnthropicProvider provider(FastOptions(BaseUrl()), pool_);
  std::vector<StreamDelta> deltas;
  auto result = Complete(provider, &deltas);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, Errc::kUnavailable);
  EXPECT_NE(result.error().message.find("Overloaded"), std::string::npos) << result.error().message;
  EXPECT_EQ(provider.attempts(), 4u);
  EXPECT_TRUE(deltas.empty());
}

}  // namespace
}  // namespace agentd::runtime::providers
