#pragma once
// The clock every backend reads timestamps from. Injectable so tests can order timestamps
// and expire TTL items without sleeping; an empty Clock means NowMs().

#include <functional>

#include "common/time.hpp"

namespace agentd::storage {

using Clock = std::function<TimestampMs()>;

inline Clock OrSystemClock(Clock clock) {
  if (clock) return clock;
  return [] { return NowMs(); };
}

}  // namespace agentd::storage
