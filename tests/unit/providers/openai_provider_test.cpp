// OpenAiProvider against `agentd mock-llm`'s routes on a loopback server, through a real
// ClientPool (label integration). Fault injection: x-mock-fail / x-mock-cut-after.
#include "runtime/providers/openai_provider.hpp"

#include <algorithm>
#include <atomic>
#include <optional>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/json/object.hpp>

#include "mock/mock_model.hpp"
#include "provider_fixture.hpp"
#include "runtime/providers/openai_stream.hpp"
#include "support/run_co.hpp"

namespace agentd::runtime::providers {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using agentd::testing::RunCo;
using testing::Pause;
using testing::UserRequest;

class OpenAiProviderTest : public testing::ProviderServerTest {
 protected:
  void SetUp() override {
    ProviderServerTest::SetUp();
    StartServer();
  }
  std::unique_ptr<OpenAiProvider> Make(ProviderOptions options) {
    return std::make_unique<OpenAiProvider>(std::move(options), pool_);
  }
  std::unique_ptr<OpenAiProvider> MakeWithFaults(std::string session, std::string fail,
                                                 std::string cut_after = "") {
    auto options = FastOptions(BaseUrl("/v1"));
    options.extra_headers.emplace_back("x-mock-session", std::move(session));
    if (!fail.empty()) options.extra_headers.emplace_back("x-mock-fail", std::move(fail));
    if (!cut_after.empty()) options.extra_headers.emplace_back("x-mock-cut-after", std::move(cut_after));
    return Make(std::move(options));
  }
  Result<ChatResult> Complete(ChatModel& model, ChatRequest request,
                              std::vector<StreamDelta>* deltas = nullptr) {
    return RunCo([&]() -> asio::awaitable<Result<ChatResult>> {
      co_return co_await model.Complete(std::move(request), [&](const StreamDelta& d) {
        if (deltas) deltas->push_back(d);
      });
    }());
  }
};

std::vector<std::string> TextPieces(const std::vector<StreamDelta>& deltas) {
  std::vector<std::string> out;
  for (const auto& d : deltas) {
    if (const auto* text = std::get_if<TextDelta>(&d)) out.push_back(text->text);
  }
  return out;
}

TEST_F(OpenAiProviderTest, StreamsTheMockReplyPieceByPiece) {
  auto provider = Make(FastOptions(BaseUrl("/v1")));
  const auto request = UserRequest("hello there, how are you doing today?");
  std::vector<StreamDelta> deltas;
  auto result = Complete(*provider, request, &deltas);
  ASSERT_TRUE(result.has_value()) << result.error().message;

  const auto wire = BuildOpenAiRequest(request.messages, request.tools, "mock", true);
  const auto expected = mock::ComputeReply(wire, mock::MockOptions{});
  EXPECT_EQ(TextPieces(deltas), expected.pieces);
  EXPECT_EQ(result->text, "echo: hello there, how are you doing today?");
  EXPECT_EQ(result->id, expected.completion_id);
  EXPECT_EQ(result->finish_reason, "stop");
  ASSERT_TRUE(result->usage.has_value());
  EXPECT_EQ(result->usage->prompt_tokens, expected.usage.prompt_tokens);
  EXPECT_EQ(result->usage->completion_tokens, expected.usage.completion_tokens);
  EXPECT_EQ(provider->attempts(), 1u);
}

TEST_F(OpenAiProviderTest, ToolCallReply) {
  auto provider = Make(FastOptions(BaseUrl("/v1")));
  std::vector<StreamDelta> deltas;
  auto result = Complete(*provider, UserRequest("what's the weather?", true), &deltas);
  ASSERT_TRUE(result.has_value()) << result.error().message;
  ASSERT_EQ(result->tool_calls.size(), 1u);
  EXPECT_EQ(result->tool_calls[0].name, "get_weather");
  EXPECT_EQ(result->tool_calls[0].arguments_json, R"({"city":"paris"})");
  EXPECT_EQ(result->tool_calls[0].id.substr(0, 5), "call_");
  EXPECT_EQ(result->finish_reason, "tool_calls");
  // The completion id comes first (MessageStart), then the call's id and name.
  ASSERT_GE(deltas.size(), 2u);
  ASSERT_TRUE(std::holds_alternative<MessageStart>(deltas[0]));
  EXPECT_EQ(std::get<MessageStart>(deltas[0]).id, result->id);
  EXPECT_TRUE(std::holds_alternative<ToolCallStart>(deltas[1]));
}

TEST_F(OpenAiProviderTest, RetriesOn429And500ThenSucceeds) {
  auto provider = MakeWithFaults("retry-then-ok", "429,500");
  auto result = Complete(*provider, UserRequest("hi"));
  ASSERT_TRUE(result.has_value()) << result.error().message;
  EXPECT_EQ(result->text, "echo: hi");
  EXPECT_EQ(provider->attempts(), 3u);
  // 429 carried Retry-After: 0, honoured exactly; the 500 backs off min(8, 1 << 1) * 1.0 ms.
  const std::vector<std::chrono::milliseconds> expected_sleeps = {0ms, 2ms};
  EXPECT_EQ(sleeps_, expected_sleeps);

  EXPECT_EQ(LlmCount("agentd_llm_attempts_total"), 3u);
  EXPECT_EQ(LlmCount("agentd_llm_retries_total", "reason", "429"), 1u);
  EXPECT_EQ(LlmCount("agentd_llm_retries_total", "reason", "5xx"), 1u);
  EXPECT_EQ(LlmCount("agentd_llm_retries_total", "reason", "connect"), 0u);
  EXPECT_EQ(LlmCount("agentd_llm_requests_total", "outcome", "success"), 1u);
  EXPECT_EQ(LlmCount("agentd_llm_requests_total", "outcome", "error"), 0u);
  EXPECT_EQ(LlmCount("agentd_llm_requests_total", "outcome", "rate_limited"), 0u);
  EXPECT_EQ(LlmObservations("agentd_llm_latency_seconds"), 1u);
  EXPECT_EQ(LlmObservations("agentd_llm_time_to_first_token_seconds"), 1u);
  EXPECT_EQ(LlmObservations("agentd_llm_queue_wait_seconds"), 1u);
  EXPECT_EQ(LlmGauge("agentd_llm_in_flight"), 0.0);
  EXPECT_EQ(LlmGauge("agentd_llm_degraded"), 0.0);
  ASSERT_TRUE(result->usage.has_value());
  EXPECT_EQ(LlmCount("agentd_llm_tokens_total", "kind", "input"),
            static_cast<std::uint64_t>(result->usage->prompt_tokens));
  EXPECT_EQ(LlmCount("agentd_llm_tokens_total", "kind", "output"),
            static_cast<std::uint64_t>(result->usage->completion_tokens));
  // The same, as /metrics shows it.
  const std::string text = metrics_.RenderPrometheus();
  for (const char* line : {"agentd_llm_attempts_total{model=\"test-model\"} 3\n",
                           "agentd_llm_retries_total{model=\"test-model\",reason=\"429\"} 1\n",
                           "agentd_llm_retries_total{model=\"test-model\",reason=\"5xx\"} 1\n",
                           "agentd_llm_requests_total{model=\"test-model\",outcome=\"success\"} 1\n",
                           "agentd_llm_degraded{model=\"test-model\"} 0\n"}) {
    EXPECT_NE(text.find(line), std::string::npos) << line << "\nin:\n" << text;
  }
}

TEST_F(OpenAiProviderTest, ExhaustedRetriesSetDegradedUntilTheNextSuccess) {
  // Four 500s use up the first call's four attempts; the session's next attempt succeeds.
  auto provider = MakeWithFaults("degraded", "500,500,500,500");
  auto failed = Complete(*provider, UserRequest("hi"));
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().code, Errc::kUnavailable);
  EXPECT_TRUE(provider->degraded());
  EXPECT_EQ(LlmGauge("agentd_llm_degraded"), 1.0);
  EXPECT_EQ(LlmCount("agentd_llm_requests_total", "outcome", "error"), 1u);
  EXPECT_EQ(LlmCount("agentd_llm_retries_total", "reason", "5xx"), 3u);
  EXPECT_EQ(LlmCount("agentd_llm_attempts_total"), 4u);
  EXPECT_NE(metrics_.RenderPrometheus().find("agentd_llm_degraded{model=\"test-model\"} 1\n"),
            std::string::npos);

