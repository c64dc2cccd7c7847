#pragma once
// The token buckets config::Limits asks for, worked out once so every Limiter (in-process and
// Redis) enforces the same numbers: rates per second, bucket sizes, the tier a request falls
// in. A missing bucket (nullopt) is "unlimited".

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "limits/token_bucket.hpp"

namespace agentd::limits {

struct TierSpecs {
  std::optional<BucketOptions> requests;  // requests_per_minute as a one-minute bucket
  std::optional<BucketOptions> tokens;    // tokens_per_minute as a one-minute bucket
};

struct LimitSpecs {
  std::optional<BucketOptions> per_ip;
  std::optional<BucketOptions> per_key;
  std::string default_tier;
  std::map<std::string, TierSpecs, std::less<>> tiers;

  static LimitSpecs From(const config::Limits& limits);
  // `tier` "" or unknown falls back to the default tier; null when that is not configured.
  const TierSpecs* TierOf(std::string_view tier) const;
  // The configured tier name TierOf() resolves `tier` to ("" when none).
  std::string_view TierName(std::string_view tier) const;
};

// A bucket refilled at `rate_per_second` holding `burst` (0: one second's worth, at least one);
// nullopt when rate_per_second <= 0. Sizes are normalised as TokenBucketLimiter does.
std::optional<BucketOptions> BucketFor(double rate_per_second, double burst);

}  // namespace agentd::limits
