#include "limits/limit_specs.hpp"

#include <algorithm>

namespace agentd::limits {

std::optional<BucketOptions> BucketFor(double rate_per_second, double burst) {
  if (rate_per_second <= 0) return std::nullopt;
  BucketOptions o;
  o.rate_per_second = rate_per_second;
  o.burst = std::max(1.0, burst > 0 ? burst : rate_per_second);
  return o;
}

LimitSpecs LimitSpecs::From(const config::Limits& limits) {
  LimitSpecs s;
  s.per_ip = BucketFor(limits.per_ip_requests_per_second, limits.per_ip_burst);
  s.per_key = BucketFor(limits.per_key_requests_per_second, limits.per_key_burst);
  s.default_tier = limits.default_tier;
  for (const auto& t : limits.tiers) {
    // Per minute as a bucket of one minute's worth, refilled continuously.
    s.tiers.emplace(t.name,
                    TierSpecs{BucketFor(static_cast<double>(t.requests_per_minute) / 60.0,
                                        static_cast<double>(t.requests_per_minute)),
                              BucketFor(static_cast<double>(t.tokens_per_minute) / 60.0,
                                        static_cast<double>(t.tokens_per_minute))});
  }
  return s;
}

std::string_view LimitSpecs::TierName(std::string_view tier) const {
  auto it = tiers.find(tier.empty() ? std::string_view(default_tier) : tier);
  if (it == tiers.end()) it = tiers.find(default_tier);
  return it == tiers.end() ? std::string_view() : std::string_view(it->first);
}

const TierSpecs* LimitSpecs::TierOf(std::string_view tier) const {
  auto it = tiers.find(TierName(tier));
  return it == tiers.end() ? nullptr : &it->second;
}

}  // namespace agentd::limits
