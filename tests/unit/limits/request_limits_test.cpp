#include "limits/request_limits.hpp"

#include <gtest/gtest.h>

#include "fake_clock.hpp"

namespace agentd::limits {
namespace {

config::Limits Configured() {
  config::Limits l;
  l.per_ip_requests_per_second = 1;
  l.per_ip_burst = 2;
  l.per_key_requests_per_second = 100;
  l.tiers = {config::TierLimits{.name = "default", .requests_per_minute = 3, .tokens_per_minute = 600},
             config::TierLimits{.name = "free", .requests_per_minute = 1}};
  return l;
}

TEST(RequestLimits, ZeroMeansUnlimited) {
  RequestLimits limits(config::Limits{});
  for (int i = 0; i < 1000; ++i) {
    EXPECT_FALSE(limits.AdmitIp("1.2.3.4").limited);
    EXPECT_FALSE(limits.AdmitPrincipal("k", "t", "").limited);
    EXPECT_FALSE(limits.CheckTokens("t", "").limited);
  }
}

TEST(RequestLimits, PerIpUsesItsBurst) {
  FakeClock clock;
  RequestLimits limits(Configured(), clock.fn());
  EXPECT_TRUE(limits.AdmitIp("ip").allowed);
  EXPECT_TRUE(limits.AdmitIp("ip").allowed);
  Verdict v = limits.AdmitIp("ip");
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(LimitName(v.kind), "per_ip");
}

TEST(RequestLimits, TierRequestsPerMinuteAreCountedPerTenant) {
  FakeClock clock;
  RequestLimits limits(Configured(), clock.fn());
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limits.AdmitPrincipal("k1", "acme", "").allowed) << i;
  Verdict v = limits.AdmitPrincipal("k2", "acme", "default");  // another key, same tenant
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(LimitName(v.kind), "tier_requests");
  EXPECT_EQ(v.decision.retry_after, std::chrono::milliseconds(20'000));  // 3/min: one per 20 s
  EXPECT_TRUE(limits.AdmitPrincipal("k3", "other", "").allowed);
  EXPECT_TRUE(limits.AdmitPrincipal("k4", "f", "free").allowed);
  EXPECT_FALSE(limits.AdmitPrincipal("k4", "f", "free").allowed);
  clock.Advance(std::chrono::seconds(20));
  EXPECT_TRUE(limits.AdmitPrincipal("k1", "acme", "").allowed);
}

TEST(RequestLimits, TokenBudgetRefusesWhileOverAndRecovers) {
  FakeClock clock;
  RequestLimits limits(Configured(), clock.fn());
  EXPECT_TRUE(limits.CheckTokens("acme", "").allowed);
  limits.ChargeTokens("acme", "", 700);  // 600/min budget: 100 over
  Verdict v = limits.CheckTokens("acme", "");
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(LimitName(v.kind), "tier_tokens");
  EXPECT_TRUE(limits.CheckTokens("other", "").allowed);
  EXPECT_FALSE(limits.CheckTokens("acme", "free").limited);  // free has no token limit
  clock.Advance(std::chrono::seconds(11));  // +110 tokens
  EXPECT_TRUE(limits.CheckTokens("acme", "").allowed);
}

}  // namespace
}  // namespace agentd::limits
