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
using testing::FrameFor;
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

// ------------------------------------------------------------------ failover (an adopted run)
//
// Instance A writes a run's log and dies (kill -9: its log object and its bus are gone); a
// client follows the run on instance C; instance B adopts the run and continues the log
// (continue_existing). With a shared store (Redis) A, B and C are three buses; in process
// they are one. A backend may start B's frames in a new id range: followers and resuming
// clients must go on across it as if the ids were consecutive.

struct Failover {
  std::string run_id;
  std::vector<std::string> before;  // the frames A wrote
  std::shared_ptr<RunEventLog> continued;  // B's log
  std::uint64_t first_continued_id = 0;
  std::unique_ptr<EventBus> adopter_bus;  // B (null: the fixture's bus)
};

// Reads until at least `n` frames came; fails the test on an error or an early end.
std::vector<std::string> TakeAtLeast(Subscription& sub, std::size_t n) {
  return RunCo([&]() -> asio::awaitable<std::vector<std::string>> {
    std::vector<std::string> got;
    while (got.size() < n) {
      auto next = co_await sub.Next();
      if (!next) {
        ADD_FAILURE() << "Next failed: " << next.error().message;
        break;
      }
      if (next->empty()) {
        ADD_FAILURE() << "ended after " << got.size() << " of " << n << " frames";
        break;
      }
      for (const auto& f : *next) got.push_back(*f);
    }
    co_return got;
  }(), std::chrono::seconds(10));
}

// Find on the fixture's bus (instance C) once the log is there: another instance's appends
// reach a shared store a moment after Append returns (a client asks for a run it was told of).
std::shared_ptr<RunEventLog> FindWhenWritten(EventBus& bus, const std::string& id) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    auto log = RunCo(bus.Find(id));
    if (log || std::chrono::steady_clock::now() >= deadline) return log;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

// Every frame up to the end, or the error that ended the subscription.
Result<std::vector<std::string>> DrainOrError(Subscription& sub) {
  return RunCo([&]() -> asio::awaitable<Result<std::vector<std::string>>> {
    std::vector<std::string> got;
    for (;;) {
      auto next = co_await sub.Next();
      if (!next) co_return next.error();
      if (next->empty()) co_return got;
      for (const auto& f : *next) got.push_back(*f);
    }
  }(), std::chrono::seconds(10));
}

TEST_P(BusContract, AFollowerGoesOnAcrossTheContinuationOfAnAdoptedRunWithoutAnError) {
  EventLogOptions options;
  options.subscriber_backlog = 8;  // a jump in ids is no lag: far more ids than 8 are skipped
  const std::string id = RunId();
  auto owner_bus = MakeInstance();  // A
  auto adopter_bus = MakeInstance();  // B
  auto owner = CreateLogOn(owner_bus ? *owner_bus : bus(), id, options).value();
  AppendN(*owner, 3);
  auto followed = FindWhenWritten(bus(), id);  // C
  ASSERT_NE(followed, nullptr);
  auto follower = followed->Subscribe({StartAt::Kind::kBeginning});
  // The follower has read what A wrote before A dies.
  EXPECT_EQ(TakeAtLeast(*follower, 3), FramesFor(0, 3));
  // A client joining now for live events only (a resumable run's join), on C: C's head is
  // what its lookup saw, and it saw A's last frame (the follower read it).
  auto found_now = FindLog(id);
  ASSERT_NE(found_now, nullptr);
  auto resumer = found_now->Subscribe({StartAt::Kind::kLiveOnly});
  owner.reset();
  owner_bus.reset();

  EventLogOptions continued_options = options;
  continued_options.continue_existing = true;
  auto continued = CreateLogOn(adopter_bus ? *adopter_bus : bus(), id, continued_options).value();
  const std::uint64_t next = continued->next_id();
  ASSERT_GE(next, 3u);
  AppendN(*continued, 2);
  // It sees the new attempt's frames as they come, not an error...
  EXPECT_EQ(TakeAtLeast(*follower, 2), FramesFor(next, next + 2));
  AppendN(*continued, 6);
  continued->Close();
  // ... and then the rest and the end. 6 + 2 frames since it joined: within its backlog.
  auto rest = DrainOrError(*follower);
  ASSERT_TRUE(rest.has_value()) << rest.error().message;
  EXPECT_EQ(*rest, FramesFor(next + 2, next + 8));
  // A live-only subscriber that joined before the jump gets exactly the continuation.
  auto live = DrainOrError(*resumer);
  ASSERT_TRUE(live.has_value()) << live.error().message;
  EXPECT_EQ(*live, FramesFor(next, next + 8));
}

