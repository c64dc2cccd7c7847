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

}  // namespace agentd::observe
