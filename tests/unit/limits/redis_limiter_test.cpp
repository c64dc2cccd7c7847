// The Redis limiter against a real Redis (label integration, AGENTD_TEST_REDIS_URL from
// tests/harness/with-services --redis; skipped without it): instances share each limit, the
// Lua arithmetic equals the in-process buckets, keys expire, the script reloads itself.
// Redis going away and coming back: redis_limiter_outage_test.cpp.
#include "limits/redis/redis_limiter.hpp"

#include <cstdlib>
#include <thread>

#include <gtest/gtest.h>

#include "bus/redis/redis_event_bus.hpp"
#include "fake_clock.hpp"
#include "limits/in_process_limiter.hpp"
#include "redis_limiter_util.hpp"
#include "support/run_co.hpp"

namespace agentd::limits::redis {
namespace {

using agentd::testing::RunCo;
using bus::redis::TEST_RedisCommand;
using std::chrono::milliseconds;
using testing::Degraded;
using testing::FallbackTotal;
using testing::Loop;
using testing::UniquePrefix;

config::Limits Configured() {
  config::Limits l;
  l.per_ip_requests_per_second = 1;
  l.per_ip_burst = 3;
  l.per_key_requests_per_second = 2;
  l.per_key_burst = 2;
  l.tiers = {config::TierLimits{.name = "default", .requests_per_minute = 3, .tokens_per_minute = 600},
             config::TierLimits{.name = "free", .requests_per_minute = 1}};
  return l;
}

// A clock the test moves, in the script's unit (microseconds); shared by "instances".
struct ScriptClock {
  std::shared_ptr<std::atomic<std::int64_t>> us =
      std::make_shared<std::atomic<std::int64_t>>(1'700'000'000'000'000);
  std::function<std::int64_t()> fn() const {
    auto p = us;
    return [p] { return p->load(); };
  }
  void Advance(milliseconds d) { *us += d.count() * 1000; }
};

class RedisLimiterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* url = std::getenv("AGENTD_TEST_REDIS_URL");
    if (url == nullptr || *url == '\0') GTEST_SKIP() << "AGENTD_TEST_REDIS_URL not set";
    url_ = url;
    prefix_ = UniquePrefix(::testing::UnitTest::GetInstance()->current_test_info()->name());
  }
  RedisLimiterOptions Options() const {
    RedisLimiterOptions o;
    o.url = url_;
    o.key_prefix = prefix_;
    o.command_timeout = milliseconds(2000);  // a loaded CI machine must not flip to fallback
    return o;
  }
  std::unique_ptr<Limiter> Make(Loop& loop, observe::Metrics& metrics,
                                RedisLimiterOptions options, config::Limits limits = Configured()) {
    return MakeRedisLimiter(limits, std::move(options), loop.io.get_executor(), metrics).value();
  }

