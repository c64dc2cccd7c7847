// broadcast::Hub over a fake PubSub: fan-out, one topic per channel per process, bounded
// queues that cut only the slow subscriber, tenant isolation, leaving, closing, errors.

#include "broadcast/hub.hpp"

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "observe/metrics.hpp"
#include "support/run_co.hpp"
#include "unit/broadcast/fake_pubsub.hpp"

namespace agentd::broadcast {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace boost::asio::experimental::awaitable_operators;
using agentd::testing::RunCo;
using Frames = std::vector<bus::Frame>;

class HubTest : public ::testing::Test {
 protected:
  explicit HubTest(HubOptions options = {}) : hub_(pubsub_, metrics_, options) {}

  std::string Publish(const std::string& tenant, const std::string& name, json::value data) {
    auto id = RunCo(hub_.Publish(tenant, name, std::move(data)));
    EXPECT_TRUE(id) << id.error().message;
    return id ? *id : std::string();
  }
  // Next() on a subscription that must have something ready (or be cut / ended).
  static Result<Frames> Take(bus::Subscription& sub) { return RunCo(sub.Next()); }
  static std::vector<std::string> Texts(const Frames& frames) {
    std::vector<std::string> out;
    for (const auto& f : frames) out.push_back(*f);
    return out;
  }
  double Gauge(std::string_view name) { return metrics_.GetGauge(name, "").value(); }
  std::uint64_t Count(std::string_view name) { return metrics_.GetCounter(name, "").value(); }

