// The PubSub contract (see pubsub_contract.hpp). Compiled into each backend's test binary.
#include "contract/pubsub_contract.hpp"

#include <atomic>

#include <unistd.h>

#include "support/run_co.hpp"

namespace agentd::bus::contract {

Status PubSubContract::Publish(const std::string& channel, const std::string& payload) {
  return agentd::testing::RunCo(pubsub().Publish(channel, payload));
}

std::string PubSubContract::Channel(const std::string& tag) {
  static std::atomic<int> counter{0};
  return tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

bool PubSubContract::AwaitListening(const std::string& channel, Recorder& recorder) {
  for (int i = 0; i < 200; ++i) {  // 10 s at most
    (void)Publish(channel, "probe");  // may fail while the links come up
    if (recorder.WaitFor(1, std::chrono::milliseconds(50))) {
      // Later probes may still be in flight: wait for a marker after them.
      if (!Publish(channel, "probe-end")) return false;
      for (int j = 0; j < 200; ++j) {
        auto got = recorder.got();
        if (!got.empty() && got.back() == channel + "=probe-end") {
          recorder.Clear();
          return true;
        }
        recorder.WaitFor(got.size() + 1, std::chrono::milliseconds(50));
      }
      return false;
    }
  }
  return false;
}

namespace {

TEST_P(PubSubContract, ListenerReceivesMessagesInPublishOrder) {
  const auto channel = Channel();
  Recorder r;
  auto listener = pubsub().Listen(channel, r.Handler());
  ASSERT_TRUE(AwaitListening(channel, r));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(Publish(channel, std::to_string(i)).has_value());
  ASSERT_TRUE(r.WaitFor(5));
  std::vector<std::string> expected;
  for (int i = 0; i < 5; ++i) expected.push_back(channel + "=" + std::to_string(i));
  EXPECT_EQ(r.got(), expected);
}

TEST_P(PubSubContract, EveryListenerOfTheChannelAndNoOtherReceives) {
  const auto channel = Channel();
  const auto other = Channel("other");
  Recorder a, b, c;
  auto la = pubsub().Listen(channel, a.Handler());
  auto lb = pubsub().Listen(channel, b.Handler());
  auto lc = pubsub().Listen(other, c.Handler());
  ASSERT_TRUE(AwaitListening(channel, a));
  ASSERT_TRUE(AwaitListening(other, c));
  b.Clear();
  ASSERT_TRUE(Publish(channel, "hello").has_value());
  ASSERT_TRUE(a.WaitFor(1));
  ASSERT_TRUE(b.WaitFor(1));
  // A message on `other` after it, so `c` having seen nothing of `channel` is conclusive.
  ASSERT_TRUE(Publish(other, "marker").has_value());
  ASSERT_TRUE(c.WaitFor(1));
  EXPECT_EQ(a.got(), std::vector<std::string>{channel + "=hello"});
  EXPECT_EQ(b.got(), std::vector<std::string>{channel + "=hello"});
  EXPECT_EQ(c.got(), std::vector<std::string>{other + "=marker"});
}

TEST_P(PubSubContract, DestroyedListenerReceivesNothingMore) {
  const auto channel = Channel();
  Recorder gone, stays;
  auto lg = pubsub().Listen(channel, gone.Handler());
  auto ls = pubsub().Listen(channel, stays.Handler());
  ASSERT_TRUE(AwaitListening(channel, stays));
  gone.Clear();
  lg.reset();
  ASSERT_TRUE(Publish(channel, "after").has_value());
  ASSERT_TRUE(stays.WaitFor(1));
  EXPECT_TRUE(gone.got().empty());
}

TEST_P(PubSubContract, LastListenerGoneThenANewOneStillReceives) {
  const auto channel = Channel();
  {
    Recorder first;
    auto l = pubsub().Listen(channel, first.Handler());
    ASSERT_TRUE(AwaitListening(channel, first));
  }
  Recorder second;
  auto l = pubsub().Listen(channel, second.Handler());
  ASSERT_TRUE(AwaitListening(channel, second));
  ASSERT_TRUE(Publish(channel, "again").has_value());
  ASSERT_TRUE(second.WaitFor(1));
  EXPECT_EQ(second.got(), std::vector<std::string>{channel + "=again"});
}

TEST_P(PubSubContract, AListenerMayDestroyItselfFromItsHandler) {
  const auto channel = Channel();
  Recorder r;
  std::unique_ptr<PubSubListener> self;
  std::mutex mu;
  std::atomic<int> calls{0};
  std::unique_ptr<PubSubListener> watcher = pubsub().Listen(channel, r.Handler());
  {
    std::lock_guard lock(mu);
    self = pubsub().Listen(channel, [&](std::string_view, std::string_view) {
      ++calls;
      std::lock_guard inner(mu);
      self.reset();  // must neither deadlock nor be called again
    });
  }
  ASSERT_TRUE(AwaitListening(channel, r));
  ASSERT_TRUE(Publish(channel, "x").has_value());
  ASSERT_TRUE(r.WaitFor(1));
  EXPECT_EQ(calls.load(), 1);
}

TEST_P(PubSubContract, HealthyOnceTheBackendIsReachable) {
  bool healthy = false;
  for (int i = 0; i < 500 && !healthy; ++i) {  // links connect asynchronously; 5 s at most
    healthy = pubsub().healthy();
    if (!healthy) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(healthy);
}

}  // namespace
}  // namespace agentd::bus::contract
