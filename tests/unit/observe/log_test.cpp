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

TEST(Logger, DefaultLoggerIsNamedAfterInit) {
  InitLogging("info");
  // Plain spdlog::info() lines: tagged [agentd], on stderr like every other logger.
  EXPECT_EQ(spdlog::default_logger()->name(), "agentd");
  EXPECT_EQ(spdlog::default_logger().get(), Logger("agentd").get());
  testing::internal::CaptureStderr();
  spdlog::info("default logger line");
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find(" info [agentd] default logger line"), std::string::npos) << err;
  InitLogging("info");  // a second call keeps it
  EXPECT_EQ(spdlog::default_logger()->name(), "agentd");
}

}  // namespace
}  // namespace agentd::observe
