#include "runtime/providers/http_provider.hpp"

#include <algorithm>
#include <charconv>
#include <optional>
#include <random>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <fmt/format.h>

namespace agentd::runtime::providers {

namespace asio = boost::asio;
namespace json = boost::json;
using std::chrono::milliseconds;

namespace {

constexpr std::size_t kMaxErrorBody = 64 * 1024;

asio::awaitable<Status> TimerSleep(milliseconds delay) {
  if (delay.count() <= 0) co_return Status{};
  asio::steady_timer timer(co_await asio::this_coro::executor, delay);
  auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  if (ec) co_return MakeError(Errc::kCancelled, "cancelled during retry backoff");
  co_return Status{};
}

double ThreadRandom() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
}

// Retry-After in seconds (the HTTP-date form is not used by LLM APIs and is ignored).
std::optional<milliseconds> ParseRetryAfter(std::string_view value) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  std::int64_t seconds = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (value.empty() || ec != std::errc() || end != value.data() + value.size() || seconds < 0) {
    return std::nullopt;
  }
  return milliseconds(seconds * 1000);
}

bool Retryable(int status) { return status == 429 || status >= 500; }

}  // namespace

std::string UpstreamErrorMessage(std::string_view body) {
  boost::system::error_code ec;
  json::value parsed = json::parse(body, ec);
  if (!ec && parsed.is_object()) {
    if (const auto* error = parsed.get_object().if_contains("error"); error && error->is_object()) {
      if (const auto* message = error->get_object().if_contains("message");
          message && message->is_string()) {
        return std::string(message->get_string());
      }
    }
  }
  constexpr std::size_t kMaxShown = 300;
  return std::string(body.substr(0, kMaxShown));
}

milliseconds Backoff(const RetryPolicy& policy, int attempt, double random01) {
  const int shift = std::clamp(attempt - 1, 0, 30);
  const auto ceiling = std::min<std::int64_t>(policy.max_backoff.count(),
                                              policy.base_backoff.count() << shift);
  return milliseconds(static_cast<std::int64_t>(std::clamp(random01, 0.0, 1.0) * ceiling));
}

ChatOptions ChatOptionsFrom(const config::ModelSpec& spec) {
  ChatOptions options;
  options.max_tokens = spec.max_tokens;
  options.temperature = spec.temperature;
  options.top_p = spec.top_p;
  options.stop = spec.stop;
  options.extra = spec.params;
  return options;
}

ChatOptions WithDefaults(ChatOptions request, const ChatOptions& defaults) {
  if (!request.max_tokens) request.max_tokens = defaults.max_tokens;
  if (!request.temperature) request.temperature = defaults.temperature;
  if (!request.top_p) request.top_p = defaults.top_p;
  if (request.stop.empty()) request.stop = defaults.stop;
  if (request.tool_choice.empty()) request.tool_choice = defaults.tool_choice;
  for (const auto& kv : defaults.extra) {
    if (!request.extra.contains(kv.key())) request.extra.emplace(kv.key(), kv.value());
  }
  return request;
}

ProviderOptions ProviderOptionsFrom(const config::ModelSpec& spec) {
  ProviderOptions options;
  options.name = spec.name;
  options.model = spec.model;
  options.base_url = spec.base_url;
  options.api_key = spec.api_key;
  options.max_concurrency = spec.max_concurrency;
  options.timeout = spec.timeout;
  options.connect_timeout = spec.connect_timeout;
  options.first_byte_timeout = spec.first_byte_timeout;
  options.idle_timeout = spec.idle_timeout;
  options.defaults = ChatOptionsFrom(spec);
  for (const auto& header : spec.headers) options.extra_headers.emplace_back(header.name, header.value);
  return options;
}

struct HttpChatProvider::Attempt {
  Result<ChatResult> result = MakeError(Errc::kInternal, "no attempt made");
  bool retryable = false;
  std::optional<milliseconds> retry_after;
  RetryReason reason = RetryReason::kConnect;  // why, when retryable
};

HttpChatProvider::HttpChatProvider(ProviderOptions options, HttpTransport& transport)
    : options_(std::move(options)),
      transport_(transport),
      semaphore_(options_.max_concurrency),
      metrics_(options_.metrics, options_.name) {
  if (!options_.sleep) options_.sleep = TimerSleep;
  if (!options_.random) options_.random = ThreadRandom;
}

