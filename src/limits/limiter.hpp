#pragma once
// The rate limits of config::Limits as the API enforces them, behind one interface so a
// deployment picks where the buckets live:
//   InProcessLimiter (in_process_limiter.hpp): buckets in this process; N instances behind a
//     load balancer allow N times each limit. The embedded / single-instance choice.
//   RedisLimiter (redis/redis_limiter.hpp): the same buckets in Redis, shared by every
//     instance, with an in-process limiter as its logged, metered fallback while Redis is down.
//
// Every check answers a Verdict (request_limits.hpp) whose Decision renders the RateLimit-*
// and Retry-After headers; both implementations compute it with DescribeBucket(), so the
// headers do not depend on which one decided. Checks never fail: a limiter that cannot reach
// its store decides with its fallback instead (see the implementation).
//
// Thread safety: every method may be called from any thread, concurrently. The string_views
// must stay valid until the awaitable completes (co_await it at once).

#include <cstddef>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "limits/request_limits.hpp"

namespace agentd::limits {

class Limiter {
 public:
  virtual ~Limiter() = default;

  // The per-IP request limit.
  virtual boost::asio::awaitable<Verdict> AdmitIp(std::string_view ip) = 0;
  // The per-credential limit, then the tenant's tier requests_per_minute. `credential` ""
  // (auth off) skips the per-credential limit; `tier` "" means the default tier.
  virtual boost::asio::awaitable<Verdict> AdmitPrincipal(std::string_view credential,
                                                         std::string_view tenant,
                                                         std::string_view tier) = 0;
  // Whether the tenant's LLM token budget (tier tokens_per_minute) is positive; takes nothing.
  virtual boost::asio::awaitable<Verdict> CheckTokens(std::string_view tenant,
                                                      std::string_view tier) = 0;
  // Charges `tokens` of LLM usage to the tenant's budget (the balance may go negative).
  // Never waits: usage is known after a run, nobody has anything to do with the outcome, and
  // the scheduler calls it from a plain callback. The charge is applied before any check this
  // limiter issues afterwards from the same thread.
  virtual void ChargeTokens(std::string_view tenant, std::string_view tier, double tokens) = 0;

  // Drops idle in-process buckets (call periodically); returns how many.
  virtual std::size_t EvictIdle() = 0;

  // A configuration reload: checks from now on use `limits` (rates, bursts, tiers, the default
  // tier). Checks already under way finish with the limits they started with. Buckets whose
  // limit is unchanged keep their state; a changed limit starts from full buckets.
  virtual void Reconfigure(const config::Limits& limits) = 0;
};

}  // namespace agentd::limits
