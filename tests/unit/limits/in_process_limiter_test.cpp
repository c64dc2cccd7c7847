#include "limits/in_process_limiter.hpp"

#include <gtest/gtest.h>

#include "fake_clock.hpp"
#include "limits/limit_specs.hpp"
#include "support/run_co.hpp"

namespace agentd::limits {
namespace {

using agentd::testing::RunCo;

config::Limits Configured() {
  config::Limits l;
  l.per_ip_requests_per_second = 1;
  l.per_ip_burst = 2;
  l.per_key_requests_per_second = 100;
  l.tiers = {config::TierLimits{.name = "default", .requests_per_minute = 3, .tokens_per_minute = 600},
             config::TierLimits{.name = "free", .requests_per_minute = 1}};
  return l;
}

void ExpectSame(const Verdict& a, const Verdict& b, const std::string& what) {
  EXPECT_EQ(a.allowed, b.allowed) << what;
  EXPECT_EQ(a.limited, b.limited) << what;
  EXPECT_EQ(a.kind, b.kind) << what;
  EXPECT_EQ(a.decision.remaining, b.decision.remaining) << what;
  EXPECT_EQ(a.decision.limit, b.decision.limit) << what;
  EXPECT_EQ(a.decision.retry_after, b.decision.retry_after) << what;
  EXPECT_EQ(a.decision.reset, b.decision.reset) << what;
}

TEST(InProcessLimiter, AnswersWhatRequestLimitsAnswers) {
  FakeClock clock_a, clock_b;
  RequestLimits direct(Configured(), clock_a.fn());
  InProcessLimiter wrapped(Configured(), clock_b.fn());
  for (int i = 0; i < 5; ++i) {
    const std::string n = std::to_string(i);
    ExpectSame(RunCo(wrapped.AdmitIp("ip")), direct.AdmitIp("ip"), "ip " + n);
    ExpectSame(RunCo(wrapped.AdmitPrincipal("k", "acme", "")), direct.AdmitPrincipal("k", "acme", ""),
               "principal " + n);
    ExpectSame(RunCo(wrapped.AdmitPrincipal("", "f", "free")), direct.AdmitPrincipal("", "f", "free"),
               "free " + n);
    wrapped.ChargeTokens("acme", "", 250);
    direct.ChargeTokens("acme", "", 250);
    ExpectSame(RunCo(wrapped.CheckTokens("acme", "")), direct.CheckTokens("acme", ""), "tokens " + n);
    clock_a.Advance(std::chrono::milliseconds(700));
    clock_b.Advance(std::chrono::milliseconds(700));
  }
  EXPECT_FALSE(RunCo(wrapped.CheckTokens("acme", "")).allowed);  // 1250 charged, ~35 refilled
}

TEST(InProcessLimiter, ReconfigureChangesOnlyTheLimitsThatChanged) {
  FakeClock clock;
  InProcessLimiter limiter(Configured(), clock.fn());
  // Spend the per-IP burst (2) and the free tier's minute (1).
  EXPECT_TRUE(RunCo(limiter.AdmitIp("ip")).allowed);
  EXPECT_TRUE(RunCo(limiter.AdmitIp("ip")).allowed);
  EXPECT_FALSE(RunCo(limiter.AdmitIp("ip")).allowed);
  EXPECT_TRUE(RunCo(limiter.AdmitPrincipal("", "f", "free")).allowed);
  EXPECT_FALSE(RunCo(limiter.AdmitPrincipal("", "f", "free")).allowed);

  // The free tier goes to 5 a minute and a "pro" tier appears; per-IP is unchanged.
  config::Limits reloaded = Configured();
  reloaded.tiers[1].requests_per_minute = 5;
  reloaded.tiers.push_back(config::TierLimits{.name = "pro", .requests_per_minute = 2});
  limiter.Reconfigure(reloaded);

  // The changed tier starts from a full bucket of its new size...
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(RunCo(limiter.AdmitPrincipal("", "f", "free")).allowed) << i;
  Verdict over = RunCo(limiter.AdmitPrincipal("", "f", "free"));
  EXPECT_FALSE(over.allowed);
  EXPECT_EQ(over.decision.limit, 5);
  // ...the unchanged per-IP bucket keeps its state (still empty)...
  EXPECT_FALSE(RunCo(limiter.AdmitIp("ip")).allowed);
  // ...and the new tier applies at once.
  EXPECT_TRUE(RunCo(limiter.AdmitPrincipal("", "p", "pro")).allowed);
  EXPECT_TRUE(RunCo(limiter.AdmitPrincipal("", "p", "pro")).allowed);
  EXPECT_FALSE(RunCo(limiter.AdmitPrincipal("", "p", "pro")).allowed);

  // Removing the per-IP limit lifts it.
  reloaded.per_ip_requests_per_second = 0;
  limiter.Reconfigure(reloaded);
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(RunCo(limiter.AdmitIp("ip")).allowed);
}

TEST(LimitSpecs, UnknownTiersFallBackToTheDefaultAndBurstsAreAtLeastOne) {
  config::Limits l = Configured();
  l.per_ip_burst = 0;
  l.per_ip_requests_per_second = 0.5;
  LimitSpecs specs = LimitSpecs::From(l);
  ASSERT_TRUE(specs.per_ip);
  EXPECT_EQ(specs.per_ip->burst, 1);  // 0 = one second's worth, at least one
  EXPECT_EQ(specs.TierName(""), "default");
  EXPECT_EQ(specs.TierName("nope"), "default");
  EXPECT_EQ(specs.TierName("free"), "free");
  ASSERT_NE(specs.TierOf("free"), nullptr);
  EXPECT_FALSE(specs.TierOf("free")->tokens);  // 0 = unlimited
  EXPECT_EQ(specs.TierOf("")->requests->burst, 3);
  EXPECT_DOUBLE_EQ(specs.TierOf("")->requests->rate_per_second, 3.0 / 60.0);
  EXPECT_FALSE(LimitSpecs::From(config::Limits{}).per_ip);
}

}  // namespace
}  // namespace agentd::limits