asio::awaitable<HttpChatProvider::Attempt> HttpChatProvider::SendOnce(
    const HttpCall& call, const DeltaSink& on_delta, ModelMetrics::Call& call_metrics) {
  Attempt out;
  int status = 0;
  bool forwarded = false;
  std::string error_body;
  ChatStream stream(MakeDecoder());
  std::vector<StreamDelta> deltas;

  HttpCall attempt_call = call;
  attempt_call.on_head = [&status](const HttpReply& head) { status = head.status; };
  BodySink sink = [&](std::string_view bytes) -> Status {
    if (status < 200 || status >= 300) {
      if (error_body.size() < kMaxErrorBody) error_body.append(bytes);
      return {};
    }
    deltas.clear();
    Status fed = stream.Feed(bytes, deltas);
    for (const auto& delta : deltas) {
      // The reply id is no output: a retry may still replace it (chat_types.hpp).
      if (!std::holds_alternative<MessageStart>(delta)) {
        forwarded = true;
        call_metrics.FirstToken();
      }
      if (on_delta) on_delta(delta);
    }
    return fed;
  };
  auto reply = co_await transport_.Send(std::move(attempt_call), sink);

  auto fail = [&](Error error) {
    if (forwarded && error.code != Errc::kCancelled && error.code != Errc::kTimeout) {
      // Tokens already reached the caller: a retry would repeat them.
      out.result = MakeError(Errc::kUnavailable,
                             fmt::format("{}: stream failed after output was delivered (not "
                                         "retried): {}", options_.name, error.message));
      return;
    }
    out.retryable = !forwarded && (error.code == Errc::kUnavailable ||
                                   error.code == Errc::kResourceExhausted);
    out.result = MakeError(error.code, fmt::format("{}: {}", options_.name, error.message));
  };

  if (!reply) {
    fail(reply.error());
    co_return out;
  }
  if (reply->status >= 200 && reply->status < 300) {
    auto result = stream.TakeResult();
    if (result) {
      out.result = std::move(*result);
    } else {
      fail(result.error());
    }
    co_return out;
  }
  const std::string message = UpstreamErrorMessage(error_body);
  if (Retryable(reply->status)) {
    out.retryable = true;
    out.reason = reply->status == 429 ? RetryReason::kRateLimited : RetryReason::kServerError;
    out.retry_after = ParseRetryAfter(reply->Header("retry-after"));
    const Errc code = reply->status == 429 ? Errc::kResourceExhausted : Errc::kUnavailable;
    out.result = MakeError(code, fmt::format("{}: upstream status {}: {}", options_.name,
                                             reply->status, message));
  } else if (reply->status >= 400) {
    out.result = MakeError(Errc::kInvalidArgument, fmt::format("{}: upstream status {}: {}",
                                                               options_.name, reply->status,
                                                               message));
  } else {
    out.result = MakeError(Errc::kUnavailable, fmt::format("{}: unexpected upstream status {}",
                                                           options_.name, reply->status));
  }
  co_return out;
}

asio::awaitable<Result<ChatResult>> HttpChatProvider::Complete(ChatRequest request,
                                                               DeltaSink on_delta) {
  ModelMetrics::Call call_metrics(metrics_);
  auto permit = co_await semaphore_.Acquire();
  if (!permit) co_return call_metrics.Finish(permit.error());
  call_metrics.Acquired();

  request.options = WithDefaults(std::move(request.options), options_.defaults);
  HttpCall call = BuildCall(request);
  call.connect_timeout = options_.connect_timeout;
  call.first_byte_timeout = options_.first_byte_timeout;
  call.idle_timeout = options_.idle_timeout;
  const auto deadline = std::chrono::steady_clock::now() + options_.timeout;
  call.deadline = deadline;
  for (const auto& header : options_.extra_headers) call.headers.push_back(header);

  const RetryPolicy& policy = options_.retry;
  milliseconds waited{0};
  for (int attempt = 1;; ++attempt) {
    attempts_.fetch_add(1, std::memory_order_relaxed);
    call_metrics.Attempt();
    Attempt outcome = co_await SendOnce(call, on_delta, call_metrics);
    if (!outcome.result && outcome.result.error().code == Errc::kTimeout &&
        std::chrono::steady_clock::now() >= deadline) {
      Error error = outcome.result.error();
      error.message += fmt::format(" (timeout_ms: {} ms for the whole call)",
                                   options_.timeout.count());
      co_return call_metrics.Finish(std::move(error));
    }
    if (outcome.result || !outcome.retryable) {
      co_return call_metrics.Finish(std::move(outcome.result));
    }
    Error error = outcome.result.error();
    if (attempt >= policy.max_attempts) {
      error.message += fmt::format(" (gave up after {} attempts)", attempt);
      metrics_.Degraded(error);
      co_return call_metrics.Finish(error);
    }
    const milliseconds delay = outcome.retry_after
                                   ? *outcome.retry_after
                                   : Backoff(policy, attempt, options_.random());
    if (std::chrono::steady_clock::now() + delay >= deadline) {
      error.message += fmt::format(" (gave up after {} attempts: the retry would pass "
                                   "timeout_ms of {} ms)", attempt, options_.timeout.count());
      metrics_.Degraded(error);
      co_return call_metrics.Finish(error);
    }
    if (waited + delay > policy.max_total_wait) {
      error.message += fmt::format(" (gave up after {} attempts: retry wait budget of {} ms "
                                   "exhausted)", attempt, policy.max_total_wait.count());
      metrics_.Degraded(error);
      co_return call_metrics.Finish(error);
    }
    waited += delay;
    call_metrics.Retry(outcome.reason);
    if (Status slept = co_await options_.sleep(delay); !slept) {
      co_return call_metrics.Finish(slept.error());
    }
  }
}

}  // namespace agentd::runtime::providers
