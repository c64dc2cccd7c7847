// Redis stopped under a RedisLimiter, then started again (label integration): requests are
// decided by the in-process fallback, counted and flagged, and the limiter goes back to Redis
// by itself. Runs its own redis-server on a free port (skipped when the binary is missing).
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <gtest/gtest.h>

#include "bus/redis/redis_event_bus.hpp"
#include "limits/redis/redis_limiter.hpp"
#include "redis_limiter_util.hpp"
#include "support/run_co.hpp"

namespace agentd::limits::redis {
namespace {

namespace asio = boost::asio;
using agentd::testing::RunCo;
using bus::redis::TEST_RedisCommand;
using std::chrono::milliseconds;
using testing::Degraded;
using testing::FallbackTotal;
using testing::Loop;

int FreePort() {
  asio::io_context io;
  asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

pid_t StartRedis(int port) {
  pid_t pid = ::fork();
  if (pid == 0) {
    if (int null = ::open("/dev/null", O_WRONLY); null >= 0) {  // not the test's stdout
      ::dup2(null, 1);
      ::dup2(null, 2);
    }
    std::string p = std::to_string(port);
    ::execlp("redis-server", "redis-server", "--port", p.c_str(), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--loglevel", "warning", nullptr);
    ::_exit(127);
  }
  return pid;
}

void StopRedis(pid_t pid) {
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}

// Bounded polling: these waits are on another process (redis-server) or a background probe.
template <class Pred>
bool WaitFor(Pred pred, milliseconds limit = milliseconds(10'000)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(20));
  }
  return true;
}

TEST(RedisLimiterOutage, FallsBackWhileRedisIsDownAndReturnsWhenItAnswers) {
  if (std::system("command -v redis-server > /dev/null 2>&1") != 0) GTEST_SKIP() << "no redis-server";
  const int port = FreePort();
  const std::string url = "redis://127.0.0.1:" + std::to_string(port);
  pid_t pid = StartRedis(port);
  struct Reaper {  // no orphaned redis-server when an assertion returns early
    pid_t& pid;
    ~Reaper() {
      if (pid > 0) StopRedis(pid);
    }
  } reaper{pid};
  ASSERT_TRUE(WaitFor([&] { return TEST_RedisCommand(url, {"PING"}).has_value(); }));

  config::Limits limits;
  limits.per_ip_requests_per_second = 0.001;  // no refill while the test runs
  limits.per_ip_burst = 2;
  RedisLimiterOptions options;
  options.url = url;
  options.key_prefix = "outage:";
  options.command_timeout = milliseconds(500);
  options.connect_timeout = milliseconds(200);
  options.reconnect_backoff_max = milliseconds(100);
  options.probe_interval = milliseconds(50);
  Loop loop;
  observe::Metrics metrics;
  auto limiter =
      MakeRedisLimiter(limits, options, loop.io.get_executor(), metrics).value();

  // Redis decides: the bucket is in Redis.
  EXPECT_TRUE(RunCo(limiter->AdmitIp("ip")).allowed);
  EXPECT_EQ(TEST_RedisCommand(url, {"EXISTS", "outage:rl:per_ip:ip"}).value(), "1");
  EXPECT_EQ(FallbackTotal(metrics), 0u);
  EXPECT_EQ(Degraded(metrics), 0);

  StopRedis(pid);
  pid = -1;
  // The fallback decides (its own fresh bucket of 2), every decision counted, flagged degraded.
  Verdict first = RunCo(limiter->AdmitIp("ip"));
  EXPECT_TRUE(first.allowed);
  EXPECT_EQ(Degraded(metrics), 1);
  EXPECT_TRUE(RunCo(limiter->AdmitIp("ip")).allowed);
  Verdict refused = RunCo(limiter->AdmitIp("ip"));
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.kind, LimitKind::kPerIp);
  EXPECT_EQ(refused.decision.limit, 2);
  EXPECT_EQ(FallbackTotal(metrics), 3u);
  // Degraded requests do not wait on Redis at all: a burst is answered at once.
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(RunCo(limiter->AdmitIp("ip")).allowed);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, milliseconds(2000));
  EXPECT_EQ(FallbackTotal(metrics), 103u);
  EXPECT_NE(metrics.RenderPrometheus().find("agentd_limits_degraded 1"), std::string::npos);

  // Redis returns (empty: no buckets, no script): the probe notices, the gauge clears.
  pid = StartRedis(port);
  ASSERT_TRUE(WaitFor([&] { return TEST_RedisCommand(url, {"PING"}).has_value(); }));
  ASSERT_TRUE(WaitFor([&] { return Degraded(metrics) == 0; }));
  Verdict back = RunCo(limiter->AdmitIp("ip"));
  EXPECT_TRUE(back.allowed);  // Redis' fresh bucket, not the exhausted in-process one
  EXPECT_EQ(back.decision.remaining, 1);
  EXPECT_EQ(FallbackTotal(metrics), 103u);
  EXPECT_EQ(TEST_RedisCommand(url, {"EXISTS", "outage:rl:per_ip:ip"}).value(), "1");
}

}  // namespace
}  // namespace agentd::limits::redis
