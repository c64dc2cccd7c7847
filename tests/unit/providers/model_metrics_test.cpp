// The agentd_llm_* series in process (label unit): the mock model's counters, the registry
// wiring them under the configured name, connect retries and degraded mode against a transport
// that never connects, and a null registry counting nothing.
#include "runtime/model_metrics.hpp"

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "mock/mock_model.hpp"
#include "observe/metrics.hpp"
#include "runtime/mock_chat_model.hpp"
#include "runtime/model_registry.hpp"
#include "runtime/providers/http_provider.hpp"
#include "runtime/providers/openai_stream.hpp"
#include "support/run_co.hpp"

namespace agentd::runtime {
namespace {

namespace asio = boost::asio;
using agentd::testing::RunCo;

class NoTransport final : public HttpTransport {
 public:
  asio::awaitable<Result<HttpReply>> Send(HttpCall, BodySink) override {
    co_return MakeError(Errc::kUnavailable, "connection refused");
  }
};

class UnreachableProvider final : public providers::HttpChatProvider {
 public:
  UnreachableProvider(providers::ProviderOptions o, HttpTransport& t)
      : HttpChatProvider(std::move(o), t) {}
  HttpCall BuildCall(const ChatRequest&) const override { return HttpCall{}; }
  std::unique_ptr<providers::ChatStreamDecoder> MakeDecoder() const override {
    return std::make_unique<providers::OpenAiStreamDecoder>();
  }
};

observe::Labels Labels(const std::string& model, std::string key = {}, std::string value = {}) {
  observe::Labels labels = {{"model", model}};
  if (!key.empty()) labels.emplace_back(std::move(key), std::move(value));
  return labels;
}

ChatRequest Hello() {
  ChatRequest request;
  request.messages.push_back({providers::ChatRole::kUser, "hello mock model", {}, ""});
  return request;
}

TEST(ModelMetrics, MockModelCountsOneSuccessfulAttemptWithItsTokens) {
  observe::Metrics metrics;
  MockChatModel model("m", mock::MockOptions{}, "mock", 4, &metrics);
  auto result = RunCo(model.Complete(Hello(), nullptr));
  ASSERT_TRUE(result.has_value());
  ASSERT_TRUE(result->usage.has_value());

  auto counter = [&](const char* name, std::string key = {}, std::string value = {}) {
    return metrics.GetCounter(name, "", Labels("m", std::move(key), std::move(value))).value();
  };
  EXPECT_EQ(counter("agentd_llm_requests_total", "outcome", "success"), 1u);
  EXPECT_EQ(counter("agentd_llm_requests_total", "outcome", "error"), 0u);
  EXPECT_EQ(counter("agentd_llm_attempts_total"), 1u);
  EXPECT_EQ(counter("agentd_llm_retries_total", "reason", "5xx"), 0u);
  EXPECT_EQ(counter("agentd_llm_tokens_total", "kind", "input"),
            static_cast<std::uint64_t>(result->usage->prompt_tokens));
  EXPECT_EQ(counter("agentd_llm_tokens_total", "kind", "output"),
            static_cast<std::uint64_t>(result->usage->completion_tokens));
  EXPECT_GT(result->usage->completion_tokens, 0);
  EXPECT_EQ(metrics.GetHistogram("agentd_llm_latency_seconds", "", Labels("m")).count(), 1u);
  EXPECT_EQ(metrics.GetHistogram("agentd_llm_time_to_first_token_seconds", "", Labels("m")).count(),
            1u);
  EXPECT_EQ(metrics.GetHistogram("agentd_llm_queue_wait_seconds", "", Labels("m")).count(), 1u);
  EXPECT_EQ(metrics.GetGauge("agentd_llm_in_flight", "", Labels("m")).value(), 0.0);
  EXPECT_EQ(metrics.GetGauge("agentd_llm_degraded", "", Labels("m")).value(), 0.0);
}

TEST(ModelMetrics, RegistryLabelsEveryModelWithItsConfiguredName) {
  NoTransport transport;
  observe::Metrics metrics;
  config::ModelSpec mock_spec;
  mock_spec.name = "fast-mock";
  mock_spec.provider = "mock";
  config::ModelSpec openai_spec;
  openai_spec.name = "gpt";
  openai_spec.provider = "openai";
  openai_spec.model = "gpt-4o";
  auto registry = ModelRegistry::Build({mock_spec, openai_spec}, transport, &metrics);
  ASSERT_TRUE(registry.has_value());
  ASSERT_TRUE(RunCo((*registry)->Find("fast-mock")->Complete(Hello(), nullptr)).has_value());

  const std::string text = metrics.RenderPrometheus();
  // Registered at start-up, so a scrape shows both models before any upstream call.
  EXPECT_NE(text.find("agentd_llm_requests_total{model=\"fast-mock\",outcome=\"success\"} 1\n"),
            std::string::npos) << text;
  EXPECT_NE(text.find("agentd_llm_requests_total{model=\"gpt\",outcome=\"success\"} 0\n"),
            std::string::npos) << text;
  EXPECT_NE(text.find("agentd_llm_degraded{model=\"gpt\"} 0\n"), std::string::npos) << text;
}

TEST(ModelMetrics, UnreachableUpstreamRetriesAsConnectAndDegrades) {
  NoTransport transport;
  observe::Metrics metrics;
  providers::ProviderOptions options;
  options.name = "down";
  options.metrics = &metrics;
  options.sleep = [](std::chrono::milliseconds) -> asio::awaitable<Status> { co_return Status{}; };
  UnreachableProvider provider(options, transport);
  auto result = RunCo(provider.Complete(ChatRequest{}, nullptr));
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, Errc::kUnavailable);
  EXPECT_EQ(metrics.GetCounter("agentd_llm_retries_total", "", Labels("down", "reason", "connect"))
                .value(),
            3u);
  EXPECT_EQ(metrics.GetCounter("agentd_llm_attempts_total", "", Labels("down")).value(), 4u);
  EXPECT_EQ(metrics.GetCounter("agentd_llm_requests_total", "", Labels("down", "outcome", "error"))
                .value(),
            1u);
  EXPECT_EQ(metrics.GetGauge("agentd_llm_degraded", "", Labels("down")).value(), 1.0);
  EXPECT_TRUE(provider.degraded());
}

TEST(ModelMetrics, WithoutARegistryNothingIsRegisteredButDegradedIsTracked) {
  NoTransport transport;
  providers::ProviderOptions options;
  options.name = "down";
  options.sleep = [](std::chrono::milliseconds) -> asio::awaitable<Status> { co_return Status{}; };
  UnreachableProvider provider(options, transport);
  EXPECT_FALSE(RunCo(provider.Complete(ChatRequest{}, nullptr)).has_value());
  EXPECT_TRUE(provider.degraded());

  ModelMetrics bare(nullptr, "bare");
  {
    ModelMetrics::Call call(bare);
    call.Acquired();
    call.Attempt();
    call.FirstToken();
    EXPECT_TRUE(call.Finish(providers::ChatResult{}).has_value());
  }
  EXPECT_FALSE(bare.degraded());
}

TEST(ModelMetrics, ACallEndedWithoutFinishCountsAsCancelledAndLeavesNothingInFlight) {
  observe::Metrics metrics;
  ModelMetrics model_metrics(&metrics, "m");
  {
    ModelMetrics::Call call(model_metrics);
    call.Acquired();
    EXPECT_EQ(metrics.GetGauge("agentd_llm_in_flight", "", Labels("m")).value(), 1.0);
  }
  EXPECT_EQ(metrics.GetGauge("agentd_llm_in_flight", "", Labels("m")).value(), 0.0);
  EXPECT_EQ(metrics.GetCounter("agentd_llm_requests_total", "", Labels("m", "outcome", "cancelled"))
                .value(),
            1u);
}

}  // namespace
}  // namespace agentd::runtime