  auto recovered = Complete(*provider, UserRequest("hi again"));
  ASSERT_TRUE(recovered.has_value()) << recovered.error().message;
  EXPECT_FALSE(provider->degraded());
  EXPECT_EQ(LlmGauge("agentd_llm_degraded"), 0.0);
  EXPECT_EQ(LlmCount("agentd_llm_requests_total", "outcome", "success"), 1u);
  EXPECT_EQ(LlmCount("agentd_llm_attempts_total"), 5u);
  EXPECT_EQ(LlmGauge("agentd_llm_in_flight"), 0.0);
}

TEST_F(OpenAiProviderTest, PersistentRateLimitCountsAsRateLimitedAndDegrades) {
  auto provider = MakeWithFaults("rate-limited", "429,429,429,429");
  auto result = Complete(*provider, UserRequest("hi"));
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, Errc::kResourceExhausted);
  EXPECT_EQ(LlmCount("agentd_llm_requests_total", "outcome", "rate_limited"), 1u);
  EXPECT_EQ(LlmCount("agentd_llm_requests_total", "outcome", "error"), 0u);
  EXPECT_EQ(LlmCount("agentd_llm_retries_total", "reason", "429"), 3u);
  EXPECT_EQ(LlmGauge("agentd_llm_degraded"), 1.0);
}

