#pragma once
// Private to limits/redis: the degraded-mode bookkeeping a Redis-backed limit keeps while
// Redis is unreachable and it decides in this process instead (redis_limiter.cpp,
// redis_run_permits.cpp): whether an outage is on, the gauge that says so, when it began and
// how many fallback decisions it made, and the rate limit on its warning (against flapping).
//
// Thread-safe: active() is a lock-free read on every decision; Begin/End flip the flag and the
// gauge together under one mutex, so the gauge always says what active() says.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>

#include "observe/log.hpp"
#include "observe/metrics.hpp"

namespace agentd::limits::redis {

class Outage {
 public:
  // `fallbacks` counts the decisions made in-process; `degraded` is set to 0 here.
  Outage(observe::Counter& fallbacks, observe::Gauge& degraded);

  bool active() const { return active_.load(std::memory_order_relaxed); }
  // Starts an outage; false when one is already on.
  bool Begin();
  struct Ended {
    std::chrono::milliseconds duration{0};
    std::uint64_t fallbacks = 0;  // decisions made in-process during it
  };
  // Ends the outage; nullopt when none was on.
  std::optional<Ended> End();
  // For the one warning per outage (observe::WarnLimited).
  observe::RateLimit& warn_limit() { return warn_limit_; }

 private:
  observe::Counter& fallbacks_;
  observe::Gauge& degraded_;
  observe::RateLimit warn_limit_{std::chrono::seconds(30)};
  std::atomic<bool> active_{false};
  std::mutex mu_;
  std::chrono::steady_clock::time_point began_{};  // guarded by mu_
  std::uint64_t fallbacks_at_begin_ = 0;           // guarded by mu_
};

}  // namespace agentd::limits::redis
