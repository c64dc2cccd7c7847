// RedisRunPermits against a real Redis (label integration, AGENTD_TEST_REDIS_URL from
// tests/harness/with-services --redis; skipped without it): two instances share a limit
// exactly, release / lease expiry free a permit, renew keeps it, the holder's re-acquire is
// idempotent. Redis unreachable answers kUnavailable at once, counted and flagged; the
// outage test starts its own redis-server to show the way back.
#include "limits/redis/redis_run_permits.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <future>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include "bus/redis/redis_event_bus.hpp"
#include "redis_limiter_util.hpp"
#include "support/run_co.hpp"

namespace agentd::limits::redis {
namespace {

namespace asio = boost::asio;
using agentd::testing::RunCo;
using bus::redis::TEST_RedisCommand;
using scheduler::RunPermits;
using std::chrono::milliseconds;
using testing::Loop;
using testing::UniquePrefix;
using Answer = RunPermits::Answer;

std::uint64_t FallbackTotal(observe::Metrics& m) {
  return m.GetCounter("agentd_run_permits_fallback_total", "").value();
}
double Degraded(observe::Metrics& m) { return m.GetGauge("agentd_run_permits_degraded", "").value(); }

class RedisRunPermitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* url = std::getenv("AGENTD_TEST_REDIS_URL");
    if (url == nullptr || *url == '\0') GTEST_SKIP() << "AGENTD_TEST_REDIS_URL not set";
    url_ = url;
    prefix_ = UniquePrefix(::testing::UnitTest::GetInstance()->current_test_info()->name());
  }
  std::unique_ptr<RunPermits> Make(Loop& loop, observe::Metrics& metrics) {
    RedisRunPermitsOptions o;
    o.url = url_;
    o.key_prefix = prefix_;
    o.command_timeout = milliseconds(2000);  // a loaded CI machine must not flip to fallback
    return MakeRedisRunPermits(std::move(o), loop.io.get_executor(), metrics).value();
  }
  std::string Key() const { return prefix_ + "permits:free:acme"; }
  std::string Redis(std::vector<std::string> args) const {
    return TEST_RedisCommand(url_, args).value();
  }

  std::string url_;
  std::string prefix_;
};

