#pragma once
// ModelMetrics: the agentd_llm_* series of one configured model (label model="<config name>")
// and its degraded flag, shared by the HTTP providers and the mock model. Series are looked up
// once at construction (so a scrape shows zeros before the first call) and kept as pointers;
// with a null registry nothing is counted, but degraded/recovered are still logged.
//
//   agentd_llm_requests_total{model,outcome}      success | error | cancelled | rate_limited
//   agentd_llm_attempts_total{model}              HTTP requests sent (every retry counts)
//   agentd_llm_retries_total{model,reason}        429 | 5xx | connect (I/O or a stream cut)
//   agentd_llm_latency_seconds{model}             permit acquired -> result (histogram)
//   agentd_llm_time_to_first_token_seconds{model} permit acquired -> first output delta
//   agentd_llm_queue_wait_seconds{model}          wait for the concurrency permit
//   agentd_llm_in_flight{model}                   calls holding a permit (gauge)
//   agentd_llm_tokens_total{model,kind}           input | output, from the reply's usage
//   agentd_llm_degraded{model}                    1 after a call exhausted its retries, 0 again
//                                                 after the next success
//
// Thread-safe: a model's calls run on every event loop at once.

#include <array>
#include <atomic>
#include <chrono>
#include <mutex>
#include <string>

#include "common/error.hpp"
#include "observe/log.hpp"
#include "observe/metrics.hpp"
#include "runtime/providers/chat_types.hpp"

namespace agentd::runtime {

enum class RetryReason { kRateLimited, kServerError, kConnect };  // "429", "5xx", "connect"

class ModelMetrics {
 public:
  ModelMetrics(observe::Metrics* metrics, std::string model);
  ModelMetrics(const ModelMetrics&) = delete;
  ModelMetrics& operator=(const ModelMetrics&) = delete;

  // The state of one Complete() call. Create it before waiting for the permit; end it with
  // Finish(). A call destroyed unfinished (its coroutine frame torn down) counts as cancelled.
  class Call {
   public:
    explicit Call(ModelMetrics& owner);
    Call(const Call&) = delete;
    Call& operator=(const Call&) = delete;
    ~Call();

    // The permit was granted: observes the queue wait, starts the latency clock.
    void Acquired();
    void Attempt();
    void Retry(RetryReason reason);
    // The first output delta reached the caller (only the first call per Call counts).
    void FirstToken();
    // Counts the outcome, latency and tokens (and clears degraded on success); returns
    // `result` unchanged so callers can `co_return call.Finish(std::move(result));`.
    Result<providers::ChatResult> Finish(Result<providers::ChatResult> result);

   private:
    using Clock = std::chrono::steady_clock;
    ModelMetrics& owner_;
    Clock::time_point queued_at_;
    Clock::time_point acquired_at_;
    bool acquired_ = false;
    bool first_token_seen_ = false;
    bool finished_ = false;
  };

  // A call gave up after its retries (upstream unavailable or rate limited): degraded = 1 and
  // a rate-limited warning naming the model and the upstream error.
  void Degraded(const Error& error);
  bool degraded() const { return degraded_.load(std::memory_order_relaxed); }
  const std::string& model() const { return model_; }

 private:
  enum Outcome { kSuccess, kError, kCancelled, kRateLimitedOutcome, kOutcomeCount };
  void Count(Outcome outcome);
  void Recovered();

  std::string model_;
  // All null when no registry was given.
  std::array<observe::Counter*, kOutcomeCount> requests_{};
  observe::Counter* attempts_ = nullptr;
  std::array<observe::Counter*, 3> retries_{};
  observe::Histogram* latency_ = nullptr;
  observe::Histogram* time_to_first_token_ = nullptr;
  observe::Histogram* queue_wait_ = nullptr;
  observe::Gauge* in_flight_ = nullptr;
  observe::Counter* input_tokens_ = nullptr;
  observe::Counter* output_tokens_ = nullptr;
  observe::Gauge* degraded_gauge_ = nullptr;

  // The flag is read lock-free on every success; flips and gauge writes happen under mu_ so
  // a give-up racing a success cannot leave the gauge disagreeing with the flag.
  std::mutex mu_;
  std::atomic<bool> degraded_{false};
  observe::RateLimit degraded_warning_{std::chrono::seconds(30)};
};

}  // namespace agentd::runtime