  testing::FakePubSub pubsub_;
  observe::Metrics metrics_;
  Hub hub_;
};

TEST_F(HubTest, FansOneMessageOutToEveryLocalSubscriberInItsFormat) {
  auto sse1 = hub_.Subscribe("t", "board", Format::kSse);
  auto sse2 = hub_.Subscribe("t", "board", Format::kSse);
  auto ws = hub_.Subscribe("t", "board", Format::kJson);
  auto id = Publish("t", "board", json::object{{"x", 1}});

  const std::string json_text = R"({"channel":"board","id":")" + id + R"(","data":{"x":1}})";
  ASSERT_EQ(pubsub_.published().size(), 1u);
  EXPECT_EQ(pubsub_.published()[0].first, "agentd:broadcast:t/board");
  EXPECT_EQ(pubsub_.published()[0].second, json_text);
  auto a = Take(*sse1), b = Take(*sse2), c = Take(*ws);
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(Texts(*a), std::vector<std::string>{"event: message\ndata: " + json_text + "\n\n"});
  EXPECT_EQ(Texts(*b), Texts(*a));
  EXPECT_EQ(a->front().get(), b->front().get()) << "one encoded frame shared by subscribers";
  EXPECT_EQ(Texts(*c), std::vector<std::string>{json_text});
  EXPECT_EQ(Count("agentd_broadcast_messages_delivered_total"), 3u);
  EXPECT_EQ(Count("agentd_broadcast_published_total"), 1u);
}

TEST_F(HubTest, ListensToATopicOncePerChannelAndStopsWithTheLastSubscriber) {
  auto s1 = hub_.Subscribe("t", "board", Format::kSse);
  auto s2 = hub_.Subscribe("t", "board", Format::kJson);
  auto other = hub_.Subscribe("t", "other", Format::kSse);
  EXPECT_EQ(pubsub_.listen_calls(), 2);
  EXPECT_EQ(pubsub_.live_listeners(), 2u);
  EXPECT_EQ(hub_.subscribers(), 3u);
  EXPECT_EQ(hub_.listened_topics(), 2u);
  EXPECT_EQ(Gauge("agentd_broadcast_subscribers"), 3);
  EXPECT_EQ(Gauge("agentd_broadcast_channels"), 2);

  s1.reset();
  EXPECT_EQ(pubsub_.live_listeners(), 2u) << "s2 still follows board";
  s2.reset();
  EXPECT_EQ(pubsub_.live_channels(), std::vector<std::string>{"agentd:broadcast:t/other"});
  other.reset();
  EXPECT_EQ(pubsub_.live_listeners(), 0u);
  EXPECT_EQ(hub_.subscribers(), 0u);
  EXPECT_EQ(Gauge("agentd_broadcast_subscribers"), 0);
  EXPECT_EQ(Gauge("agentd_broadcast_channels"), 0);

  // Coming back listens again.
  auto again = hub_.Subscribe("t", "board", Format::kSse);
  EXPECT_EQ(pubsub_.listen_calls(), 3);
  Publish("t", "board", 1);
  EXPECT_TRUE(Take(*again));
}

TEST_F(HubTest, KeepsTenantsApartOnTheSameChannelName) {
  auto a = hub_.Subscribe("a", "board", Format::kJson);
  auto b = hub_.Subscribe("b", "board", Format::kJson);
  auto id_a = Publish("a", "board", "for a");
  auto id_b = Publish("b", "board", "for b");
  auto got_a = Take(*a), got_b = Take(*b);
  ASSERT_TRUE(got_a && got_b);
  ASSERT_EQ(got_a->size(), 1u);
  ASSERT_EQ(got_b->size(), 1u);
  EXPECT_EQ(json::parse(*got_a->front()).at("id"), id_a.c_str());
  EXPECT_EQ(json::parse(*got_b->front()).at("id"), id_b.c_str());
}

class SmallQueueHubTest : public HubTest {
 protected:
  SmallQueueHubTest() : HubTest(HubOptions{.queue_limit = 3}) {}
};

TEST_F(SmallQueueHubTest, CutsASubscriberThatFallsBehindWithoutSlowingOthers) {
  auto slow = hub_.Subscribe("t", "board", Format::kSse);
  auto fast = hub_.Subscribe("t", "board", Format::kJson);
  std::vector<std::string> fast_ids, sent_ids;
  for (int i = 0; i < 5; ++i) {
    sent_ids.push_back(Publish("t", "board", i));
    auto got = Take(*fast);  // the fast one keeps up
    ASSERT_TRUE(got) << got.error().message;
    for (const auto& f : *got) fast_ids.push_back(std::string(json::parse(*f).at("id").as_string()));
  }
  EXPECT_EQ(fast_ids, sent_ids);

  auto cut = Take(*slow);
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().code, Errc::kResourceExhausted);
  EXPECT_NE(cut.error().message.find("fell behind"), std::string::npos);
  EXPECT_FALSE(Take(*slow)) << "a cut subscriber stays cut";
  EXPECT_EQ(Count("agentd_broadcast_subscribers_cut_total"), 1u);
  EXPECT_EQ(Count("agentd_broadcast_messages_dropped_total"), 4u) << "3 queued + the overflow";
  EXPECT_EQ(Count("agentd_broadcast_messages_delivered_total"), 5u);

  // Later messages still reach the fast one.
  Publish("t", "board", 99);
  EXPECT_TRUE(Take(*fast));
}

TEST_F(SmallQueueHubTest, HandsOutEveryQueuedMessageInOneBatch) {
  auto sub = hub_.Subscribe("t", "board", Format::kJson);
  Publish("t", "board", 1);
  Publish("t", "board", 2);
  Publish("t", "board", 3);
  auto got = Take(*sub);
  ASSERT_TRUE(got);
  ASSERT_EQ(got->size(), 3u);
  EXPECT_EQ(json::parse(*(*got)[2]).at("data"), 3);
}

