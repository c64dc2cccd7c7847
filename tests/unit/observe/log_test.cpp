#include "observe/log.hpp"

#include <gtest/gtest.h>

namespace agentd::observe {
namespace {

TEST(RateLimit, LetsOneThroughPerIntervalAndCountsTheRest) {
  RateLimit limit(std::chrono::hours(1));
  std::uint64_t suppressed = 99;
  EXPECT_TRUE(limit.Allow(&suppressed));
  EXPECT_EQ(suppressed, 0u);
  EXPECT_FALSE(limit.Allow());
  EXPECT_FALSE(limit.Allow());
}

TEST(Logger, SameNameGivesSameLogger) {
  InitLogging("warn");
  auto a = Logger("unit-test");
  auto b = Logger("unit-test");
  EXPECT_EQ(a.get(), b.get());
  EXPECT_EQ(a->level(), spdlog::level::warn);
}

}  // namespace
}  // namespace agentd::observe