  std::string url_;
  std::string prefix_;
};

// Two limiters, two connections, two threads: as two agentd processes behind a balancer.
TEST_F(RedisLimiterTest, TwoInstancesTogetherAllowEachLimitOnce) {
  config::Limits limits = Configured();
  limits.per_ip_requests_per_second = 0.001;  // no refill while the test runs
  Loop loop_a, loop_b;
  observe::Metrics metrics_a, metrics_b;
  auto a = Make(loop_a, metrics_a, Options(), limits);
  auto b = Make(loop_b, metrics_b, Options(), limits);
  std::atomic<int> ip_allowed{0}, tier_allowed{0}, tier_refused{0};
  auto client = [&](Limiter* limiter, std::string key) {
    for (int i = 0; i < 10; ++i) {
      if (RunCo(limiter->AdmitIp("10.0.0.1")).allowed) ++ip_allowed;
      // A tenant's tier budget (3 per minute) across keys and instances.
      Verdict v = RunCo(limiter->AdmitPrincipal(key + std::to_string(i), "acme", ""));
      if (v.allowed) {
        ++tier_allowed;
      } else if (v.kind == LimitKind::kTierRequests) {
        ++tier_refused;
      }
    }
  };
  std::thread ta(client, a.get(), "ka");
  std::thread tb(client, b.get(), "kb");
  ta.join();
  tb.join();
  EXPECT_EQ(ip_allowed.load(), 3);  // per-IP burst 3: not 2 x 3
  EXPECT_EQ(tier_allowed.load(), 3);
  EXPECT_EQ(tier_refused.load(), 17);
  EXPECT_EQ(FallbackTotal(metrics_a) + FallbackTotal(metrics_b), 0u);
  EXPECT_EQ(Degraded(metrics_a) + Degraded(metrics_b), 0);
}

// A reload (Reconfigure) applies to the next check: a changed tier's size, a new tier.
TEST_F(RedisLimiterTest, ReconfigureAppliesToTheNextCheck) {
  Loop loop;
  observe::Metrics metrics;
  auto limiter = Make(loop, metrics, Options());
  EXPECT_TRUE(RunCo(limiter->AdmitPrincipal("", "t1", "free")).allowed);
  EXPECT_FALSE(RunCo(limiter->AdmitPrincipal("", "t1", "free")).allowed);  // 1 a minute

  config::Limits reloaded = Configured();
  reloaded.tiers[1].requests_per_minute = 3;
  reloaded.tiers.push_back(config::TierLimits{.name = "pro", .requests_per_minute = 2});
  limiter->Reconfigure(reloaded);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(RunCo(limiter->AdmitPrincipal("", "t2", "free")).allowed) << i;
  Verdict over = RunCo(limiter->AdmitPrincipal("", "t2", "free"));
  EXPECT_FALSE(over.allowed);
  EXPECT_EQ(over.decision.limit, 3);
  EXPECT_TRUE(RunCo(limiter->AdmitPrincipal("", "t3", "pro")).allowed);
  EXPECT_TRUE(RunCo(limiter->AdmitPrincipal("", "t3", "pro")).allowed);
  Verdict pro = RunCo(limiter->AdmitPrincipal("", "t3", "pro"));
  EXPECT_FALSE(pro.allowed);
  EXPECT_EQ(pro.decision.limit, 2);
  EXPECT_EQ(FallbackTotal(metrics), 0u);
}

void ExpectSame(const Verdict& redis, const Verdict& local, const std::string& what) {
  EXPECT_EQ(redis.allowed, local.allowed) << what;
  EXPECT_EQ(redis.limited, local.limited) << what;
  EXPECT_EQ(redis.kind, local.kind) << what;
  EXPECT_EQ(redis.decision.limit, local.decision.limit) << what;
  EXPECT_EQ(redis.decision.remaining, local.decision.remaining) << what;
  EXPECT_EQ(redis.decision.retry_after, local.decision.retry_after) << what;
  EXPECT_EQ(redis.decision.reset, local.decision.reset) << what;
}

// The Lua refill arithmetic, step by step against the in-process buckets on the same clock:
// every Verdict (and so every RateLimit-* / Retry-After header) is identical.
TEST_F(RedisLimiterTest, ScriptArithmeticMatchesTheInProcessBuckets) {
  Loop loop;
  observe::Metrics metrics;
  ScriptClock script_clock;
  FakeClock local_clock;
  auto options = Options();
  options.now_for_test = script_clock.fn();
  auto redis = Make(loop, metrics, options);
  InProcessLimiter local(Configured(), local_clock.fn());
  const milliseconds steps[] = {milliseconds(0), milliseconds(250), milliseconds(700),
                                milliseconds(1), milliseconds(1999), milliseconds(20'000)};
  int step = 0;
  for (int round = 0; round < 3; ++round) {
    for (milliseconds d : steps) {
      script_clock.Advance(d);
      local_clock.Advance(d);
      const std::string at = "step " + std::to_string(step++);
      ExpectSame(RunCo(redis->AdmitIp("ip")), RunCo(local.AdmitIp("ip")), at + " ip");
      ExpectSame(RunCo(redis->AdmitPrincipal("k", "acme", "")),
                 RunCo(local.AdmitPrincipal("k", "acme", "")), at + " principal");
      ExpectSame(RunCo(redis->AdmitPrincipal("", "f", "free")),
                 RunCo(local.AdmitPrincipal("", "f", "free")), at + " free");
      redis->ChargeTokens("acme", "", 170);
      local.ChargeTokens("acme", "", 170);
      ExpectSame(RunCo(redis->CheckTokens("acme", "")), RunCo(local.CheckTokens("acme", "")),
                 at + " tokens");
    }
  }
  EXPECT_EQ(FallbackTotal(metrics), 0u);  // every answer above came from Redis
}

TEST_F(RedisLimiterTest, RefillFollowsTheScriptClock) {
  Loop loop;
  observe::Metrics metrics;
  ScriptClock clock;
  auto options = Options();
  options.now_for_test = clock.fn();
  auto limiter = Make(loop, metrics, options);  // per IP: 1/s, burst 3
  for (int i = 0; i < 3; ++i) {
    Verdict v = RunCo(limiter->AdmitIp("ip"));
    EXPECT_TRUE(v.allowed) << i;
    EXPECT_EQ(v.decision.remaining, 2 - i);
  }
  Verdict refused = RunCo(limiter->AdmitIp("ip"));
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.kind, LimitKind::kPerIp);
  EXPECT_EQ(refused.decision.retry_after, milliseconds(1000));
  EXPECT_EQ(refused.decision.reset, milliseconds(1000));  // refused: reset = retry_after
  clock.Advance(milliseconds(750));
  EXPECT_EQ(RunCo(limiter->AdmitIp("ip")).decision.retry_after, milliseconds(250));
  clock.Advance(milliseconds(250));
  EXPECT_TRUE(RunCo(limiter->AdmitIp("ip")).allowed);
  clock.Advance(milliseconds(60'000));  // refills to the burst, never past it
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(RunCo(limiter->AdmitIp("ip")).allowed) << i;
  EXPECT_FALSE(RunCo(limiter->AdmitIp("ip")).allowed);
}

TEST_F(RedisLimiterTest, TokenBudgetChargedByOneInstanceBindsTheOther) {
  Loop loop_a, loop_b;
  observe::Metrics metrics_a, metrics_b;
  ScriptClock clock;
  auto options = Options();
  options.now_for_test = clock.fn();
  auto a = Make(loop_a, metrics_a, options);
  auto b = Make(loop_b, metrics_b, options);
  EXPECT_TRUE(RunCo(b->CheckTokens("acme", "")).allowed);
  a->ChargeTokens("acme", "", 700);  // 600 per minute: 100 over
  Verdict on_a = RunCo(a->CheckTokens("acme", ""));  // answered after the charge (one link)
  EXPECT_FALSE(on_a.allowed);
  Verdict on_b = RunCo(b->CheckTokens("acme", ""));
  EXPECT_FALSE(on_b.allowed);
  EXPECT_EQ(on_b.kind, LimitKind::kTierTokens);
  EXPECT_EQ(on_b.decision.retry_after, milliseconds(10'100));  // 101 tokens at 10/s
  EXPECT_TRUE(RunCo(b->CheckTokens("other", "")).allowed);
  clock.Advance(milliseconds(10'100));
  EXPECT_TRUE(RunCo(b->CheckTokens("acme", "")).allowed);
  EXPECT_TRUE(RunCo(a->CheckTokens("acme", "")).allowed);
}

TEST_F(RedisLimiterTest, BucketKeysExpireOnceTheyWouldHaveRefilled) {
  Loop loop;
  observe::Metrics metrics;
  auto limiter = Make(loop, metrics, Options());
  EXPECT_TRUE(RunCo(limiter->AdmitIp("192.0.2.7")).allowed);
  const std::string key = prefix_ + "rl:per_ip:192.0.2.7";
  // One token short at 1/s: full again in 1 s, plus the script's 1 s of slack.
  const long long ttl = std::stoll(TEST_RedisCommand(url_, {"PTTL", key}).value());
  EXPECT_GT(ttl, 1000);
  EXPECT_LE(ttl, 2000);
  // A check writes nothing: no key for a tenant that was only checked.
  EXPECT_TRUE(RunCo(limiter->CheckTokens("idle", "")).allowed);
  EXPECT_EQ(TEST_RedisCommand(url_, {"EXISTS", prefix_ + "rl:tier_tokens:default:idle"}).value(),
            "0");
}

TEST_F(RedisLimiterTest, ReloadsTheScriptWhenRedisForgotIt) {
  Loop loop;
  observe::Metrics metrics;
  auto limiter = Make(loop, metrics, Options());
  EXPECT_TRUE(RunCo(limiter->AdmitIp("ip")).allowed);
  ASSERT_TRUE(TEST_RedisCommand(url_, {"SCRIPT", "FLUSH"}));
  Verdict v = RunCo(limiter->AdmitIp("ip"));  // NOSCRIPT -> SCRIPT LOAD -> EVALSHA
  EXPECT_TRUE(v.allowed);
  EXPECT_EQ(v.decision.remaining, 1);  // the second token of this bucket: decided in Redis
  EXPECT_EQ(FallbackTotal(metrics), 0u);
  EXPECT_EQ(Degraded(metrics), 0);
}

TEST_F(RedisLimiterTest, UnlimitedConfigurationAsksRedisNothing) {
  Loop loop;
  observe::Metrics metrics;
  auto options = Options();
  options.url = "redis://127.0.0.1:1";  // nothing listens: any command would degrade
  auto limiter = Make(loop, metrics, options, config::Limits{});
  EXPECT_FALSE(RunCo(limiter->AdmitIp("ip")).limited);
  EXPECT_FALSE(RunCo(limiter->AdmitPrincipal("k", "t", "")).limited);
  EXPECT_FALSE(RunCo(limiter->CheckTokens("t", "")).limited);
  limiter->ChargeTokens("t", "", 1e9);
  EXPECT_EQ(FallbackTotal(metrics), 0u);
}

TEST(RedisLimiterFactory, RefusesABadUrl) {
  Loop loop;
  observe::Metrics metrics;
  RedisLimiterOptions o;
  o.url = "rediss://secure:6379";
  auto made = MakeRedisLimiter(config::Limits{}, o, loop.io.get_executor(), metrics);
  ASSERT_FALSE(made.has_value());
  EXPECT_EQ(made.error().code, Errc::kInvalidArgument);
}

}  // namespace
}  // namespace agentd::limits::redis