TEST_F(HubTest, AParkedNextWakesOnPublishAndACancelledOneLeavesTheSubscriptionUsable) {
  auto sub = hub_.Subscribe("t", "board", Format::kJson);
  RunCo([&]() -> asio::awaitable<void> {
    // Times out while idle: cancellation ends the wait with kCancelled.
    asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::milliseconds(20));
    auto raced = co_await (sub->Next() || timer.async_wait(asio::use_awaitable));
    EXPECT_EQ(raced.index(), 1u);
    // Parks, then a publish from another thread wakes it.
    std::thread publisher([&] { Publish("t", "board", "late"); });
    auto got = co_await sub->Next();
    publisher.join();
    EXPECT_TRUE(got);
    if (got) {
      EXPECT_EQ(json::parse(*got->front()).at("data"), "late");
    }
  }());
}

TEST_F(HubTest, LeavingWhileParkedEndsTheWait) {
  auto sub = hub_.Subscribe("t", "board", Format::kJson);
  auto shared = std::shared_ptr<bus::Subscription>(std::move(sub));
  auto result = RunCo([&]() -> asio::awaitable<Result<Frames>> {
    auto next = shared->Next();
    // Destroying the subscription (the client left) completes the parked wait.
    asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::milliseconds(5));
    auto both = co_await (std::move(next) && [&]() -> asio::awaitable<void> {
      co_await timer.async_wait(asio::use_awaitable);
      shared.reset();
    }());
    co_return both;
  }());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, Errc::kCancelled);
  EXPECT_EQ(pubsub_.live_listeners(), 0u);
}

TEST_F(HubTest, CloseEndsSubscriptionsAfterWhatIsQueuedAndRefusesNewWork) {
  auto sub = hub_.Subscribe("t", "board", Format::kSse);
  Publish("t", "board", 1);
  hub_.Close();
  EXPECT_EQ(pubsub_.live_listeners(), 0u);
  auto first = Take(*sub);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->size(), 1u);
  auto end = Take(*sub);
  ASSERT_TRUE(end);
  EXPECT_TRUE(end->empty());

  auto late = hub_.Subscribe("t", "board", Format::kSse);
  auto late_end = Take(*late);
  ASSERT_TRUE(late_end);
  EXPECT_TRUE(late_end->empty());
  auto refused = RunCo(hub_.Publish("t", "board", 2));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::kUnavailable);
}

TEST_F(HubTest, PublishFailsWithUnavailableWhileTheBusIsDown) {
  pubsub_.set_healthy(false);
  EXPECT_FALSE(hub_.healthy());
  auto r = RunCo(hub_.Publish("t", "board", 1));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kUnavailable);
  EXPECT_EQ(Count("agentd_broadcast_publish_failures_total"), 1u);
}

class TinyMessageHubTest : public HubTest {
 protected:
  TinyMessageHubTest() : HubTest(HubOptions{.max_message_bytes = 100}) {}
};

TEST_F(TinyMessageHubTest, RefusesBadNamesAndOversizedMessages) {
  const std::vector<std::string> bad_names = {"", "a/b", "with space", std::string(129, 'x'), "é"};
  for (const auto& bad : bad_names) {
    auto r = RunCo(hub_.Publish("t", bad, 1));
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
  }
  EXPECT_TRUE(IsValidChannelName("dispatch-board_1.v2:eu"));
  EXPECT_TRUE(IsValidChannelName(std::string(128, 'x')));
  auto big = RunCo(hub_.Publish("t", "board", json::string(std::string(100, 'x'))));
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code, Errc::kInvalidArgument);
  EXPECT_TRUE(pubsub_.published().empty());
}

TEST_F(HubTest, DropsMalformedBusPayloadsInsteadOfForwardingThem) {
  auto sub = hub_.Subscribe("t", "board", Format::kSse);
  pubsub_.Deliver("agentd:broadcast:t/board", "{\"x\":1}\n\nevent: forged\ndata: {}");
  pubsub_.Deliver("agentd:broadcast:t/board", "not json");
  EXPECT_EQ(Count("agentd_broadcast_malformed_total"), 2u);
  Publish("t", "board", 1);
  auto got = Take(*sub);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->size(), 1u) << "only the real message";
}

}  // namespace
}  // namespace agentd::broadcast
