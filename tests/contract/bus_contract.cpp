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
  auto first = CreateLog(id);
  ASSERT_TRUE(first.has_value());
  AppendN(**first, 2);
  auto second = CreateLog(id);
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().code, Errc::kConflict);
  auto found = FindLog(id);
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->next_id(), 2u);
  EXPECT_EQ(FindLog(RunId("unknown")), nullptr);
}

TEST_P(BusContract, RemoveForgetsTheLog) {
  const std::string id = RunId();
  {
    auto log = CreateLog(id);
    ASSERT_TRUE(log.has_value());
    AppendN(**log, 2);
    (*log)->Close();
  }
  bus().Remove(id);
  EXPECT_EQ(FindLog(id), nullptr);
}

TEST_P(BusContract, ContinueExistingResumesAnOpenLogAfterItsLastId) {
  const std::string id = RunId();
  auto first = CreateLog(id).value();
  AppendN(*first, 3);
  auto before = first->Subscribe({StartAt::Kind::kBeginning});
  first.reset();  // the writer is gone (in Redis: another instance died mid-run)
  EventLogOptions options;
  options.continue_existing = true;
  auto resumed = CreateLog(id, options);
  ASSERT_TRUE(resumed.has_value()) << resumed.error().message;
  // Above the last id; a backend may start another writer's continuation in a new id range.
  const std::uint64_t next = (*resumed)->next_id();
  EXPECT_GE(next, 3u);
  EXPECT_FALSE((*resumed)->closed());
  AppendN(**resumed, 2);
  (*resumed)->Close();
  std::vector<std::string> expected = FramesFor(0, 3);
  for (const auto& frame : FramesFor(next, next + 2)) expected.push_back(frame);
  EXPECT_EQ(DrainAll(*before), expected);  // joined before: gets the new frames too
  auto late = (*resumed)->Subscribe({StartAt::Kind::kBeginning});
  EXPECT_EQ(DrainAll(*late), expected);
}

TEST_P(BusContract, ContinueExistingReopensAClosedLog) {
  const std::string id = RunId();
  {
    auto first = CreateLog(id).value();
    AppendN(*first, 2);
    first->Close();
  }
  EventLogOptions options;
  options.continue_existing = true;
  auto resumed = CreateLog(id, options);
  ASSERT_TRUE(resumed.has_value()) << resumed.error().message;
  auto log = *resumed;
  EXPECT_FALSE(log->closed());
  const std::uint64_t next = log->next_id();
  EXPECT_GE(next, 2u);  // a backend may skip the id its end marker used
  log->Append("e", "{\"n\":" + std::to_string(next) + "}");
  log->Close();
  // A new subscriber sees the old frames, the continued one, and a single end.
  std::vector<std::string> expected = FramesFor(0, 2);
  expected.push_back(testing::FrameFor(next));
  auto sub = log->Subscribe({StartAt::Kind::kBeginning});
  EXPECT_EQ(DrainAll(*sub), expected);
  auto resumed_sub = log->Subscribe({StartAt::Kind::kAfterId, 1});
  EXPECT_EQ(DrainAll(*resumed_sub), std::vector<std::string>{testing::FrameFor(next)});
}

TEST_P(BusContract, CreateOfANewRunWithContinueExistingStartsAtZero) {
  EventLogOptions options;
  options.continue_existing = true;
  auto log = CreateLog(RunId(), options);
  ASSERT_TRUE(log.has_value());
  EXPECT_EQ((*log)->next_id(), 0u);
  AppendN(**log, 1);
  (*log)->Close();
  auto sub = (*log)->Subscribe({StartAt::Kind::kBeginning});
  EXPECT_EQ(DrainAll(*sub), FramesFor(0, 1));
}

}  // namespace
}  // namespace agentd::bus::contract
