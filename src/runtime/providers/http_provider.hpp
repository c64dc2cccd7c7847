#pragma once
// HttpChatProvider: what the openai and anthropic providers share — a ChatModel that POSTs a
// streaming request over an HttpTransport, feeds the SSE body through a ChatStream and
// forwards the deltas to the caller as they arrive. Subclasses only build the call and the
// decoder (openai_provider.hpp, anthropic_provider.hpp).
//
// Retries: on 429, 5xx (and Anthropic's 529), connect/IO failures and a stream cut — but only
// while no delta has reached the caller's sink (a retry after that would duplicate output;
// the call then fails with kUnavailable). Exponential backoff with full jitter
// (random() * min(max_backoff, base_backoff * 2^(attempt-1))), or exactly Retry-After seconds
// when the upstream sends it; bounded attempts and bounded total wait. Other 4xx: no retry,
// kInvalidArgument with the upstream's message.
//
// Concurrency: at most ModelSpec::max_concurrency calls in flight per model; more queue FIFO
// (ModelSemaphore). Threading and cancellation: see ChatModel.
//
// Metrics and degraded mode (ProviderOptions::metrics, model_metrics.hpp): agentd_llm_* per
// model; a call that gives up after retrying sets agentd_llm_degraded{model} = 1 and logs a
// rate-limited warning, the next success sets it back to 0.

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/error.hpp"
#include "config/config.hpp"
#include "runtime/chat_model.hpp"
#include "observe/metrics.hpp"
#include "runtime/http_transport.hpp"
#include "runtime/model_metrics.hpp"
#include "runtime/model_semaphore.hpp"
#include "runtime/providers/chat_stream.hpp"

namespace agentd::runtime::providers {

struct RetryPolicy {
  int max_attempts = 4;
  std::chrono::milliseconds base_backoff{500};
  std::chrono::milliseconds max_backoff{8'000};
  std::chrono::milliseconds max_total_wait{30'000};  // sum of all backoff waits of one call
};

// Waits `delay`; kCancelled if the caller was cancelled meanwhile.
using SleepFn = std::function<boost::asio::awaitable<Status>(std::chrono::milliseconds)>;
// Uniform in [0, 1): the jitter.
using RandomFn = std::function<double()>;

struct ProviderOptions {
  std::string name;      // config models[].name
  std::string model;     // the provider's model name
  std::string base_url;  // empty: the provider's default
  std::string api_key;
  std::size_t max_concurrency = 64;
  // The whole call: every attempt and retry wait, counted once the permit is held. A retry
  // whose wait would pass it is not made.
  std::chrono::milliseconds timeout{600'000};
  // Per attempt: connect (+ TLS), request sent -> response head, longest gap between body bytes.
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds first_byte_timeout{60'000};
  std::chrono::milliseconds idle_timeout{60'000};
  // The configured sampling settings and `params` (extra): a request's own options win
  // field by field (WithDefaults).
  ChatOptions defaults;
  RetryPolicy retry;
  SleepFn sleep;    // default: a steady_timer on the caller's executor
  RandomFn random;  // default: a thread-local PRNG
  // Sent with every request, after the provider's own headers (one of the same name replaces
  // it). The config's models[].headers; tests also use it for mock-llm fault injection.
  std::vector<std::pair<std::string, std::string>> extra_headers;
  // The process registry for the agentd_llm_* series (label model = name); null: none.
  observe::Metrics* metrics = nullptr;
};

// Everything a models[] entry configures: name, model, base_url, api_key, max_concurrency,
// the timeouts, the sampling settings and params (defaults), headers (extra_headers).
ProviderOptions ProviderOptionsFrom(const config::ModelSpec& spec);

// The sampling settings and params of a models[] entry as ChatOptions.
ChatOptions ChatOptionsFrom(const config::ModelSpec& spec);

// `request` with every field it leaves unset taken from `defaults`; `extra` objects merge
// (the request's keys win).
ChatOptions WithDefaults(ChatOptions request, const ChatOptions& defaults);

class HttpChatProvider : public ChatModel {
 public:
  boost::asio::awaitable<Result<ChatResult>> Complete(ChatRequest request,
                                                      DeltaSink on_delta) final;
  const std::string& name() const final { return options_.name; }
  const std::string& model() const final { return options_.model; }

  // HTTP requests sent so far (every attempt counts), for tests and metrics.
  std::uint64_t attempts() const { return attempts_.load(std::memory_order_relaxed); }
  const ModelSemaphore& semaphore() const { return semaphore_; }
  // True after a call gave up retrying, until the next successful call.
  bool degraded() const { return metrics_.degraded(); }

 protected:
  HttpChatProvider(ProviderOptions options, HttpTransport& transport);

  // URL, headers and JSON body of one streaming request (timeouts are filled in by the base).
  virtual HttpCall BuildCall(const ChatRequest& request) const = 0;
  virtual std::unique_ptr<ChatStreamDecoder> MakeDecoder() const = 0;

  const ProviderOptions& options() const { return options_; }

 private:
  struct Attempt;
  boost::asio::awaitable<Attempt> SendOnce(const HttpCall& call, const DeltaSink& on_delta,
                                           ModelMetrics::Call& call_metrics);

  ProviderOptions options_;
  HttpTransport& transport_;
  ModelSemaphore semaphore_;
  ModelMetrics metrics_;
  std::atomic<std::uint64_t> attempts_{0};
};

// The upstream's error message from an error body ({"error": {"message": ...}} for both
// OpenAI and Anthropic), else the body itself, shortened.
std::string UpstreamErrorMessage(std::string_view body);

// The backoff before attempt `attempt + 1` (attempt >= 1), per RetryPolicy.
std::chrono::milliseconds Backoff(const RetryPolicy& policy, int attempt, double random01);

}  // namespace agentd::runtime::providers
