// Admission: the fair queue's order, priorities, limits and refusals. No event loop needed:
// these tests only look at states and positions (woken() is a OneShot nobody waits on here).
#include "scheduler/admission.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "scheduler/refusal.hpp"

namespace agentd::scheduler {
namespace {

using State = AdmissionTicket::State;

TierQuota Tier(std::size_t concurrent = 0, std::size_t queued = 0, int priority = 0) {
  return TierQuota{"t", concurrent, queued, priority};
}

Ticket AdmitOk(Admission& a, const std::string& tenant, TierQuota quota = Tier()) {
  auto t = a.Admit(tenant, quota);
  EXPECT_TRUE(t) << (t ? "" : t.error().message);
  return t ? *t : nullptr;
}

TEST(Admission, GrantsUpToTheBudgetThenQueues) {
  Admission a({.max_active = 2, .max_queued = 0});
  auto t1 = AdmitOk(a, "a");
  auto t2 = AdmitOk(a, "a");
  auto t3 = AdmitOk(a, "a");
  EXPECT_TRUE(a.Request(t1));
  EXPECT_TRUE(a.Request(t2));
  EXPECT_FALSE(a.Request(t3));
  EXPECT_EQ(a.state(t3), State::kQueued);
  EXPECT_EQ(a.Position(t3)->position, 1u);
  a.Release(t1);
  EXPECT_EQ(a.state(t3), State::kExecuting);
  EXPECT_TRUE(t3->woken().is_set());
  auto s = a.Stats();
  EXPECT_EQ(s.executing, 2u);
  EXPECT_EQ(s.queued, 0u);
  EXPECT_EQ(s.waiting, 0u);
}

TEST(Admission, OneTenantsBurstDoesNotPushAnotherTenantBack) {
  Admission a({.max_active = 1, .max_queued = 0});
  auto running = AdmitOk(a, "a");
  ASSERT_TRUE(a.Request(running));
  std::vector<Ticket> flood;
  for (int i = 0; i < 1000; ++i) {
    flood.push_back(AdmitOk(a, "a"));
    a.Request(flood.back());
  }
  std::vector<Ticket> b;
  for (int i = 0; i < 10; ++i) {
    b.push_back(AdmitOk(a, "b"));
    a.Request(b.back());
  }
  // B's i-th run waits behind at most i+1 of A's (one per turn), never behind the burst.
  for (std::size_t i = 0; i < b.size(); ++i) {
    auto pos = a.Position(b[i]);
    ASSERT_TRUE(pos);
    EXPECT_LE(pos->position, 2 * (i + 1)) << "B run " << i;
  }
  // And the dispatch order matches: after 20 releases every B run has executed.
  Ticket current = running;
  std::size_t b_done = 0;
  for (int step = 0; step < 20; ++step) {
    a.Release(current);
    current = nullptr;
    for (auto& t : b) {
      if (a.state(t) == State::kExecuting) current = t;
    }
    for (auto& t : flood) {
      if (!current && a.state(t) == State::kExecuting) current = t;
    }
    ASSERT_NE(current, nullptr);
    if (current->tenant() == "b") ++b_done;
  }
  EXPECT_EQ(b_done, 10u);
  EXPECT_EQ(a.Stats().queued, 1000u - 10u);
}

TEST(Admission, HigherPriorityTierIsServedFirst) {
  Admission a({.max_active = 1, .max_queued = 0});
  auto running = AdmitOk(a, "x");
  ASSERT_TRUE(a.Request(running));
  auto low = AdmitOk(a, "free", Tier(0, 0, 0));
  a.Request(low);
  auto high = AdmitOk(a, "paid", Tier(0, 0, 10));
  a.Request(high);
  EXPECT_EQ(a.Position(high)->position, 1u);
  EXPECT_EQ(a.Position(low)->position, 2u);
  a.Release(running);
  EXPECT_EQ(a.state(high), State::kExecuting);
  EXPECT_EQ(a.state(low), State::kQueued);
}

TEST(Admission, TenantConcurrencyCapLetsOtherTenantsUseFreeSlots) {
  Admission a({.max_active = 4, .max_queued = 0});
  auto a1 = AdmitOk(a, "a", Tier(1));
  auto a2 = AdmitOk(a, "a", Tier(1));
  auto b1 = AdmitOk(a, "b", Tier(1));
  EXPECT_TRUE(a.Request(a1));
  EXPECT_FALSE(a.Request(a2));  // a is at its cap though slots are free
  EXPECT_TRUE(a.Request(b1));
  a.Release(a1);
  EXPECT_EQ(a.state(a2), State::kExecuting);
}

TEST(Admission, TenantQueueFullIsRefusedWith429NamingTheLimit) {
  Admission a({.max_active = 10, .max_queued = 100});
  auto quota = Tier(1, 2);
  auto r1 = AdmitOk(a, "a", quota);
  ASSERT_TRUE(a.Request(r1));
  auto w1 = AdmitOk(a, "a", quota);
  auto w2 = AdmitOk(a, "a", quota);
  auto refused = a.Admit("a", quota);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::kResourceExhausted);
  auto why = ParseRefusal(refused.error());
  ASSERT_TRUE(why);
  EXPECT_EQ(why->error, "tenant_limit");
  EXPECT_EQ(why->limit, "max_concurrent_runs");  // its own cap is why its runs wait
  EXPECT_GE(why->retry_after.count(), 1);
  // Another tenant is not affected.
  EXPECT_TRUE(a.Admit("b", quota));
}

TEST(Admission, TenantQueueFullBehindTheGlobalBudgetNamesMaxQueuedRuns) {
  Admission a({.max_active = 1, .max_queued = 100});
  auto other = AdmitOk(a, "z");
  ASSERT_TRUE(a.Request(other));
  auto quota = Tier(5, 1);
  auto w1 = AdmitOk(a, "a", quota);
  auto refused = a.Admit("a", quota);
  ASSERT_FALSE(refused);
  EXPECT_EQ(ParseRefusal(refused.error())->limit, "max_queued_runs");
}

TEST(Admission, GlobalQueueFullIsRefusedWith503AndSaturates) {
  Admission a({.max_active = 2, .max_queued = 3});
  std::vector<Ticket> t;
  for (int i = 0; i < 5; ++i) t.push_back(AdmitOk(a, "t" + std::to_string(i)));
  EXPECT_TRUE(a.Stats().saturated);
  auto refused = a.Admit("new", Tier());
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::kUnavailable);
  auto why = ParseRefusal(refused.error());
  ASSERT_TRUE(why);
  EXPECT_EQ(why->error, "server_saturated");
  EXPECT_EQ(why->limit, "max_queued_runs");
  // Crash recovery is never refused.
  EXPECT_TRUE(a.Admit("new", Tier(), /*force=*/true));
  a.Release(t[0]);
  a.Release(t[1]);
  EXPECT_FALSE(a.Stats().saturated);
}

