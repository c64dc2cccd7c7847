#include "observe/log.hpp"

#include <cctype>
#include <cstdint>
#include <mutex>
#include <string>

#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>

namespace agentd::observe {

namespace {

std::mutex g_mu;
spdlog::level::level_enum g_level = spdlog::level::info;
constexpr const char* kPattern = "%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ [%n] %v";
constexpr const char* kDefaultName = "agentd";

std::shared_ptr<spdlog::logger> MakeLoggerLocked(const std::string& key) {
  // stderr: stdout may carry machine-readable output (the effective-config dump).
  auto logger = spdlog::stderr_color_mt(key);
  logger->set_pattern(kPattern, spdlog::pattern_time_type::utc);
  logger->set_level(g_level);
  return logger;
}

}  // namespace

void InitLogging(std::string_view level) {
  std::lock_guard lock(g_mu);
  auto parsed = spdlog::level::from_str(std::string(level));
  // from_str answers "off" for names it does not know; only take "off" when asked for it.
  if (parsed == spdlog::level::off && level != "off") parsed = spdlog::level::info;
  g_level = parsed;
  // Plain spdlog::info(...) calls go to the default logger, whose name is empty (a `[]` tag)
  // and whose sink is stdout: make it the `agentd` logger on stderr like the others.
  if (spdlog::default_logger()->name() != kDefaultName) {
    auto named = spdlog::get(kDefaultName);
    spdlog::set_default_logger(named ? named : MakeLoggerLocked(kDefaultName));
  }
  spdlog::set_pattern(kPattern, spdlog::pattern_time_type::utc);
  spdlog::set_level(g_level);
}

std::shared_ptr<spdlog::logger> Logger(std::string_view name) {
  std::string key(name);
  if (auto existing = spdlog::get(key)) return existing;
  std::lock_guard lock(g_mu);
  if (auto existing = spdlog::get(key)) return existing;
  return MakeLoggerLocked(key);
}

bool RateLimit::Allow(std::uint64_t* suppressed) {
  auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                 std::chrono::steady_clock::now().time_since_epoch())
                 .count();
  auto next = next_allowed_ns_.load(std::memory_order_relaxed);
  if (now < next || !next_allowed_ns_.compare_exchange_strong(next, now + interval_ns_)) {
    suppressed_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  auto held = suppressed_.exchange(0, std::memory_order_relaxed);
  if (suppressed) *suppressed = held;
  return true;
}

std::string TraceIdOf(std::string_view run_id) {
  std::string hex;
  hex.reserve(32);
  for (char c : run_id) {
    if (c == '-') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) {
      hex.clear();
      break;
    }
    hex += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (hex.size() == 32 && hex != std::string(32, '0')) return hex;
  // Not a UUID: two FNV-1a 64-bit hashes with different offsets.
  std::uint64_t a = 14695981039346656037ull;
  std::uint64_t b = 0x6c62272e07bb0142ull;
  for (char c : run_id) {
    a = (a ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    b = (b ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  }
  return fmt::format("{:016x}{:016x}", a, b | 1);
}

}  // namespace agentd::observe
