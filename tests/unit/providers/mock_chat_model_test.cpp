// MockChatModel: equal to what the OpenAI provider assembles from `agentd mock-llm` for the
// same request (over loopback), and streams the mock's pieces in order.
#include "runtime/mock_chat_model.hpp"

#include <optional>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>

#include "provider_fixture.hpp"
#include "runtime/providers/openai_provider.hpp"
#include "support/run_co.hpp"

namespace agentd::runtime {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using agentd::testing::RunCo;
using providers::StreamDelta;
using providers::testing::UserRequest;

class MockChatModelTest : public providers::testing::ProviderServerTest {
 protected:
  void SetUp() override {
    ProviderServerTest::SetUp();
    StartServer();
  }
  Result<providers::ChatResult> Complete(ChatModel& model, ChatRequest request,
                                         std::vector<StreamDelta>& deltas) {
    return RunCo([&]() -> asio::awaitable<Result<providers::ChatResult>> {
      co_return co_await model.Complete(std::move(request),
                                        [&](const StreamDelta& d) { deltas.push_back(d); });
    }());
  }
  void ExpectSameAsMockLlm(const ChatRequest& request) {
    MockChatModel in_process("mock", mock::MockOptions{});
    providers::OpenAiProvider over_http(FastOptions(BaseUrl("/v1")), pool_);
    std::vector<StreamDelta> local_deltas, http_deltas;
    auto local = Complete(in_process, request, local_deltas);
    auto remote = Complete(over_http, request, http_deltas);
    ASSERT_TRUE(local.has_value());
    ASSERT_TRUE(remote.has_value()) << remote.error().message;
    EXPECT_EQ(*local, *remote);
    EXPECT_EQ(local_deltas, http_deltas);
  }
};

TEST_F(MockChatModelTest, TextReplyEqualsDecodedMockLlmOutput) {
  ExpectSameAsMockLlm(UserRequest("tell me something interesting about the sea"));
}

TEST_F(MockChatModelTest, ToolCallReplyEqualsDecodedMockLlmOutput) {
  ExpectSameAsMockLlm(UserRequest("what is the weather like?", /*with_weather_tool=*/true));
}

TEST_F(MockChatModelTest, ToolResultReplyEqualsDecodedMockLlmOutput) {
  ChatRequest request = UserRequest("what is the weather like?", true);
  providers::ChatMessage call;
  call.role = providers::ChatRole::kAssistant;
  call.tool_calls.push_back({"call_1", "get_weather", R"({"city":"paris"})"});
  request.messages.push_back(call);
  request.messages.push_back({providers::ChatRole::kTool, "sunny in paris", {}, "call_1"});
  ExpectSameAsMockLlm(request);
}

TEST_F(MockChatModelTest, CancellationDuringLatencyEndsTheCall) {
  MockChatModel model("mock", mock::MockOptions{}, "mock", 64, &metrics_);
  std::optional<Result<providers::ChatResult>> result;
  const auto started = std::chrono::steady_clock::now();
  RunCo([&]() -> asio::awaitable<void> {
    auto executor = co_await asio::this_coro::executor;
    asio::cancellation_signal signal;
    auto call = [&]() -> asio::awaitable<Result<providers::ChatResult>> {
      co_return co_await model.Complete(UserRequest("take your time delay=5000"), nullptr);
    };
    asio::co_spawn(executor, call,
                   asio::bind_cancellation_slot(signal.slot(),
                                                [&](std::exception_ptr, Result<providers::ChatResult> r) {
                                                  result = std::move(r);
                                                }));
    co_await providers::testing::Pause(20ms);
    signal.emit(asio::cancellation_type::terminal);
    for (int i = 0; i < 500 && !result; ++i) co_await providers::testing::Pause(1ms);
  }());
  ASSERT_TRUE(result.has_value());
  ASSERT_FALSE(result->has_value());
  EXPECT_EQ(result->error().code, Errc::kCancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
  EXPECT_EQ(LlmCount("agentd_llm_requests_total", "outcome", "cancelled", "mock"), 1u);
  EXPECT_EQ(LlmCount("agentd_llm_requests_total", "outcome", "success", "mock"), 0u);
  EXPECT_EQ(LlmGauge("agentd_llm_in_flight", "mock"), 0.0);
}

}  // namespace
}  // namespace agentd::runtime