Answer Acquire(RunPermits& p, const std::string& holder, std::size_t limit,
               milliseconds lease = milliseconds(60'000)) {
  return RunCo(p.Acquire("acme", "free", holder, limit, lease));
}

// Two permit objects, two connections, two loops: as two agentd instances. 50 acquires in
// flight at once, 25 from each, against a limit of 2: exactly 2 are granted.
TEST_F(RedisRunPermitsTest, TwoInstancesTogetherGrantTheLimitExactly) {
  Loop loop_a, loop_b;
  observe::Metrics metrics_a, metrics_b;
  auto a = Make(loop_a, metrics_a);
  auto b = Make(loop_b, metrics_b);
  std::vector<std::future<Answer>> answers;
  for (int i = 0; i < 50; ++i) {
    RunPermits& p = i % 2 == 0 ? *a : *b;
    Loop& loop = i % 2 == 0 ? loop_a : loop_b;
    answers.push_back(asio::co_spawn(
        loop.io, p.Acquire("acme", "free", "run" + std::to_string(i), 2, milliseconds(60'000)),
        asio::use_future));
  }
  int granted = 0, full = 0;
  for (auto& f : answers) {
    ASSERT_EQ(f.wait_for(std::chrono::seconds(20)), std::future_status::ready);
    Answer answer = f.get();
    if (answer == Answer::kGranted) ++granted;
    if (answer == Answer::kFull) ++full;
  }
  EXPECT_EQ(granted, 2);
  EXPECT_EQ(full, 48);
  EXPECT_EQ(Redis({"ZCARD", Key()}), "2");
  EXPECT_EQ(FallbackTotal(metrics_a) + FallbackTotal(metrics_b), 0u);
  EXPECT_EQ(Degraded(metrics_a) + Degraded(metrics_b), 0);
}

TEST_F(RedisRunPermitsTest, ReleaseFreesThePermitForAnotherInstance) {
  Loop loop_a, loop_b;
  observe::Metrics metrics;
  auto a = Make(loop_a, metrics);
  auto b = Make(loop_b, metrics);
  EXPECT_EQ(Acquire(*a, "r1", 1), Answer::kGranted);
  EXPECT_EQ(Acquire(*b, "r2", 1), Answer::kFull);
  RunCo(a->Release("acme", "free", "r1"));
  EXPECT_EQ(Acquire(*b, "r2", 1), Answer::kGranted);
  EXPECT_EQ(Acquire(*a, "r1", 1), Answer::kFull);
  // Another tenant, and the same tenant on another tier, count apart.
  EXPECT_EQ(RunCo(a->Acquire("other", "free", "r3", 1, milliseconds(60'000))), Answer::kGranted);
  EXPECT_EQ(RunCo(a->Acquire("acme", "pro", "r4", 1, milliseconds(60'000))), Answer::kGranted);
}

TEST_F(RedisRunPermitsTest, ReacquireByTheHolderIsIdempotent) {
  Loop loop;
  observe::Metrics metrics;
  auto p = Make(loop, metrics);
  EXPECT_EQ(Acquire(*p, "r1", 1), Answer::kGranted);
  EXPECT_EQ(Acquire(*p, "r1", 1), Answer::kGranted);
  EXPECT_EQ(Redis({"ZCARD", Key()}), "1");
  EXPECT_EQ(Acquire(*p, "r2", 1), Answer::kFull);
}

// A holder that stops renewing (its instance died) loses the permit when its lease ends.
TEST_F(RedisRunPermitsTest, AnExpiredLeaseFreesThePermit) {
  Loop loop;
  observe::Metrics metrics;
  auto p = Make(loop, metrics);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(Acquire(*p, "dead", 1, milliseconds(300)), Answer::kGranted);
  EXPECT_EQ(Acquire(*p, "r2", 1), Answer::kFull);
  // Bounded polling: the lease runs out on Redis' clock.
  Answer answer = Answer::kFull;
  while (answer == Answer::kFull && std::chrono::steady_clock::now() - start < std::chrono::seconds(5)) {
    std::this_thread::sleep_for(milliseconds(20));
    answer = Acquire(*p, "r2", 1);
  }
  EXPECT_EQ(answer, Answer::kGranted);
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(250));
  EXPECT_EQ(Redis({"ZRANGE", Key(), "0", "-1"}), "r2\n");
}

// Renew moves the lease forward (score and key TTL); it never takes back a permit that is
// gone (released or expired: another run may hold it now).
TEST_F(RedisRunPermitsTest, RenewKeepsAHeldPermitAndNeverRetakesALostOne) {
  Loop loop;
  observe::Metrics metrics;
  auto p = Make(loop, metrics);
  EXPECT_EQ(Acquire(*p, "r1", 2, milliseconds(1000)), Answer::kGranted);
  EXPECT_EQ(Acquire(*p, "r2", 2, milliseconds(1000)), Answer::kGranted);
  const double before = std::stod(Redis({"ZSCORE", Key(), "r1"}));
  RunCo(p->Release("acme", "free", "r2"));
  std::vector<RunPermits::Held> held{{"acme", "free", "r1"}, {"acme", "free", "r2"}};
  RunCo(p->Renew(held, milliseconds(120'000)));
  const double after = std::stod(Redis({"ZSCORE", Key(), "r1"}));
  EXPECT_GE(after - before, 118'000);
  EXPECT_GE(std::stoll(Redis({"PTTL", Key()})), 118'000);
  EXPECT_EQ(Redis({"ZRANGE", Key(), "0", "-1"}), "r1\n");  // r2 not re-added
  // The renewed lease outlives the original 1 s one: r1 still counts (limit 1 is full).
  EXPECT_EQ(Acquire(*p, "r3", 1), Answer::kFull);
}

// The script survives SCRIPT FLUSH (a Redis restart): NOSCRIPT loads it and retries.
TEST_F(RedisRunPermitsTest, ReloadsTheScriptAfterAFlush) {
  Loop loop;
  observe::Metrics metrics;
  auto p = Make(loop, metrics);
  EXPECT_EQ(Acquire(*p, "r1", 1), Answer::kGranted);
  Redis({"SCRIPT", "FLUSH"});
  EXPECT_EQ(Acquire(*p, "r2", 1), Answer::kFull);
  EXPECT_EQ(FallbackTotal(metrics), 0u);
}

int FreePort() {
  asio::io_context io;
  asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

// Redis unreachable: kUnavailable at once (no wait for a timeout), counted per answer, the
// gauge set; then a redis-server on that port: the next acquire is granted, the gauge clears.
TEST(RedisRunPermitsOutage, UnreachableAnswersUnavailableFastAndRecovers) {
  const int port = FreePort();
  const std::string url = "redis://127.0.0.1:" + std::to_string(port);
  Loop loop;
  observe::Metrics metrics;
  RedisRunPermitsOptions o;
  o.url = url;
  o.key_prefix = UniquePrefix("outage");
  o.command_timeout = milliseconds(2000);
  o.reconnect_backoff_max = milliseconds(100);
  auto p = MakeRedisRunPermits(std::move(o), loop.io.get_executor(), metrics).value();
  for (int i = 0; i < 3; ++i) {
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(RunCo(p->Acquire("acme", "free", "r1", 1, milliseconds(60'000))), Answer::kUnavailable);
    // Well under command_timeout: a refused connection is not waited out.
    EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(1000)) << i;
  }
  EXPECT_EQ(FallbackTotal(metrics), 3u);
  EXPECT_EQ(Degraded(metrics), 1);
  RunCo(p->Release("acme", "free", "r1"));  // never throws, never waits long
  RunCo(p->Renew({{"acme", "free", "r1"}}, milliseconds(1000)));

  if (std::system("command -v redis-server > /dev/null 2>&1") != 0) GTEST_SKIP() << "no redis-server";
  pid_t pid = ::fork();
  if (pid == 0) {
    if (int null = ::open("/dev/null", O_WRONLY); null >= 0) {
      ::dup2(null, 1);
      ::dup2(null, 2);
    }
    std::string port_text = std::to_string(port);
    ::execlp("redis-server", "redis-server", "--port", port_text.c_str(), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--loglevel", "warning", nullptr);
    ::_exit(127);
  }
  struct Reaper {
    pid_t pid;
    ~Reaper() {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  } reaper{pid};
  // Bounded: the connection retries with backoff (100 ms at most here).
  Answer answer = Answer::kUnavailable;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (answer == Answer::kUnavailable && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(50));
    answer = RunCo(p->Acquire("acme", "free", "r1", 1, milliseconds(60'000)));
  }
  EXPECT_EQ(answer, Answer::kGranted);
  EXPECT_EQ(Degraded(metrics), 0);
}

}  // namespace
}  // namespace agentd::limits::redis
