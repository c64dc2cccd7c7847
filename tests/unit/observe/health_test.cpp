#include "observe/health.hpp"

#include <gtest/gtest.h>

namespace agentd::observe {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

TEST(Health, LiveWhileEveryLoopTicksWithinThreshold) {
  Health h(2, milliseconds(100));
  auto t0 = std::chrono::steady_clock::now();
  h.RecordTick(0, t0, microseconds(10));
  h.RecordTick(1, t0, microseconds(20));
  std::string why = "unset";
  EXPECT_TRUE(h.LiveAt(t0 + milliseconds(100), &why));
  EXPECT_EQ(why, "");
}

TEST(Health, ReportsTheLoopWhoseTickIsOlderThanThreshold) {
  Health h(2, milliseconds(100));
  auto t0 = std::chrono::steady_clock::now();
  h.RecordTick(0, t0, microseconds(10));
  h.RecordTick(1, t0, microseconds(20));
  h.RecordTick(0, t0 + milliseconds(150), microseconds(30));
  std::string why;
  EXPECT_FALSE(h.LiveAt(t0 + milliseconds(200), &why));
  EXPECT_EQ(why, "loop 1 has not ticked for 200 ms");

  auto loops = h.Loops(t0 + milliseconds(200));
  ASSERT_EQ(loops.size(), 2u);
  EXPECT_FALSE(loops[0].stalled);
  EXPECT_EQ(loops[0].since_last_tick, milliseconds(50));
  EXPECT_EQ(loops[0].last_lag, microseconds(30));
  EXPECT_TRUE(loops[1].stalled);
  EXPECT_EQ(loops[1].since_last_tick, milliseconds(200));
}

TEST(Health, RecoversWhenTheStalledLoopTicksAgain) {
  Health h(1, milliseconds(100));
  auto t0 = std::chrono::steady_clock::now();
  h.RecordTick(0, t0, microseconds(0));
  EXPECT_FALSE(h.LiveAt(t0 + milliseconds(500)));
  h.RecordTick(0, t0 + milliseconds(500), microseconds(400'000));
  EXPECT_TRUE(h.LiveAt(t0 + milliseconds(510)));
}

TEST(Health, DrainingIsSticky) {
  Health h(1, milliseconds(100));
  EXPECT_FALSE(h.draining());
  h.SetDraining();
  EXPECT_TRUE(h.draining());
}

}  // namespace
}  // namespace agentd::observe
