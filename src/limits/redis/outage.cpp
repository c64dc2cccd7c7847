#include "limits/redis/outage.hpp"

namespace agentd::limits::redis {

Outage::Outage(observe::Counter& fallbacks, observe::Gauge& degraded)
    : fallbacks_(fallbacks), degraded_(degraded) {
  degraded_.Set(0);
}

bool Outage::Begin() {
  std::lock_guard lock(mu_);
  if (active_) return false;
  active_ = true;
  degraded_.Set(1);
  began_ = std::chrono::steady_clock::now();
  fallbacks_at_begin_ = fallbacks_.value();
  return true;
}

std::optional<Outage::Ended> Outage::End() {
  if (!active()) return std::nullopt;
  std::lock_guard lock(mu_);
  if (!active_) return std::nullopt;
  active_ = false;
  degraded_.Set(0);
  return Ended{std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - began_),
               fallbacks_.value() - fallbacks_at_begin_};
}

}  // namespace agentd::limits::redis
