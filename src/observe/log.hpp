#pragma once
// Logging: spdlog behind a few helpers. One named logger per subsystem
// (`observe::Logger("http")->info("accepted remote={} loop={}", ...)`), messages written as
// key=value pairs after a short lowercase phrase, ids (thread_id, run_id, request_id) included
// whenever known. Never log per token or per SSE event at info.
//
// Thread-safe: loggers are shared and internally locked; RateLimit is atomic.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <spdlog/spdlog.h>

namespace agentd::observe {

// Sets the level of every logger ("trace", "debug", "info", "warn", "error", "off") and the
// line pattern. Call once at start-up; unknown level names fall back to info. spdlog's default
// logger (plain `spdlog::info(...)`) becomes Logger("agentd"): no line has an empty name.
void InitLogging(std::string_view level);

// The logger for a subsystem, created on first use with the current level.
std::shared_ptr<spdlog::logger> Logger(std::string_view name);

// Lets at most one event through per `interval` and counts the ones it held back, for
// warnings that could otherwise repeat per request (userver's LOG_LIMITED_WARNING).
class RateLimit {
 public:
  explicit RateLimit(std::chrono::milliseconds interval) : interval_ns_(ToNs(interval)) {}
  // True when the caller may log now; `suppressed` gets how many were held back since the last.
  bool Allow(std::uint64_t* suppressed = nullptr);

 private:
  static std::int64_t ToNs(std::chrono::nanoseconds d) { return d.count(); }
  std::int64_t interval_ns_;
  std::atomic<std::int64_t> next_allowed_ns_{0};
  std::atomic<std::uint64_t> suppressed_{0};
};

// A warning that appears at most once per `limit`'s interval, with a suppressed=<n> suffix.
template <class... Args>
void WarnLimited(RateLimit& limit, spdlog::logger& logger,
                 spdlog::format_string_t<Args...> fmt, Args&&... args) {
  std::uint64_t suppressed = 0;
  if (!limit.Allow(&suppressed)) return;
  if (!logger.should_log(spdlog::level::warn)) return;
  auto text = fmt::format(fmt, std::forward<Args>(args)...);
  if (suppressed > 0) {
    logger.warn("{} suppressed={}", text, suppressed);
  } else {
    logger.warn("{}", text);
  }
}

// The OpenTelemetry trace id of a run's spans (runtime/otlp_exporter.hpp): its UUID's 32 hex
// digits (any other id: a 128-bit hash of it, in hex), so a log line and a trace backend agree
// without a lookup.
std::string TraceIdOf(std::string_view run_id);

// A run's ids in a log line: `run_id=<id> trace_id=<32 hex>`. Usage:
// spdlog::warn("{}: usage not stored: {}", observe::RunLog{run_id}, why).
struct RunLog {
  std::string_view run_id;
};

}  // namespace agentd::observe

template <>
struct fmt::formatter<agentd::observe::RunLog> : fmt::formatter<std::string_view> {
  template <class Context>
  auto format(const agentd::observe::RunLog& ids, Context& ctx) const {
    return fmt::format_to(ctx.out(), "run_id={} trace_id={}", ids.run_id,
                          agentd::observe::TraceIdOf(ids.run_id));
  }
};
