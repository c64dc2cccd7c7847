#include "bus/inproc/inproc_event_bus.hpp"

#include <chrono>

#include <gtest/gtest.h>

#include "observe/metrics.hpp"
#include "support/run_co.hpp"
#include "unit/bus/bus_test_util.hpp"

namespace agentd::bus::inproc {
namespace {

using agentd::testing::RunCo;
using namespace std::chrono_literals;

struct FakeClock {
  std::chrono::steady_clock::time_point now{};
  SteadyClock Get() {
    return [this] { return now; };
  }
};

EventLogOptions Retention(std::chrono::milliseconds keep) {
  EventLogOptions o;
  o.retention_after_close = keep;
  return o;
}

TEST(InprocEventBus, CreateThenFindReturnsTheSameLog) {
  auto bus = MakeInprocEventBus();
  auto log = RunCo(bus->Create("r1", EventLogOptions{}));
  ASSERT_TRUE(log.has_value());
  EXPECT_EQ(RunCo(bus->Find("r1")), *log);
  EXPECT_EQ(RunCo(bus->Find("r2")), nullptr);
}

TEST(InprocEventBus, CreateOfAnExistingRunIsAConflict) {
  auto bus = MakeInprocEventBus();
  ASSERT_TRUE(RunCo(bus->Create("r1", EventLogOptions{})).has_value());
  auto again = RunCo(bus->Create("r1", EventLogOptions{}));
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, Errc::kConflict);
}

TEST(InprocEventBus, ClosedLogIsKeptForItsRetentionThenDropped) {
  FakeClock clock;
  InprocEventBus bus(nullptr, clock.Get());
  auto log = bus.CreateNow("r1", Retention(10s)).value();
  clock.now += 1h;  // an open log never expires
  EXPECT_NE(bus.FindNow("r1"), nullptr);
  log->Close();
  clock.now += 10s - 1ms;
  EXPECT_NE(bus.FindNow("r1"), nullptr);
  clock.now += 1ms;
  EXPECT_EQ(bus.FindNow("r1"), nullptr);
  // The id is free again.
  EXPECT_TRUE(bus.CreateNow("r1", Retention(10s)).has_value());
}

TEST(InprocEventBus, CreateSweepsExpiredLogsNobodyLooksUp) {
  FakeClock clock;
  InprocEventBus bus(nullptr, clock.Get());
  bus.CreateNow("old", Retention(1s)).value()->Close();
  bus.CreateNow("open", Retention(1s)).value();
  clock.now += 2s;
  ASSERT_TRUE(bus.CreateNow("new", Retention(1s)).has_value());
  EXPECT_EQ(bus.TEST_LogCount(), 2u);  // "open" and "new"
}

TEST(InprocEventBus, RemoveDropsAtOnceButOpenSubscriptionsStillDrain) {
  auto bus = MakeInprocEventBus();
  auto log = RunCo(bus->Create("r1", EventLogOptions{})).value();
  testing::AppendN(*log, 2);
  auto sub = log->Subscribe({StartAt::Kind::kBeginning});
  bus->Remove("r1");
  EXPECT_EQ(RunCo(bus->Find("r1")), nullptr);
  log->Close();
  log.reset();
  EXPECT_EQ(testing::Texts(RunCo(testing::Drain(*sub))), testing::FramesFor(0, 2));
}

TEST(InprocEventBus, CountsCutSubscribersInMetrics) {
  observe::Metrics metrics;
  auto bus = MakeInprocEventBus(&metrics);
  EventLogOptions options;
  options.subscriber_backlog = 1;
  auto log = RunCo(bus->Create("r1", options)).value();
  auto sub = log->Subscribe({StartAt::Kind::kLiveOnly});
  testing::AppendN(*log, 3);
  auto cut = RunCo(sub->Next());
  ASSERT_FALSE(cut.has_value());
  EXPECT_NE(metrics.RenderPrometheus().find("agentd_bus_subscribers_cut_total 1"), std::string::npos)
      << metrics.RenderPrometheus();
}

// `n` frames of 1000 encoded bytes.
void AppendKilobytes(RunEventLog& log, int n) {
  const std::size_t overhead = EncodeSseFrame("e", "\"\"", log.next_id()).size();
  for (int i = 0; i < n; ++i) log.Append("e", "\"" + std::string(1000 - overhead, 'x') + "\"");
}

TEST(InprocEventBus, PastItsBudgetCreateDropsEndedLogsLongestEndedFirstNeverOpenOnes) {
  FakeClock clock;
  observe::Metrics metrics;
  auto bus = MakeInprocEventBus(&metrics, clock.Get(), /*retained_bytes_budget=*/5000);
  auto* inproc = static_cast<InprocEventBus*>(bus.get());
  auto open = RunCo(bus->Create("open", EventLogOptions{})).value();
  AppendKilobytes(*open, 2);
  auto first = RunCo(bus->Create("first", EventLogOptions{})).value();
  AppendKilobytes(*first, 2);
  first->Close();
  clock.now += 1ms;
  auto second = RunCo(bus->Create("second", EventLogOptions{})).value();
  AppendKilobytes(*second, 2);
  second->Close();
  EXPECT_EQ(inproc->retained_bytes(), 6000);
  first.reset();
  second.reset();

  ASSERT_TRUE(RunCo(bus->Create("third", EventLogOptions{})).has_value());
  EXPECT_EQ(RunCo(bus->Find("first")), nullptr);  // ended first: dropped
  EXPECT_NE(RunCo(bus->Find("second")), nullptr);
  EXPECT_NE(RunCo(bus->Find("open")), nullptr);
  EXPECT_EQ(inproc->retained_bytes(), 4000);
  const std::string text = metrics.RenderPrometheus();
  EXPECT_NE(text.find("agentd_bus_logs_evicted_total 1"), std::string::npos) << text;
  EXPECT_NE(text.find("agentd_bus_retained_bytes 4000"), std::string::npos) << text;

  // Open logs alone above the budget: ended ones all go, open ones stay.
  AppendKilobytes(*open, 4);
  ASSERT_TRUE(RunCo(bus->Create("fourth", EventLogOptions{})).has_value());
  EXPECT_EQ(RunCo(bus->Find("second")), nullptr);
  EXPECT_NE(RunCo(bus->Find("open")), nullptr);
  EXPECT_EQ(inproc->retained_bytes(), 6000);
}

TEST(InprocEventBus, ALogDroppedWhileSubscribedStaysReadableAndIsUnchargedWhenItEnds) {
  auto bus = MakeInprocEventBus(nullptr, {}, /*retained_bytes_budget=*/1000);
  auto* inproc = static_cast<InprocEventBus*>(bus.get());
  auto log = RunCo(bus->Create("r1", EventLogOptions{})).value();
  AppendKilobytes(*log, 2);
  log->Close();
  auto sub = log->Subscribe({StartAt::Kind::kBeginning});
  log.reset();
  ASSERT_TRUE(RunCo(bus->Create("r2", EventLogOptions{})).has_value());
  EXPECT_EQ(RunCo(bus->Find("r1")), nullptr);
  EXPECT_EQ(inproc->retained_bytes(), 2000);  // the subscriber still holds it
  EXPECT_EQ(RunCo(testing::Drain(*sub)).size(), 2u);
  sub.reset();
  EXPECT_EQ(inproc->retained_bytes(), 0);
}

}  // namespace
}  // namespace agentd::bus::inproc
