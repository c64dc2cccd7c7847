// The EventBus contract (see bus_contract.hpp). Compiled into each backend's test binary.
#include "contract/bus_contract.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "support/run_co.hpp"
#include "unit/bus/bus_test_util.hpp"

namespace agentd::bus::contract {
namespace {

namespace asio = boost::asio;
using agentd::testing::RunCo;
using testing::AppendN;
using testing::Drain;
using testing::FramesFor;
using testing::Texts;

std::vector<std::string> DrainAll(Subscription& sub) {
  return Texts(RunCo(Drain(sub), std::chrono::seconds(10)));
}

TEST_P(BusContract, SubscriberFromBeginningGetsEveryFrameThenEnd) {
  auto log = NewLog();
  AppendN(*log, 5);
  auto sub = log->Subscribe({StartAt::Kind::kBeginning});
  AppendN(*log, 3);
  log->Close();
  EXPECT_EQ(DrainAll(*sub), FramesFor(0, 8));
}

TEST_P(BusContract, SubscriberAfterIdStartsRightAfterIt) {
  auto log = NewLog();
  AppendN(*log, 6);
  auto sub = log->Subscribe({StartAt::Kind::kAfterId, 3});
  log->Close();
  EXPECT_EQ(DrainAll(*sub), FramesFor(4, 6));
}

TEST_P(BusContract, AfterIdPastTheHeadMeansLive) {
  auto log = NewLog();
  AppendN(*log, 2);
  auto sub = log->Subscribe({StartAt::Kind::kAfterId, 99});
  AppendN(*log, 2);
  log->Close();
  EXPECT_EQ(DrainAll(*sub), FramesFor(2, 4));
}

TEST_P(BusContract, LiveOnlySubscriberGetsOnlyLaterFrames) {
  auto log = NewLog();
  AppendN(*log, 4);
  auto sub = log->Subscribe({StartAt::Kind::kLiveOnly});
  AppendN(*log, 2);
  log->Close();
  EXPECT_EQ(DrainAll(*sub), FramesFor(4, 6));
}

TEST_P(BusContract, ParkedSubscriberWakesOnAppendAndEndsOnClose) {
  auto log = NewLog();
  auto sub = log->Subscribe({StartAt::Kind::kLiveOnly});
  RunCo([&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    std::vector<std::string> got;
    bool done = false;
    asio::co_spawn(ex, Drain(*sub), [&](std::exception_ptr, std::vector<Frame> frames) {
      got = Texts(frames);
      done = true;
    });
    AppendN(*log, 3);
    log->Close();
    asio::steady_timer t(ex);
    for (int i = 0; i < 1000 && !done; ++i) {  // bounded wait, 10 s at most
      t.expires_after(std::chrono::milliseconds(10));
      co_await t.async_wait(asio::use_awaitable);
    }
    EXPECT_TRUE(done);
    EXPECT_EQ(got, FramesFor(0, 3));
  }(), std::chrono::seconds(15));
}

TEST_P(BusContract, LateJoinerAfterCloseReplaysEverything) {
  auto log = NewLog();
  AppendN(*log, 7);
  log->Close();
  EXPECT_TRUE(log->closed());
  auto sub = log->Subscribe({StartAt::Kind::kBeginning});
  EXPECT_EQ(DrainAll(*sub), FramesFor(0, 7));
  auto live = log->Subscribe({StartAt::Kind::kLiveOnly});
  EXPECT_TRUE(DrainAll(*live).empty());
}

TEST_P(BusContract, SlowSubscriberIsCutWithResourceExhausted) {
  EventLogOptions options;
  options.subscriber_backlog = 4;
  auto log = NewLog(options);
  auto sub = log->Subscribe({StartAt::Kind::kBeginning});
  AppendN(*log, 40);
  log->Close();
  auto result = RunCo([&]() -> asio::awaitable<Result<std::size_t>> {
    std::size_t delivered = 0;
    for (;;) {
      auto next = co_await sub->Next();
      if (!next) co_return next.error();
      if (next->empty()) co_return delivered;
      delivered += next->size();
    }
  }(), std::chrono::seconds(10));
  ASSERT_FALSE(result.has_value()) << "delivered all " << result.value() << " frames";
  EXPECT_EQ(result.error().code, Errc::kResourceExhausted);
  // A fast subscriber of the same log is unaffected.
  auto fresh = log->Subscribe({StartAt::Kind::kBeginning});
  EXPECT_EQ(DrainAll(*fresh), FramesFor(0, 40));
}

TEST_P(BusContract, ManySubscribersOnSeveralThreadsGetTheIdenticalSequence) {
  constexpr int kThreads = 3;
  constexpr int kPerThread = 8;
  constexpr int kEvents = 300;
  auto log = NewLog();
  std::vector<std::unique_ptr<Subscription>> subs;
  for (int i = 0; i < kThreads * kPerThread; ++i) {
    subs.push_back(log->Subscribe({StartAt::Kind::kBeginning}));
  }
  std::vector<std::vector<std::string>> got(subs.size());
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      asio::io_context io;
      for (int i = t * kPerThread; i < (t + 1) * kPerThread; ++i) {
        asio::co_spawn(io, Drain(*subs[i]), [&, i](std::exception_ptr, std::vector<Frame> f) {
          got[i] = Texts(f);
        });
      }
      io.run_for(std::chrono::seconds(20));
    });
  }
  AppendN(*log, kEvents);
  log->Close();
  for (auto& th : threads) th.join();
  const auto expected = FramesFor(0, kEvents);
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], expected) << "subscriber " << i;
}

TEST_P(BusContract, CreateTwiceConflictsAndFindReturnsTheLog) {
  const std::string id = RunId();
  auto first = bus().Create(id, {});
  ASSERT_TRUE(first.has_value());
  AppendN(**first, 2);
  auto second = bus().Create(id, {});
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().code, Errc::kConflict);
  auto found = bus().Find(id);
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->next_id(), 2u);
  EXPECT_EQ(bus().Find(RunId("unknown")), nullptr);
}

TEST_P(BusContract, RemoveForgetsTheLog) {
  const std::string id = RunId();
  {
    auto log = bus().Create(id, {});
    ASSERT_TRUE(log.has_value());
    AppendN(**log, 2);
    (*log)->Close();
  }
  bus().Remove(id);
  EXPECT_EQ(bus().Find(id), nullptr);
}

}  // namespace
}  // namespace agentd::bus::contract
