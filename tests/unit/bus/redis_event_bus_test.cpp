// Redis-only behaviour of the Redis EventBus (label integration): cross-instance streams,
// retention TTL, O(1) connections, and a Redis restart mid-stream. The backend-agnostic part
// is tests/contract/bus_contract*. Needs AGENTD_TEST_REDIS_URL except the restart test, which
// runs its own redis-server (skipped when the binary is missing).
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <sstream>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include "bus/redis/redis_event_bus.hpp"
#include "support/run_co.hpp"
#include "unit/bus/bus_test_util.hpp"

namespace agentd::bus::redis {
namespace {

namespace asio = boost::asio;
using agentd::testing::RunCo;
using testing::AppendN;
using testing::Drain;
using testing::FramesFor;
using testing::Texts;

std::string UniqueRun(const std::string& tag) {
  static int n = 0;
  return tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(n++) + "-" +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
}

// An io_context on a thread: the buses' executor.
struct Loop {
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
  std::thread thread{[this] { io.run(); }};
  ~Loop() {
    work.reset();
    thread.join();
  }
};

RedisOptions OptionsFor(const std::string& url) {
  RedisOptions o;
  o.url = url;
  o.key_prefix = "agentd-test:";
  o.read_block = std::chrono::milliseconds(200);
  o.command_timeout = std::chrono::milliseconds(1000);
  o.connect_timeout = std::chrono::milliseconds(500);
  o.reconnect_backoff_max = std::chrono::milliseconds(200);
  return o;
}

class RedisBusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* url = std::getenv("AGENTD_TEST_REDIS_URL");
    if (url == nullptr || *url == '\0') GTEST_SKIP() << "AGENTD_TEST_REDIS_URL not set";
    url_ = url;
  }
  std::unique_ptr<EventBus> MakeBus() {
    auto bus = MakeRedisEventBus(OptionsFor(url_), loop_.io.get_executor());
    if (!bus) throw std::runtime_error(bus.error().message);
    return std::move(*bus);
  }
  Loop loop_;
  std::string url_;
};

asio::awaitable<Status> FlushOf(RunEventLog& log) {
  co_return co_await dynamic_cast<RedisRunEventLogApi&>(log).Flush();
}

TEST_F(RedisBusTest, AStreamWrittenByOneInstanceIsServedByAnother) {
  auto a = MakeBus();
  auto b = MakeBus();
  const std::string run = UniqueRun("x");
  auto log = RunCo(a->Create(run, {})).value();
  AppendN(*log, 3);
  ASSERT_TRUE(RunCo(FlushOf(*log)).has_value());

  auto found = RunCo(b->Find(run));
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->next_id(), 3u);
  EXPECT_FALSE(found->closed());
  auto replay = found->Subscribe({StartAt::Kind::kBeginning});
  auto live = found->Subscribe({StartAt::Kind::kLiveOnly});
  AppendN(*log, 2);  // via A, while B's subscribers follow
  log->Close();
  EXPECT_EQ(Texts(RunCo(Drain(*replay))), FramesFor(0, 5));
  EXPECT_EQ(Texts(RunCo(Drain(*live))), FramesFor(3, 5));
  EXPECT_TRUE(found->closed());

  auto late = RunCo(b->Find(run));  // a closed stream found fresh knows it ended
  ASSERT_NE(late, nullptr);
  EXPECT_EQ(late->next_id(), 5u);
}

TEST_F(RedisBusTest, CloseSetsTheRetentionTtlOnTheStream) {
  auto bus = MakeBus();
  EventLogOptions options;
  options.retention_after_close = std::chrono::seconds(120);
  auto log = RunCo(bus->Create(UniqueRun("ttl"), options)).value();
  AppendN(*log, 2);
  ASSERT_TRUE(RunCo(FlushOf(*log)).has_value());
  const std::string key = dynamic_cast<RedisRunEventLogApi&>(*log).key();
  auto open_ttl = std::stoll(TEST_RedisCommand(url_, {"TTL", key}).value());
  EXPECT_GT(open_ttl, 3600);  // open_stream_ttl (24 h) guards against a writer that died
  log->Close();
  ASSERT_TRUE(RunCo(FlushOf(*log)).has_value());
  auto ttl = std::stoll(TEST_RedisCommand(url_, {"TTL", key}).value());
  EXPECT_GT(ttl, 100);
  EXPECT_LE(ttl, 120);
}

