#pragma once
// The Limiter whose buckets live in this process: RequestLimits behind the awaitable
// interface (limiter.hpp). Per instance: N instances allow N times each limit. Checks complete
// without suspending.

#include <memory>

#include "common/snapshot.hpp"
#include "limits/limiter.hpp"
#include "limits/request_limits.hpp"

namespace agentd::limits {

class InProcessLimiter final : public Limiter {
 public:
  explicit InProcessLimiter(const config::Limits& limits, Clock clock = SteadyClock());

  boost::asio::awaitable<Verdict> AdmitIp(std::string_view ip) override;
  boost::asio::awaitable<Verdict> AdmitPrincipal(std::string_view credential,
                                                 std::string_view tenant,
                                                 std::string_view tier) override;
  boost::asio::awaitable<Verdict> CheckTokens(std::string_view tenant,
                                              std::string_view tier) override;
  void ChargeTokens(std::string_view tenant, std::string_view tier, double tokens) override;
  std::size_t EvictIdle() override;
  void Reconfigure(const config::Limits& limits) override;

 private:
  Clock clock_;
  Snapshot<RequestLimits> limits_;  // replaced whole by Reconfigure
};

std::unique_ptr<Limiter> MakeInProcessLimiter(const config::Limits& limits,
                                              Clock clock = SteadyClock());

}  // namespace agentd::limits
