#include "runtime/model_metrics.hpp"

#include <utility>
#include <vector>

namespace agentd::runtime {

namespace {

using Seconds = std::chrono::duration<double>;

// A whole LLM call can run for minutes (the default timeout is 120 s per byte gap).
std::vector<double> CallLatencyBuckets() {
  return {0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300};
}

std::vector<double> FirstTokenBuckets() {
  return {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60};
}

}  // namespace

ModelMetrics::ModelMetrics(observe::Metrics* metrics, std::string model)
    : model_(std::move(model)) {
  if (metrics == nullptr) return;
  const observe::Labels labels = {{"model", model_}};
  auto with = [&](const char* key, const char* value) {
    observe::Labels out = labels;
    out.emplace_back(key, value);
    return out;
  };
  constexpr const char* kRequestsHelp = "Upstream LLM calls by outcome";
  requests_[kSuccess] = &metrics->GetCounter("agentd_llm_requests_total", kRequestsHelp,
                                             with("outcome", "success"));
  requests_[kError] = &metrics->GetCounter("agentd_llm_requests_total", kRequestsHelp,
                                           with("outcome", "error"));
  requests_[kCancelled] = &metrics->GetCounter("agentd_llm_requests_total", kRequestsHelp,
                                               with("outcome", "cancelled"));
  requests_[kRateLimitedOutcome] = &metrics->GetCounter(
      "agentd_llm_requests_total", kRequestsHelp, with("outcome", "rate_limited"));
  attempts_ = &metrics->GetCounter("agentd_llm_attempts_total",
                                   "HTTP requests sent upstream, retries included", labels);
  constexpr const char* kRetriesHelp = "Upstream LLM retries by reason";
  retries_[static_cast<int>(RetryReason::kRateLimited)] =
      &metrics->GetCounter("agentd_llm_retries_total", kRetriesHelp, with("reason", "429"));
  retries_[static_cast<int>(RetryReason::kServerError)] =
      &metrics->GetCounter("agentd_llm_retries_total", kRetriesHelp, with("reason", "5xx"));
  retries_[static_cast<int>(RetryReason::kConnect)] =
      &metrics->GetCounter("agentd_llm_retries_total", kRetriesHelp, with("reason", "connect"));
  latency_ = &metrics->GetHistogram("agentd_llm_latency_seconds",
                                    "Whole LLM call, concurrency permit acquired to result",
                                    labels, CallLatencyBuckets());
  time_to_first_token_ = &metrics->GetHistogram(
      "agentd_llm_time_to_first_token_seconds",
      "Concurrency permit acquired to the first output delta", labels, FirstTokenBuckets());
  queue_wait_ = &metrics->GetHistogram("agentd_llm_queue_wait_seconds",
                                       "Wait for the model's concurrency permit", labels);
  in_flight_ = &metrics->GetGauge("agentd_llm_in_flight", "LLM calls holding a permit", labels);
  constexpr const char* kTokensHelp = "Tokens reported by the upstream's usage";
  input_tokens_ = &metrics->GetCounter("agentd_llm_tokens_total", kTokensHelp,
                                       with("kind", "input"));
  output_tokens_ = &metrics->GetCounter("agentd_llm_tokens_total", kTokensHelp,
                                        with("kind", "output"));
  degraded_gauge_ = &metrics->GetGauge(
      "agentd_llm_degraded", "1 while the model's last give-up has not been followed by a success",
      labels);
}

void ModelMetrics::Count(Outcome outcome) {
  if (requests_[outcome] != nullptr) requests_[outcome]->Inc();
}

void ModelMetrics::Degraded(const Error& error) {
  {
    std::lock_guard lock(mu_);
    degraded_.store(true, std::memory_order_relaxed);
    if (degraded_gauge_ != nullptr) degraded_gauge_->Set(1);
  }
  auto logger = observe::Logger("llm");
  observe::WarnLimited(degraded_warning_, *logger,
                       "llm degraded: upstream gave up after retries model={} code={} error=\"{}\"",
                       model_, ErrcName(error.code), error.message);
}

void ModelMetrics::Recovered() {
  if (!degraded_.load(std::memory_order_relaxed)) return;  // the common case: no lock
  {
    std::lock_guard lock(mu_);
    if (!degraded_.exchange(false, std::memory_order_relaxed)) return;
    if (degraded_gauge_ != nullptr) degraded_gauge_->Set(0);
  }
  observe::Logger("llm")->info("llm recovered: upstream call succeeded model={}", model_);
}

ModelMetrics::Call::Call(ModelMetrics& owner) : owner_(owner), queued_at_(Clock::now()) {}

ModelMetrics::Call::~Call() {
  if (!finished_) owner_.Count(kCancelled);
  if (acquired_ && owner_.in_flight_ != nullptr) owner_.in_flight_->Add(-1);
}

void ModelMetrics::Call::Acquired() {
  acquired_at_ = Clock::now();
  acquired_ = true;
  if (owner_.queue_wait_ != nullptr) {
    owner_.queue_wait_->Observe(Seconds(acquired_at_ - queued_at_).count());
  }
  if (owner_.in_flight_ != nullptr) owner_.in_flight_->Add(1);
}

void ModelMetrics::Call::Attempt() {
  if (owner_.attempts_ != nullptr) owner_.attempts_->Inc();
}

void ModelMetrics::Call::Retry(RetryReason reason) {
  if (auto* counter = owner_.retries_[static_cast<int>(reason)]) counter->Inc();
}

void ModelMetrics::Call::FirstToken() {
  if (first_token_seen_) return;
  first_token_seen_ = true;
  if (acquired_ && owner_.time_to_first_token_ != nullptr) {
    owner_.time_to_first_token_->Observe(Seconds(Clock::now() - acquired_at_).count());
  }
}

Result<providers::ChatResult> ModelMetrics::Call::Finish(Result<providers::ChatResult> result) {
  if (finished_) return result;
  finished_ = true;
  if (acquired_ && owner_.latency_ != nullptr) {
    owner_.latency_->Observe(Seconds(Clock::now() - acquired_at_).count());
  }
  if (result) {
    owner_.Count(kSuccess);
    if (result->usage) {
      if (owner_.input_tokens_ != nullptr && result->usage->prompt_tokens > 0) {
        owner_.input_tokens_->Inc(static_cast<std::uint64_t>(result->usage->prompt_tokens));
      }
      if (owner_.output_tokens_ != nullptr && result->usage->completion_tokens > 0) {
        owner_.output_tokens_->Inc(static_cast<std::uint64_t>(result->usage->completion_tokens));
      }
    }
    owner_.Recovered();
    return result;
  }
  switch (result.error().code) {
    case Errc::kCancelled: owner_.Count(kCancelled); break;
    case Errc::kResourceExhausted: owner_.Count(kRateLimitedOutcome); break;
    default: owner_.Count(kError); break;
  }
  return result;
}

}  // namespace agentd::runtime