TEST_F(OpenAiProviderTest, StreamCutBeforeOutputIsRetriedAsConnect) {
  // cut-after 0: only the role chunk (a MessageStart, no output), then the connection drops.
  auto provider = MakeWithFaults("cut-early", "", "0");
  auto result = Complete(*provider, UserRequest("hi"));
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, Errc::kUnavailable);
  EXPECT_EQ(LlmCount("agentd_llm_retries_total", "reason", "connect"), 3u);
  EXPECT_EQ(LlmCount("agentd_llm_attempts_total"), 4u);
  EXPECT_EQ(LlmObservations("agentd_llm_time_to_first_token_seconds"), 0u);
  EXPECT_EQ(LlmGauge("agentd_llm_degraded"), 1.0);
}

TEST_F(OpenAiProviderTest, PersistentServerErrorGivesUpAfterBoundedAttempts) {
  auto provider = MakeWithFaults("always-500", "500,500,500,500,500,500");
  auto result = Complete(*provider, UserRequest("hi"));
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, Errc::kUnavailable);
  EXPECT_NE(result.error().message.find("injected failure"), std::string::npos)
      << result.error().message;
  EXPECT_EQ(provider->attempts(), 4u);
  EXPECT_EQ(sleeps_.size(), 3u);
}

TEST_F(OpenAiProviderTest, RetryWaitBudgetBoundsTotalWait) {
  auto options = FastOptions(BaseUrl("/v1"));
  options.retry.max_total_wait = 2ms;  // 1 ms + 2 ms would exceed it
  options.extra_headers = {{"x-mock-session", "budget"}, {"x-mock-fail", "503,503,503"}};
  auto provider = Make(std::move(options));
  auto result = Complete(*provider, UserRequest("hi"));
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, Errc::kUnavailable);
  EXPECT_EQ(provider->attempts(), 2u);
}

TEST_F(OpenAiProviderTest, RetryThatWouldPassTimeoutMsIsNotMade) {
  auto options = FastOptions(BaseUrl("/v1"));
  options.timeout = 10s;
  options.retry.base_backoff = 20s;  // the first retry waits 20 s: past timeout_ms
  options.retry.max_backoff = 20s;
  options.retry.max_total_wait = 60s;
  options.extra_headers = {{"x-mock-session", "deadline"}, {"x-mock-fail", "503,503"}};
  auto provider = Make(std::move(options));
  auto result = Complete(*provider, UserRequest("hi"));
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, Errc::kUnavailable);
  EXPECT_NE(result.error().message.find("the retry would pass timeout_ms of 10000 ms"),
            std::string::npos)
      << result.error().message;
  EXPECT_EQ(provider->attempts(), 1u);
  EXPECT_TRUE(sleeps_.empty());
}

TEST_F(OpenAiProviderTest, ReplyNamesTheModelThatAnswered) {
  auto provider = Make(FastOptions(BaseUrl("/v1")));
  auto result = Complete(*provider, UserRequest("hi"));
  ASSERT_TRUE(result.has_value()) << result.error().message;
  EXPECT_EQ(result->model, "mock");  // mock-llm names the request's model in every chunk
  EXPECT_EQ(provider->model(), "mock");
}

TEST_F(OpenAiProviderTest, BadRequestIsInvalidArgumentWithoutRetry) {
  auto provider = MakeWithFaults("bad-request", "400");
  auto result = Complete(*provider, UserRequest("hi"));
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, Errc::kInvalidArgument);
  EXPECT_NE(result.error().message.find("mock-llm: injected failure"), std::string::npos)
      << result.error().message;
  EXPECT_EQ(provider->attempts(), 1u);
  EXPECT_TRUE(sleeps_.empty());
  // A refused request is an error, but not an unavailable upstream.
  EXPECT_EQ(LlmCount("agentd_llm_requests_total", "outcome", "error"), 1u);
  EXPECT_EQ(LlmGauge("agentd_llm_degraded"), 0.0);
}

TEST_F(OpenAiProviderTest, StreamCutAfterTokensFailsWithoutRetry) {
  auto provider = MakeWithFaults("cut", "", "2");
  std::vector<StreamDelta> deltas;
  auto result = Complete(*provider, UserRequest("a fairly long message to split up"), &deltas);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, Errc::kUnavailable);
  EXPECT_NE(result.error().message.find("not retried"), std::string::npos) << result.error().message;
  EXPECT_EQ(provider->attempts(), 1u);
  EXPECT_EQ(TextPieces(deltas).size(), 2u);  // delivered once, never repeated
}

