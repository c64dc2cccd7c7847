#pragma once
// The request limits of config::Limits, as the API enforces them before any handler runs:
// per client IP, per credential (API key or JWT tenant+user), per tenant by its tier's
// requests_per_minute; and the per-tenant LLM token budget (tier tokens_per_minute).
//
// Each check returns a Verdict: whether the request may pass and, when some limiter applied,
// its Decision (for the RateLimit-* and Retry-After headers). A limit of 0 is "unlimited" and
// costs nothing.
//
// Token budget: ChargeTokens() after a run's LLM usage is known; CheckTokens() refuses new
// runs of a tenant whose balance is not positive. The scheduler charges each finished run's
// usage (RunManagerOptions::charge_tokens, wired in apps/agentd/application.cpp).

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "limits/limit_specs.hpp"
#include "limits/token_bucket.hpp"

namespace agentd::limits {

enum class LimitKind { kPerIp, kPerKey, kTierRequests, kTierTokens };
// "per_ip", "per_key", "tier_requests", "tier_tokens": the `limit` of a 429 body and metric label.
std::string_view LimitName(LimitKind kind);

struct Verdict {
  bool allowed = true;
  bool limited = false;  // some limiter applied (then `kind` and `decision` describe it)
  LimitKind kind = LimitKind::kPerIp;
  Decision decision;
};

class RequestLimits {
 public:
  // `previous` (a reload: the limits being replaced): every bucket table whose options are
  // unchanged is shared with it, so a reload resets only the limits it changes.
  explicit RequestLimits(const config::Limits& limits, Clock clock = SteadyClock(),
                         const RequestLimits* previous = nullptr);
  explicit RequestLimits(const LimitSpecs& specs, Clock clock = SteadyClock(),
                         const RequestLimits* previous = nullptr);
  ~RequestLimits();

  Verdict AdmitIp(std::string_view ip);
  // `credential` identifies the key or token subject; `tier` "" means the default tier.
  Verdict AdmitPrincipal(std::string_view credential, std::string_view tenant, std::string_view tier);

  Verdict CheckTokens(std::string_view tenant, std::string_view tier);
  void ChargeTokens(std::string_view tenant, std::string_view tier, double tokens);

  // Drops refilled (idle) buckets of every limiter; call periodically.
  std::size_t EvictIdle();

 private:
  // Shared (not unique) so that a reloaded RequestLimits can keep the unchanged tables; each
  // TokenBucketLimiter is thread-safe on its own.
  using Table = std::shared_ptr<TokenBucketLimiter>;
  struct TierLimiters {
    Table requests;  // null: unlimited
    Table tokens;    // null: unlimited
  };
  const TierLimiters* TierOf(std::string_view tier) const;

  std::string default_tier_;
  Table per_ip_;   // null: unlimited
  Table per_key_;  // null: unlimited
  std::map<std::string, TierLimiters, std::less<>> tiers_;
};

}  // namespace agentd::limits
