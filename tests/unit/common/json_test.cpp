#include "common/json.hpp"

#include <gtest/gtest.h>

namespace agentd {
namespace {

json::value J(std::string_view text) { return *ParseJson(text); }

TEST(JsonContains, EveryFilterKeyMustMatch) {
  auto target = J(R"({"a":1,"b":"x","c":{"d":true,"e":[1,2]}})");
  EXPECT_TRUE(JsonContains(target, J("{}")));
  EXPECT_TRUE(JsonContains(target, J(R"({"a":1})")));
  EXPECT_TRUE(JsonContains(target, J(R"({"a":1.0,"b":"x"})")));
  EXPECT_TRUE(JsonContains(target, J(R"({"c":{"d":true}})")));
  EXPECT_TRUE(JsonContains(target, J(R"({"c":{"e":[1,2]}})")));
  EXPECT_FALSE(JsonContains(target, J(R"({"c":{"e":[1]}})")));
  EXPECT_FALSE(JsonContains(target, J(R"({"a":2})")));
  EXPECT_FALSE(JsonContains(target, J(R"({"z":null})")));
  EXPECT_FALSE(JsonContains(target, J(R"({"b":{"x":1}})")));
}

TEST(ParseJson, LenientModeAllowsCommentsAndTrailingCommas) {
  std::string error;
  EXPECT_FALSE(ParseJson("{\"a\":1,}", &error).has_value());
  EXPECT_FALSE(error.empty());
  auto v = ParseJson("// comment\n{\"a\":1,}", nullptr, /*lenient=*/true);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->at("a").as_int64(), 1);
}

}  // namespace
}  // namespace agentd