TEST_P(BusContract, LastEventIdFromEitherSideOfAContinuationGivesExactlyTheRest) {
  const std::string id = RunId();
  auto owner_bus = MakeInstance();
  auto adopter_bus = MakeInstance();
  auto owner = CreateLogOn(owner_bus ? *owner_bus : bus(), id).value();
  AppendN(*owner, 4);
  // A's last frame reached the store before A died: a reader sees it.
  auto witness = FindWhenWritten(bus(), id);
  ASSERT_NE(witness, nullptr);
  auto seen = witness->Subscribe({StartAt::Kind::kBeginning});
  ASSERT_EQ(TakeAtLeast(*seen, 4), FramesFor(0, 4));
  owner.reset();
  owner_bus.reset();
  EventLogOptions continued_options;
  continued_options.continue_existing = true;
  EventBus& adopter = adopter_bus ? *adopter_bus : bus();
  auto continued = CreateLogOn(adopter, id, continued_options).value();
  const std::uint64_t next = continued->next_id();
  ASSERT_GE(next, 4u);
  AppendN(*continued, 3);
  // A client on C saw them (so they are in the store) and reconnects after one of them.
  ASSERT_EQ(TakeAtLeast(*seen, 3), FramesFor(next, next + 3));

  std::vector<std::string> all = FramesFor(0, 4);
  for (const auto& f : FramesFor(next, next + 6)) all.push_back(f);
  // What a client missed after `last_id`: every frame with a greater id.
  const auto after = [&](std::uint64_t last_id) {
    std::vector<std::string> out;
    for (std::uint64_t i = 0; i < 4; ++i) {
      if (i > last_id) out.push_back(FrameFor(i));
    }
    for (std::uint64_t i = next; i < next + 6; ++i) {
      if (i > last_id) out.push_back(FrameFor(i));
    }
    return out;
  };
  const std::vector<std::uint64_t> last_ids = {0, 3, next, next + 1};
  // Clients reconnecting on another instance (C) while B still writes: replay, then live.
  std::vector<std::unique_ptr<Subscription>> live_resumes;
  auto found_live = FindLog(id);
  ASSERT_NE(found_live, nullptr);
  for (auto last_id : last_ids) {
    live_resumes.push_back(found_live->Subscribe({StartAt::Kind::kAfterId, last_id}));
  }
  AppendN(*continued, 3);
  continued->Close();
  for (std::size_t i = 0; i < last_ids.size(); ++i) {
    auto got = DrainOrError(*live_resumes[i]);
    ASSERT_TRUE(got.has_value()) << "after " << last_ids[i] << ": " << got.error().message;
    EXPECT_EQ(*got, after(last_ids[i])) << "live resume after id " << last_ids[i];
  }
  // After the run ended, on C and on B (the adopter's own log object).
  for (const auto& log : {FindLog(id), continued}) {
    ASSERT_NE(log, nullptr);
    for (auto last_id : last_ids) {
      auto sub = log->Subscribe({StartAt::Kind::kAfterId, last_id});
      auto got = DrainOrError(*sub);
      ASSERT_TRUE(got.has_value()) << "after " << last_id << ": " << got.error().message;
      EXPECT_EQ(*got, after(last_id)) << "resume after id " << last_id;
    }
    auto sub = log->Subscribe({StartAt::Kind::kBeginning});
    EXPECT_EQ(DrainAll(*sub), all);
  }
}

TEST_P(BusContract, AFollowerThatLagsPastItsBacklogAfterAContinuationIsStillCut) {
  // Default options: a follower on another instance gets the backlog of the logs it finds
  // (Redis: RedisOptions::found_log_options), which is the default.
  const EventLogOptions options;
  const std::string id = RunId();
  auto owner_bus = MakeInstance();
  auto adopter_bus = MakeInstance();
  auto owner = CreateLogOn(owner_bus ? *owner_bus : bus(), id, options).value();
  AppendN(*owner, 2);
  auto followed = FindWhenWritten(bus(), id);
  ASSERT_NE(followed, nullptr);
  auto follower = followed->Subscribe({StartAt::Kind::kBeginning});
  ASSERT_EQ(TakeAtLeast(*follower, 2), FramesFor(0, 2));
  owner.reset();
  owner_bus.reset();
  EventLogOptions continued_options = options;
  continued_options.continue_existing = true;
  auto continued = CreateLogOn(adopter_bus ? *adopter_bus : bus(), id, continued_options).value();
  // The follower reads none of them meanwhile: more than its backlog.
  AppendN(*continued, static_cast<int>(options.subscriber_backlog) + 10);
  continued->Close();
  // Its instance has read them all (the end too) before it asks again.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!followed->closed() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(followed->closed()) << "the follower's instance never read the end";
  auto got = DrainOrError(*follower);
  ASSERT_FALSE(got.has_value()) << "delivered all " << got.value().size() << " frames";
  EXPECT_EQ(got.error().code, Errc::kResourceExhausted);
  EXPECT_NE(got.error().message.find("fell behind"), std::string::npos) << got.error().message;
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
