#pragma once
#include <chrono>
#include <memory>

#include "limits/token_bucket.hpp"

namespace agentd::limits {

// A clock the test moves by hand.
struct FakeClock {
  std::shared_ptr<std::chrono::steady_clock::time_point> now =
      std::make_shared<std::chrono::steady_clock::time_point>(std::chrono::hours(1));
  Clock fn() const {
    auto p = now;
    return [p] { return *p; };
  }
  void Advance(std::chrono::milliseconds d) { *now += d; }
};

}  // namespace agentd::limits
