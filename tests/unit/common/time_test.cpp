#include "common/time.hpp"

#include <gtest/gtest.h>

namespace agentd {
namespace {

TEST(Time, FormatsIsoWithMillisecondsAndZ) {
  EXPECT_EQ(FormatIso8601(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatIso8601(1795377364764), "2026-11-22T19:56:04.764Z");
}

TEST(Time, ParsesWhatItFormats) {
  for (TimestampMs ms : {TimestampMs{0}, TimestampMs{1795377364764}, TimestampMs{999}}) {
    auto parsed = ParseIso8601(FormatIso8601(ms));
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(*parsed, ms);
  }
  EXPECT_FALSE(ParseIso8601("yesterday").has_value());
}

}  // namespace
}  // namespace agentd