TEST(Admission, WithdrawTakesAQueuedTicketBackButNotAGrantedOne) {
  Admission a({.max_active = 1});
  auto t1 = AdmitOk(a, "a");
  auto t2 = AdmitOk(a, "a");
  ASSERT_TRUE(a.Request(t1));
  ASSERT_FALSE(a.Request(t2));
  EXPECT_FALSE(a.Withdraw(t1));
  EXPECT_TRUE(a.Withdraw(t2));
  EXPECT_EQ(a.Stats().queued, 0u);
  EXPECT_EQ(a.Stats().waiting, 0u);
  a.Release(t2);  // idempotent after withdraw
  a.Release(t1);
  EXPECT_EQ(a.Stats().executing, 0u);
}

TEST(Admission, CloseWakesQueuedTicketsAndRefusesNewOnes) {
  Admission a({.max_active = 1});
  auto t1 = AdmitOk(a, "a");
  auto t2 = AdmitOk(a, "a");
  ASSERT_TRUE(a.Request(t1));
  ASSERT_FALSE(a.Request(t2));
  a.Close();
  EXPECT_EQ(a.state(t2), State::kClosed);
  EXPECT_TRUE(t2->woken().is_set());
  auto refused = a.Admit("a", Tier());
  ASSERT_FALSE(refused);
  EXPECT_EQ(ParseRefusal(refused.error())->error, "shutting_down");
  a.Release(t1);
  EXPECT_EQ(a.state(t1), State::kReleased);
}

TEST(Refusal, RoundTripsThroughAnError) {
  Error e = RefusalError(Errc::kUnavailable, Refusal{"server_saturated", "max_queued_runs",
                                                     "full", std::chrono::seconds(7)});
  auto r = ParseRefusal(e);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->error, "server_saturated");
  EXPECT_EQ(r->limit, "max_queued_runs");
  EXPECT_EQ(r->message, "full");
  EXPECT_EQ(r->retry_after, std::chrono::seconds(7));
  EXPECT_FALSE(ParseRefusal(Error(Errc::kUnavailable, "plain")));
}

TEST(Admission, RefusesNewRunsWhileResidentMemoryIsPastTheBudget) {
  std::uint64_t resident = 100;
  Admission a({.max_active = 4,
               .max_queued = 0,
               .memory_refuse_bytes = 90 << 20,
               .memory_limit_bytes = 100 << 20,
               .resident_bytes = [&] { return resident; }});
  resident = 89 << 20;
  auto below = AdmitOk(a, "a");
  resident = 90 << 20;
  auto refused = a.Admit("a", Tier());
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::kUnavailable);
  auto why = ParseRefusal(refused.error());
  ASSERT_TRUE(why);
  EXPECT_EQ(why->error, "server_saturated");
  EXPECT_EQ(why->limit, "memory_limit_bytes");
  EXPECT_GE(why->retry_after.count(), 5);
  EXPECT_NE(why->message.find("90 MiB resident"), std::string::npos) << why->message;
  EXPECT_NE(why->message.find("memory_limit_bytes 100 MiB"), std::string::npos) << why->message;
  // Nothing was counted for the refused run; an accepted run goes on, and recovery's forced
  // admission (a run accepted once) is never refused.
  EXPECT_EQ(a.Stats().waiting, 1u);
  EXPECT_TRUE(a.Request(below));
  EXPECT_TRUE(a.Admit("a", Tier(), /*force=*/true));
  resident = 10 << 20;
  EXPECT_TRUE(a.Admit("a", Tier()));
}

TEST(Admission, WithoutAMemoryBudgetResidentMemoryIsNotRead) {
  int reads = 0;
  Admission a({.max_active = 1, .resident_bytes = [&] {
                 ++reads;
                 return std::uint64_t{1} << 40;
               }});
  EXPECT_TRUE(a.Admit("a", Tier()));
  EXPECT_EQ(reads, 0);
}

}  // namespace
}  // namespace agentd::scheduler