TEST_F(OpenAiProviderTest, ConcurrencyLimitQueuesCallersAndAllSucceed) {
  auto options = FastOptions(BaseUrl("/v1"));
  options.max_concurrency = 2;
  auto provider = Make(std::move(options));
  std::size_t max_in_use = 0, max_waiting = 0, succeeded = 0;
  RunCo([&]() -> asio::awaitable<void> {
    auto executor = co_await asio::this_coro::executor;
    int finished = 0;
    asio::steady_timer all_done(executor, asio::steady_timer::time_point::max());
    for (int i = 0; i < 5; ++i) {
      auto call = [&, i]() -> asio::awaitable<Result<ChatResult>> {
        co_return co_await provider->Complete(
            UserRequest("call " + std::to_string(i) + " delay=40"), [&](const StreamDelta&) {
              max_in_use = std::max(max_in_use, provider->semaphore().in_use());
              max_waiting = std::max(max_waiting, provider->semaphore().waiting());
            });
      };
      asio::co_spawn(executor, call, [&](std::exception_ptr e, Result<ChatResult> r) {
        if (!e && r) ++succeeded;
        if (++finished == 5) all_done.cancel();
      });
    }
    co_await all_done.async_wait(asio::as_tuple(asio::use_awaitable));
  }());
  EXPECT_EQ(succeeded, 5u);
  EXPECT_EQ(max_in_use, 2u);
  EXPECT_GE(max_waiting, 1u);
  EXPECT_EQ(provider->semaphore().in_use(), 0u);
  EXPECT_EQ(LlmCount("agentd_llm_requests_total", "outcome", "success"), 5u);
  EXPECT_EQ(LlmObservations("agentd_llm_queue_wait_seconds"), 5u);
  EXPECT_EQ(LlmGauge("agentd_llm_in_flight"), 0.0);
}

TEST_F(OpenAiProviderTest, CancellingAQueuedCallerRemovesItFromTheQueue) {
  auto options = FastOptions(BaseUrl("/v1"));
  options.max_concurrency = 1;
  auto provider = Make(std::move(options));
  std::optional<Result<ChatResult>> first, second;
  RunCo([&]() -> asio::awaitable<void> {
    auto executor = co_await asio::this_coro::executor;
    auto holder = [&]() -> asio::awaitable<Result<ChatResult>> {
      co_return co_await provider->Complete(UserRequest("hold delay=200"), nullptr);
    };
    auto queued = [&]() -> asio::awaitable<Result<ChatResult>> {
      co_return co_await provider->Complete(UserRequest("queued"), nullptr);
    };
    asio::cancellation_signal signal;
    asio::co_spawn(executor, holder, [&](std::exception_ptr, Result<ChatResult> r) { first = std::move(r); });
    asio::co_spawn(executor, queued,
                   asio::bind_cancellation_slot(signal.slot(), [&](std::exception_ptr, Result<ChatResult> r) {
                     second = std::move(r);
                   }));
    for (int i = 0; i < 200 && provider->semaphore().waiting() == 0; ++i) co_await Pause(1ms);
    EXPECT_EQ(provider->semaphore().waiting(), 1u);
    signal.emit(asio::cancellation_type::terminal);
    for (int i = 0; i < 200 && !second; ++i) co_await Pause(1ms);
    EXPECT_TRUE(second.has_value());
    EXPECT_FALSE(first.has_value());  // the holder is still streaming
    EXPECT_EQ(provider->semaphore().waiting(), 0u);
    for (int i = 0; i < 2000 && !first; ++i) co_await Pause(1ms);
  }());
  ASSERT_TRUE(second.has_value());
  ASSERT_FALSE(second->has_value());
  EXPECT_EQ(second->error().code, Errc::kCancelled);
  ASSERT_TRUE(first.has_value());
  EXPECT_TRUE(first->has_value());
  EXPECT_EQ(provider->semaphore().in_use(), 0u);
  EXPECT_EQ(LlmCount("agentd_llm_requests_total", "outcome", "cancelled"), 1u);
  EXPECT_EQ(LlmCount("agentd_llm_requests_total", "outcome", "success"), 1u);
  // The cancelled caller never held a permit: one queue wait, one latency.
  EXPECT_EQ(LlmObservations("agentd_llm_queue_wait_seconds"), 1u);
  EXPECT_EQ(LlmObservations("agentd_llm_latency_seconds"), 1u);
}

}  // namespace
}  // namespace agentd::runtime::providers
