#include "limits/request_limits.hpp"

namespace agentd::limits {
namespace {

// `previous`: the table this limit had before a reload; kept when its options are the same.
std::shared_ptr<TokenBucketLimiter> Make(const std::optional<BucketOptions>& spec, const Clock& clock,
                                         const std::shared_ptr<TokenBucketLimiter>& previous = nullptr) {
  if (!spec) return nullptr;
  if (previous && previous->options() == *spec) return previous;
  return std::make_shared<TokenBucketLimiter>(*spec, clock);
}

Verdict Judge(TokenBucketLimiter* limiter, LimitKind kind, std::string_view key) {
  Verdict v;
  if (limiter == nullptr) return v;
  v.limited = true;
  v.kind = kind;
  v.decision = limiter->Acquire(key);
  v.allowed = v.decision.allowed;
  return v;
}

}  // namespace

std::string_view LimitName(LimitKind kind) {
  switch (kind) {
    case LimitKind::kPerIp: return "per_ip";
    case LimitKind::kPerKey: return "per_key";
    case LimitKind::kTierRequests: return "tier_requests";
    case LimitKind::kTierTokens: return "tier_tokens";
  }
  return "unknown";
}

RequestLimits::RequestLimits(const config::Limits& limits, Clock clock,
                             const RequestLimits* previous)
    : RequestLimits(LimitSpecs::From(limits), std::move(clock), previous) {}

RequestLimits::RequestLimits(const LimitSpecs& specs, Clock clock, const RequestLimits* previous)
    : default_tier_(specs.default_tier),
      per_ip_(Make(specs.per_ip, clock, previous ? previous->per_ip_ : nullptr)),
      per_key_(Make(specs.per_key, clock, previous ? previous->per_key_ : nullptr)) {
  for (const auto& [name, t] : specs.tiers) {
    TierLimiters before;
    if (previous != nullptr) {
      if (auto it = previous->tiers_.find(name); it != previous->tiers_.end()) before = it->second;
    }
    tiers_.emplace(name, TierLimiters{Make(t.requests, clock, before.requests),
                                      Make(t.tokens, clock, before.tokens)});
  }
}

RequestLimits::~RequestLimits() = default;

const RequestLimits::TierLimiters* RequestLimits::TierOf(std::string_view tier) const {
  auto it = tiers_.find(tier.empty() ? std::string_view(default_tier_) : tier);
  if (it == tiers_.end()) it = tiers_.find(default_tier_);
  return it == tiers_.end() ? nullptr : &it->second;
}

Verdict RequestLimits::AdmitIp(std::string_view ip) { return Judge(per_ip_.get(), LimitKind::kPerIp, ip); }

Verdict RequestLimits::AdmitPrincipal(std::string_view credential, std::string_view tenant,
                                      std::string_view tier) {
  // No credential (auth off): nothing to count per key.
  Verdict key = Judge(credential.empty() ? nullptr : per_key_.get(), LimitKind::kPerKey, credential);
  if (!key.allowed) return key;
  const TierLimiters* t = TierOf(tier);
  Verdict by_tier = Judge(t ? t->requests.get() : nullptr, LimitKind::kTierRequests, tenant);
  if (!by_tier.allowed || !key.limited) return by_tier;
  // Both passed: report the tighter one in the headers.
  if (by_tier.limited && by_tier.decision.remaining < key.decision.remaining) return by_tier;
  return key;
}

Verdict RequestLimits::CheckTokens(std::string_view tenant, std::string_view tier) {
  Verdict v;
  const TierLimiters* t = TierOf(tier);
  if (t == nullptr || !t->tokens) return v;
  v.limited = true;
  v.kind = LimitKind::kTierTokens;
  v.decision = t->tokens->Check(tenant);
  v.allowed = v.decision.allowed;
  return v;
}

void RequestLimits::ChargeTokens(std::string_view tenant, std::string_view tier, double tokens) {
  const TierLimiters* t = TierOf(tier);
  if (t != nullptr && t->tokens) t->tokens->Charge(tenant, tokens);
}

std::size_t RequestLimits::EvictIdle() {
  std::size_t n = 0;
  for (auto* l : {per_ip_.get(), per_key_.get()}) {
    if (l) n += l->EvictIdle();
  }
  for (auto& [name, t] : tiers_) {
    if (t.requests) n += t.requests->EvictIdle();
    if (t.tokens) n += t.tokens->EvictIdle();
  }
  return n;
}

}  // namespace agentd::limits
