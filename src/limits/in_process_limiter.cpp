#include "limits/in_process_limiter.hpp"

namespace agentd::limits {

InProcessLimiter::InProcessLimiter(const config::Limits& limits, Clock clock)
    : clock_(std::move(clock)), limits_(std::make_shared<RequestLimits>(limits, clock_)) {}

boost::asio::awaitable<Verdict> InProcessLimiter::AdmitIp(std::string_view ip) {
  co_return limits_.Get()->AdmitIp(ip);
}

boost::asio::awaitable<Verdict> InProcessLimiter::AdmitPrincipal(std::string_view credential,
                                                                 std::string_view tenant,
                                                                 std::string_view tier) {
  co_return limits_.Get()->AdmitPrincipal(credential, tenant, tier);
}

boost::asio::awaitable<Verdict> InProcessLimiter::CheckTokens(std::string_view tenant,
                                                              std::string_view tier) {
  co_return limits_.Get()->CheckTokens(tenant, tier);
}

void InProcessLimiter::ChargeTokens(std::string_view tenant, std::string_view tier,
                                    double tokens) {
  limits_.Get()->ChargeTokens(tenant, tier, tokens);
}

std::size_t InProcessLimiter::EvictIdle() { return limits_.Get()->EvictIdle(); }

void InProcessLimiter::Reconfigure(const config::Limits& limits) {
  auto current = limits_.Get();
  limits_.Set(std::make_shared<RequestLimits>(limits, clock_, current.get()));
}

std::unique_ptr<Limiter> MakeInProcessLimiter(const config::Limits& limits, Clock clock) {
  return std::make_unique<InProcessLimiter>(limits, std::move(clock));
}

}  // namespace agentd::limits