int CountClients(const std::string& url) {
  std::istringstream lines(TEST_RedisCommand(url, {"CLIENT", "LIST"}).value());
  int n = 0;
  for (std::string line; std::getline(lines, line);) n += line.find("name=agentd-bus-") != std::string::npos;
  return n;
}

TEST_F(RedisBusTest, HundredSubscribersUseNoExtraConnections) {
  auto bus = MakeBus();
  std::vector<std::shared_ptr<RunEventLog>> logs;
  for (int i = 0; i < 10; ++i) {
    logs.push_back(RunCo(bus->Create(UniqueRun("conn"), EventLogOptions{})).value());
  }
  std::vector<std::unique_ptr<Subscription>> subs;
  subs.push_back(logs[0]->Subscribe({StartAt::Kind::kLiveOnly}));
  AppendN(*logs[0], 1);
  EXPECT_EQ(RunCo(subs[0]->Next()).value().size(), 1u);  // the shared reader is live
  const int before = CountClients(url_);
  for (int i = 1; i < 100; ++i) subs.push_back(logs[i % 10]->Subscribe({StartAt::Kind::kBeginning}));
  for (auto& log : logs) {
    AppendN(*log, 2);
    log->Close();
  }
  for (std::size_t i = 1; i < subs.size(); ++i) {
    EXPECT_FALSE(RunCo(Drain(*subs[i])).empty()) << i;
  }
  EXPECT_EQ(CountClients(url_), before);
}

// --- Redis restarted mid-stream ---------------------------------------------------------

int FreePort() {
  asio::io_context io;
  asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

pid_t StartRedis(int port) {
  pid_t pid = ::fork();
  if (pid == 0) {
    // Not the test's stdout: a pipe reader would otherwise wait for redis-server too.
    if (int null = ::open("/dev/null", O_WRONLY); null >= 0) {
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

bool WaitForRedis(const std::string& url) {
  for (int i = 0; i < 200; ++i) {  // 10 s at most
    if (TEST_RedisCommand(url, {"PING"})) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

void StopRedis(pid_t pid) {
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}

// Used to crash under ASan (a Connection freed while linked: each awaited command dropped one
// reference, see Connection::Command); the Flush loop below is what exposed it.
TEST(RedisBusRestart, SubscribersGetUnavailableAndAppendsRecoverAfterRestart) {
  if (std::system("command -v redis-server > /dev/null 2>&1") != 0) GTEST_SKIP() << "no redis-server";
  const int port = FreePort();
  const std::string url = "redis://127.0.0.1:" + std::to_string(port);
  pid_t pid = StartRedis(port);
  struct Reaper {  // no orphaned redis-server when an assertion returns early
    pid_t& pid;
    ~Reaper() { if (pid > 0) StopRedis(pid); }
  } reaper{pid};
  ASSERT_TRUE(WaitForRedis(url));
  {
    Loop loop;
    auto bus = MakeRedisEventBus(OptionsFor(url), loop.io.get_executor()).value();
    auto log = RunCo(bus->Create(UniqueRun("restart"), {})).value();
    AppendN(*log, 3);
    ASSERT_TRUE(RunCo(FlushOf(*log)).has_value());
    auto sub = log->Subscribe({StartAt::Kind::kBeginning});
    EXPECT_EQ(Texts(RunCo(sub->Next()).value()), FramesFor(0, 3));

    StopRedis(pid);
    pid = -1;
    auto next = RunCo(sub->Next(), std::chrono::seconds(10));
    ASSERT_FALSE(next.has_value());
    EXPECT_EQ(next.error().code, Errc::kUnavailable);
    AppendN(*log, 1);
    auto flushed = RunCo(FlushOf(*log));
    ASSERT_FALSE(flushed.has_value());
    EXPECT_EQ(flushed.error().code, Errc::kUnavailable);

    pid = StartRedis(port);
    ASSERT_TRUE(WaitForRedis(url));
    bool recovered = false;
    for (int i = 0; i < 100 && !recovered; ++i) {  // reconnect backoff is at most 200 ms
      AppendN(*log, 1);
      recovered = RunCo(FlushOf(*log)).has_value();
      if (!recovered) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_TRUE(recovered);
    // A subscriber resuming by Last-Event-ID follows the stream again.
    const auto head = log->next_id();
    auto resumed = log->Subscribe({StartAt::Kind::kAfterId, head - 1});
    AppendN(*log, 2);
    log->Close();
    EXPECT_EQ(Texts(RunCo(Drain(*resumed))), FramesFor(head, head + 2));
  }
}

}  // namespace
}  // namespace agentd::bus::redis
