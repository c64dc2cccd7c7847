// Redis-only behaviour of RedisPubSub (label integration): delivery across processes, O(1)
// connections whatever the number of listeners, and a Redis restart. The backend-agnostic
// part is tests/contract/pubsub_contract*. Needs AGENTD_TEST_REDIS_URL except the restart
// test, which runs its own redis-server (skipped when the binary is missing).
#include <chrono>
#include <cstdlib>
#include <sstream>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "bus/redis/redis_pubsub.hpp"
#include "contract/pubsub_contract.hpp"
#include "support/run_co.hpp"
#include "unit/bus/redis_test_server.hpp"

namespace agentd::bus::redis {
namespace {

namespace asio = boost::asio;
using agentd::testing::RunCo;
using contract::Recorder;

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
  o.command_timeout = std::chrono::milliseconds(1000);
  o.connect_timeout = std::chrono::milliseconds(500);
  o.reconnect_backoff_max = std::chrono::milliseconds(200);
  return o;
}

std::unique_ptr<PubSub> Make(const std::string& url, Loop& loop) {
  auto pubsub = MakeRedisPubSub(OptionsFor(url), loop.io.get_executor());
  if (!pubsub) throw std::runtime_error(pubsub.error().message);
  return std::move(*pubsub);
}

std::string UniqueChannel(const std::string& tag) {
  static int n = 0;
  return tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(n++);
}

// Publishes `payload` via `from` until `recorder` has seen `n` messages (a fresh SUBSCRIBE,
// or one redone after a reconnect, takes a round trip to be active). Bounded: 10 s.
bool PublishUntil(PubSub& from, const std::string& channel, const std::string& payload,
                  Recorder& recorder, std::size_t n) {
  for (int i = 0; i < 200; ++i) {
    (void)RunCo(from.Publish(channel, payload));
    if (recorder.WaitFor(n, std::chrono::milliseconds(50))) return true;
  }
  return false;
}

bool WaitHealthy(const PubSub& pubsub, bool want) {
  for (int i = 0; i < 1000; ++i) {  // 10 s at most
    if (pubsub.healthy() == want) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

int CountClients(const std::string& url, const std::string& name) {
  std::istringstream lines(TEST_RedisCommand(url, {"CLIENT", "LIST"}).value());
  int n = 0;
  for (std::string line; std::getline(lines, line);) {
    n += line.find("name=" + name) != std::string::npos;
  }
  return n;
}

class RedisPubSubTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* url = std::getenv("AGENTD_TEST_REDIS_URL");
    if (url == nullptr || *url == '\0') GTEST_SKIP() << "AGENTD_TEST_REDIS_URL not set";
    url_ = url;
  }
  Loop loop_;
  std::string url_;
};

TEST_F(RedisPubSubTest, TwoInstancesBothReceiveAMessageEitherPublishes) {
  Loop other_loop;
  auto a = Make(url_, loop_);
  auto b = Make(url_, other_loop);
  const auto channel = UniqueChannel("two");
  Recorder ra, rb;
  auto la = a->Listen(channel, ra.Handler());
  auto lb = b->Listen(channel, rb.Handler());
  ASSERT_TRUE(PublishUntil(*a, channel, "probe", rb, 1));  // B's subscription is live
  ASSERT_TRUE(PublishUntil(*b, channel, "probe", ra, 1));  // and A's
  ra.Clear();
  rb.Clear();
  ASSERT_TRUE(RunCo(a->Publish(channel, "from-a")).has_value());
  // A probe published by PublishUntil before the first one arrived may still land after
  // Clear(): only the non-probe messages are compared.
  auto without_probes = [&](Recorder& r) {
    std::vector<std::string> out;
    for (int i = 0; i < 200 && out.empty(); ++i) {
      (void)r.WaitFor(1);
      out.clear();
      for (const auto& m : r.got()) {
        if (m != channel + "=probe") out.push_back(m);
      }
      if (out.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return out;
  };
  EXPECT_EQ(without_probes(ra), std::vector<std::string>{channel + "=from-a"});
  EXPECT_EQ(without_probes(rb), std::vector<std::string>{channel + "=from-a"});
}

TEST_F(RedisPubSubTest, HundredListenersShareOneSubscriberConnection) {
  auto pubsub = Make(url_, loop_);
  ASSERT_TRUE(WaitHealthy(*pubsub, true));
  const int before = CountClients(url_, "agentd-pubsub-");
  std::vector<std::string> channels;
  for (int i = 0; i < 10; ++i) channels.push_back(UniqueChannel("many"));
  std::vector<Recorder> recorders(100);
  std::vector<std::unique_ptr<PubSubListener>> listeners;
  for (int i = 0; i < 100; ++i) {
    listeners.push_back(pubsub->Listen(channels[i % 10], recorders[i].Handler()));
  }
  for (int c = 0; c < 10; ++c) {
    ASSERT_TRUE(PublishUntil(*pubsub, channels[c], "m", recorders[c], 1)) << channels[c];
  }
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(recorders[i].WaitFor(1)) << i;
  EXPECT_EQ(CountClients(url_, "agentd-pubsub-"), before);
  // One subscriber connection, subscribed to each channel once.
  std::istringstream lines(TEST_RedisCommand(url_, {"CLIENT", "LIST"}).value());
  int subscribers = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.find("name=agentd-pubsub-subscriber") == std::string::npos) continue;
    ++subscribers;
    EXPECT_NE(line.find(" sub=10 "), std::string::npos) << line;
  }
  EXPECT_EQ(subscribers, 1);
}

TEST(RedisPubSubRestart, UnhealthyWhileRedisIsDownAndListenersReceiveAgainAfter) {
  if (!testing::HaveRedisServer()) GTEST_SKIP() << "no redis-server";
  const int port = testing::FreePort();
  const std::string url = "redis://127.0.0.1:" + std::to_string(port);
  pid_t pid = testing::StartRedis(port);
  testing::RedisReaper reaper{pid};
  ASSERT_TRUE(testing::WaitForRedis(url));
  Loop loop;
  auto pubsub = Make(url, loop);
  const auto channel = UniqueChannel("restart");
  Recorder r;
  auto listener = pubsub->Listen(channel, r.Handler());
  ASSERT_TRUE(PublishUntil(*pubsub, channel, "before", r, 1));
  ASSERT_TRUE(WaitHealthy(*pubsub, true));

  testing::StopRedis(pid);
  pid = -1;
  ASSERT_TRUE(WaitHealthy(*pubsub, false));
  auto refused = RunCo(pubsub->Publish(channel, "lost"));
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, Errc::kUnavailable);

  pid = testing::StartRedis(port);
  ASSERT_TRUE(testing::WaitForRedis(url));
  ASSERT_TRUE(WaitHealthy(*pubsub, true));
  r.Clear();
  ASSERT_TRUE(PublishUntil(*pubsub, channel, "after", r, 1));  // resubscribed
  EXPECT_EQ(r.got().front(), channel + "=after");
}

}  // namespace
}  // namespace agentd::bus::redis
