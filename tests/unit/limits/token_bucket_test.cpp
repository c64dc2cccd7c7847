#include "limits/token_bucket.hpp"

#include <gtest/gtest.h>

#include "fake_clock.hpp"

namespace agentd::limits {
namespace {

using std::chrono::milliseconds;

TEST(TokenBucket, AllowsTheBurstThenRefusesWithRetryAfter) {
  FakeClock clock;
  TokenBucketLimiter l({.rate_per_second = 2, .burst = 3}, clock.fn());
  for (int i = 0; i < 3; ++i) {
    Decision d = l.Acquire("a");
    EXPECT_TRUE(d.allowed) << i;
    EXPECT_EQ(d.remaining, 2 - i);
    EXPECT_EQ(d.limit, 3);
  }
  Decision refused = l.Acquire("a");
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.remaining, 0);
  EXPECT_EQ(refused.retry_after, milliseconds(500));  // one token at 2/s
  // A refusal's reset is its retry_after (RateLimit-Reset = Retry-After), not the 1500 ms until
  // the bucket is full.
  EXPECT_EQ(refused.reset, milliseconds(500));
  clock.Advance(milliseconds(500));
  Decision allowed_later = l.Check("a");
  EXPECT_TRUE(allowed_later.allowed);
  EXPECT_EQ(allowed_later.reset, milliseconds(1000));  // admitted: until all three are back
}

TEST(TokenBucket, EveryRefusalKindResetsWhenItsRetryAfterEnds) {
  FakeClock clock;
  // Acquire of more than is left.
  TokenBucketLimiter l({.rate_per_second = 4, .burst = 8}, clock.fn());
  EXPECT_TRUE(l.Acquire("a", 7).allowed);
  Decision short_of = l.Acquire("a", 3);
  EXPECT_FALSE(short_of.allowed);
  EXPECT_EQ(short_of.retry_after, milliseconds(500));  // 2 more tokens at 4/s
  EXPECT_EQ(short_of.reset, short_of.retry_after);
  // A charged debt (the token budget): Check refuses until the balance is positive.
  l.Charge("b", 12);  // 8 - 12 = -4
  Decision in_debt = l.Check("b");
  EXPECT_FALSE(in_debt.allowed);
  EXPECT_EQ(in_debt.retry_after, milliseconds(1250));  // to +1 at 4/s
  EXPECT_EQ(in_debt.reset, in_debt.retry_after);
  // A full key table of active keys refuses a new key.
  TokenBucketLimiter tiny({.rate_per_second = 1, .burst = 2, .max_keys = 1, .shards = 1},
                          clock.fn());
  EXPECT_TRUE(tiny.Acquire("x").allowed);
  Decision overflow = tiny.Acquire("y");
  EXPECT_FALSE(overflow.allowed);
  EXPECT_TRUE(overflow.overflow);
  EXPECT_EQ(overflow.reset, overflow.retry_after);
}

TEST(TokenBucket, RefillsWithTimeUpToTheBurst) {
  FakeClock clock;
  TokenBucketLimiter l({.rate_per_second = 1, .burst = 2}, clock.fn());
  EXPECT_TRUE(l.Acquire("a").allowed);
  EXPECT_TRUE(l.Acquire("a").allowed);
  EXPECT_FALSE(l.Acquire("a").allowed);
  clock.Advance(milliseconds(999));
  EXPECT_FALSE(l.Acquire("a").allowed);
  clock.Advance(milliseconds(1));
  EXPECT_TRUE(l.Acquire("a").allowed);
  clock.Advance(std::chrono::hours(1));  // never more than the burst
  EXPECT_TRUE(l.Acquire("a").allowed);
  EXPECT_TRUE(l.Acquire("a").allowed);
  EXPECT_FALSE(l.Acquire("a").allowed);
}

TEST(TokenBucket, KeysAreIndependent) {
  FakeClock clock;
  TokenBucketLimiter l({.rate_per_second = 1, .burst = 1}, clock.fn());
  EXPECT_TRUE(l.Acquire("a").allowed);
  EXPECT_FALSE(l.Acquire("a").allowed);
  EXPECT_TRUE(l.Acquire("b").allowed);
}

TEST(TokenBucket, EvictsOnlyIdleKeys) {
  FakeClock clock;
  TokenBucketLimiter l({.rate_per_second = 1, .burst = 2}, clock.fn());
  l.Acquire("idle");
  l.Acquire("busy");
  l.Acquire("busy");
  clock.Advance(milliseconds(1000));  // idle is full again; busy holds 1 of 2
  EXPECT_EQ(l.EvictIdle(), 1u);
  EXPECT_EQ(l.size(), 1u);
  // busy was not forgotten: it still has only one token.
  EXPECT_TRUE(l.Acquire("busy").allowed);
  EXPECT_FALSE(l.Acquire("busy").allowed);
}

TEST(TokenBucket, FullTableRefusesNewKeysButNeverForgetsActiveOnes) {
  FakeClock clock;
  TokenBucketLimiter l({.rate_per_second = 1, .burst = 1, .max_keys = 2, .shards = 1}, clock.fn());
  EXPECT_TRUE(l.Acquire("a").allowed);
  EXPECT_TRUE(l.Acquire("b").allowed);
  Decision third = l.Acquire("c");
  EXPECT_FALSE(third.allowed);
  EXPECT_TRUE(third.overflow);
  EXPECT_EQ(l.size(), 2u);
  EXPECT_FALSE(l.Acquire("a").allowed);  // a is still limited
  clock.Advance(milliseconds(1000));     // a and b are idle now: a sweep makes room
  EXPECT_TRUE(l.Acquire("c").allowed);
  EXPECT_LE(l.size(), 2u);
}

TEST(TokenBucket, ChargeRunsIntoDebtThatCheckReports) {
  FakeClock clock;
  TokenBucketLimiter l({.rate_per_second = 10, .burst = 100}, clock.fn());
  EXPECT_TRUE(l.Check("t").allowed);
  EXPECT_EQ(l.size(), 0u);  // Check creates nothing
  l.Charge("t", 150);       // 50 in debt
  Decision d = l.Check("t");
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after, milliseconds(5100));  // 51 tokens at 10/s to be positive
  clock.Advance(milliseconds(5000));
  EXPECT_FALSE(l.Check("t").allowed);  // exactly 0 is not positive
  clock.Advance(milliseconds(100));
  EXPECT_TRUE(l.Check("t").allowed);
}

TEST(TokenBucket, AClockSteppingBackRefillsNothing) {
  FakeClock clock;
  TokenBucketLimiter l({.rate_per_second = 1, .burst = 1}, clock.fn());
  EXPECT_TRUE(l.Acquire("a").allowed);
  clock.Advance(milliseconds(-5000));
  EXPECT_FALSE(l.Acquire("a").allowed);
}

}  // namespace
}  // namespace agentd::limits
