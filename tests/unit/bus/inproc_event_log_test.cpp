#include "bus/inproc/inproc_event_log.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <gtest/gtest.h>

#include "unit/bus/bus_test_util.hpp"
#include "support/run_co.hpp"

namespace agentd::bus::inproc {
namespace {

namespace asio = boost::asio;
using agentd::testing::RunCo;
using testing::AppendN;
using testing::Drain;
using testing::FramesFor;
using testing::Texts;

EventLogOptions Options(std::size_t retained = 1000, std::size_t backlog = 1000) {
  EventLogOptions o;
  o.max_retained_events = retained;
  o.subscriber_backlog = backlog;
  return o;
}

TEST(InprocRunEventLog, AppendReturnsConsecutiveIdsFromZero) {
  InprocRunEventLog log(Options());
  EXPECT_EQ(log.Append("metadata", "{}"), 0u);
  EXPECT_EQ(log.Append("values", "{}"), 1u);
  EXPECT_EQ(log.next_id(), 2u);
}

TEST(InprocRunEventLog, SubscriberFromBeginningReplaysThenFollowsLiveUntilClose) {
  InprocRunEventLog log(Options());
  AppendN(log, 3);
  auto sub = log.Subscribe({StartAt::Kind::kBeginning});
  auto frames = RunCo([&]() -> asio::awaitable<std::vector<Frame>> {
    auto first = co_await sub->Next();  // all ready frames in one batch
    EXPECT_EQ(Texts(first.value()), FramesFor(0, 3));
    auto ex = co_await asio::this_coro::executor;
    asio::post(ex, [&] {
      AppendN(log, 2);
      log.Close();
    });
    auto rest = co_await Drain(*sub);
    co_return rest;
  }());
  EXPECT_EQ(Texts(frames), FramesFor(3, 5));
}

TEST(InprocRunEventLog, AfterIdStartsAtTheFollowingId) {
  InprocRunEventLog log(Options());
  AppendN(log, 5);
  log.Close();
  auto sub = log.Subscribe({StartAt::Kind::kAfterId, 2});
  EXPECT_EQ(Texts(RunCo(Drain(*sub))), FramesFor(3, 5));
}

TEST(InprocRunEventLog, AfterIdPastTheHeadDeliversOnlyNewEvents) {
  InprocRunEventLog log(Options());
  AppendN(log, 2);
  auto sub = log.Subscribe({StartAt::Kind::kAfterId, 99});
  AppendN(log, 1);
  log.Close();
  EXPECT_EQ(Texts(RunCo(Drain(*sub))), FramesFor(2, 3));
}

TEST(InprocRunEventLog, LiveOnlySkipsEventsAppendedBeforeSubscribing) {
  InprocRunEventLog log(Options());
  AppendN(log, 3);
  auto sub = log.Subscribe({StartAt::Kind::kLiveOnly});
  AppendN(log, 2);
  log.Close();
  EXPECT_EQ(Texts(RunCo(Drain(*sub))), FramesFor(3, 5));
}

TEST(InprocRunEventLog, LateJoinAfterCloseReplaysEverythingThenEnds) {
  InprocRunEventLog log(Options());
  AppendN(log, 4);
  log.Close();
  EXPECT_TRUE(log.closed());
  auto sub = log.Subscribe({StartAt::Kind::kBeginning});
  EXPECT_EQ(Texts(RunCo(Drain(*sub))), FramesFor(0, 4));
  // Once drained, the end is sticky.
  auto again = RunCo(sub->Next());
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(again->empty());
}

TEST(InprocRunEventLog, EveryReaderGetsTheSameEncodedFrameObject) {
  InprocRunEventLog log(Options());
  auto a = log.Subscribe({StartAt::Kind::kBeginning});
  auto b = log.Subscribe({StartAt::Kind::kLiveOnly});
  AppendN(log, 3);
  log.Close();
  auto c = log.Subscribe({StartAt::Kind::kBeginning});
  auto fa = RunCo(Drain(*a));
  auto fb = RunCo(Drain(*b));
  auto fc = RunCo(Drain(*c));
  ASSERT_EQ(fa.size(), 3u);
  EXPECT_EQ(fa, fb);  // shared_ptr equality: the same object, encoded once
  EXPECT_EQ(fa, fc);
}

TEST(InprocRunEventLog, CutsSlowSubscriberWhileFastOneGetsEverything) {
  InprocRunEventLog log(Options(/*retained=*/1000, /*backlog=*/4));
  auto fast = log.Subscribe({StartAt::Kind::kBeginning});
  auto slow = log.Subscribe({StartAt::Kind::kBeginning});
  RunCo([&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    std::vector<Frame> fast_frames;
    bool fast_done = false;
    asio::co_spawn(ex, Drain(*fast), [&](std::exception_ptr, std::vector<Frame> f) {
      fast_frames = std::move(f);
      fast_done = true;
    });
    for (int i = 0; i < 10; ++i) {
      AppendN(log, 1);
      co_await asio::post(ex, asio::use_awaitable);  // lets the fast reader take it
    }
    log.Close();
    auto cut = co_await slow->Next();
    EXPECT_FALSE(cut.has_value());
    if (!cut) {
      EXPECT_EQ(cut.error().code, Errc::kResourceExhausted);
      EXPECT_EQ(cut.error().message, "subscriber fell behind by 10 events");
    }
    // A cut subscriber stays cut.
    auto again = co_await slow->Next();
    EXPECT_FALSE(again.has_value());
    while (!fast_done) co_await asio::post(ex, asio::use_awaitable);
    EXPECT_EQ(Texts(fast_frames), FramesFor(0, 10));
  }());
}

TEST(InprocRunEventLog, ReplayOfOldFramesDoesNotCountAsLag) {
  InprocRunEventLog log(Options(/*retained=*/1000, /*backlog=*/2));
  AppendN(log, 10);
  auto sub = log.Subscribe({StartAt::Kind::kBeginning});
  AppendN(log, 2);  // within the backlog of frames appended since joining
  log.Close();
  EXPECT_EQ(Texts(RunCo(Drain(*sub))), FramesFor(0, 12));
}

TEST(InprocRunEventLog, RingOverflowDropsOldestAndAfterIdIntoDroppedRangeStartsAtOldest) {
  InprocRunEventLog log(Options(/*retained=*/3, /*backlog=*/1000));
  auto early = log.Subscribe({StartAt::Kind::kBeginning});
  AppendN(log, 5);
  EXPECT_EQ(log.first_retained_id(), 2u);
  log.Close();
  auto after = log.Subscribe({StartAt::Kind::kAfterId, 0});
  EXPECT_EQ(Texts(RunCo(Drain(*after))), FramesFor(2, 5));
  auto beginning = log.Subscribe({StartAt::Kind::kBeginning});
  EXPECT_EQ(Texts(RunCo(Drain(*beginning))), FramesFor(2, 5));
  // A reader whose unread frames were dropped has lost events: it is cut, not silently skipped.
  auto lost = RunCo(early->Next());
  ASSERT_FALSE(lost.has_value());
  EXPECT_EQ(lost.error().code, Errc::kResourceExhausted);
  EXPECT_EQ(lost.error().message, "subscriber fell behind by 5 events");
}

// A frame whose encoding is `size` bytes, so byte bounds can be checked to the byte.
std::string Payload(std::size_t size) {
  const std::size_t overhead = EncodeSseFrame("e", "\"\"", 0).size();
  return "\"" + std::string(size - overhead, 'x') + "\"";
}

TEST(InprocRunEventLog, RingIsBoundedInBytesAndKeepsTheNewestFrameWhateverItsSize) {
  EventLogOptions options;
  options.max_retained_bytes = 3000;
  InprocRunEventLog log(options);
  for (int i = 0; i < 5; ++i) log.Append("e", Payload(1000));
  EXPECT_EQ(log.retained_bytes(), 3000u);
  EXPECT_EQ(log.first_retained_id(), 2u);
  log.Append("e", Payload(10'000));  // larger than the whole bound: kept alone
  EXPECT_EQ(log.retained_bytes(), 10'000u);
  EXPECT_EQ(log.first_retained_id(), 5u);
  log.Close();
  auto all = RunCo(Drain(*log.Subscribe({StartAt::Kind::kBeginning})));
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0]->size(), 10'000u);
}

TEST(InprocRunEventLog, SubscriberThatLeavesTooManyBytesUnreadIsCutAndAReaderIsNot) {
  EventLogOptions options;
  options.subscriber_backlog_bytes = 2500;
  InprocRunEventLog log(options);
  log.Append("e", Payload(5000));  // before joining: replay, not lag
  auto reader = log.Subscribe({StartAt::Kind::kBeginning});
  auto idle = log.Subscribe({StartAt::Kind::kBeginning});
  for (int i = 0; i < 3; ++i) {
    log.Append("e", Payload(1000));
    auto got = RunCo(reader->Next());
    ASSERT_TRUE(got.has_value()) << got.error().message;
  }
  auto cut = RunCo(idle->Next());
  ASSERT_FALSE(cut.has_value());
  EXPECT_EQ(cut.error().code, Errc::kResourceExhausted);
  EXPECT_EQ(cut.error().message, "subscriber fell behind by 4 events (3000 bytes unread)");
}

}  // namespace
}  // namespace agentd::bus::inproc
