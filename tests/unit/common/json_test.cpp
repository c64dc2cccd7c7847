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

TEST(ParseJson, RefusesNumbersBeyondADoubleNamingWhere) {
  JsonProblem problem;
  EXPECT_FALSE(ParseJsonLimited(R"({"a":1,"n":1e999})", 64, &problem));
  EXPECT_EQ(problem.kind, JsonProblem::Kind::kNumberOutOfRange);
  EXPECT_EQ(problem.path, (json::array{"n"}));
  EXPECT_EQ(problem.message.rfind("number out of range at n: ", 0), 0u) << problem.message;

  EXPECT_FALSE(ParseJsonLimited(R"([{"x":[0,{"weird key":-1e400}]}])", 64, &problem));
  EXPECT_EQ(problem.path, (json::array{0, "x", 1, "weird key"}));
  EXPECT_EQ(JsonPathText(problem.path), R"([0].x[1]["weird key"])");

  EXPECT_FALSE(ParseJsonLimited("1e309", 64, &problem));
  EXPECT_TRUE(problem.path.empty());
  EXPECT_NE(problem.message.find("the top level"), std::string::npos);

  // Every caller of ParseJson gets the same refusal (stored rows, tool-call arguments).
  std::string error;
  EXPECT_FALSE(ParseJson(R"({"v":[1E999]})", &error));
  EXPECT_NE(error.find("v[0]"), std::string::npos) << error;
  // In range: the largest double, an underflow to 0, huge integers (read as doubles).
  auto fine = ParseJson(R"([1.7976931348623157e308,1e-400,123456789012345678901234567890])");
  ASSERT_TRUE(fine);
  EXPECT_EQ(fine->at(1).as_double(), 0.0);
}

TEST(ParseJson, NestingLimitIsCheckedAndNamed) {
  auto nested = [](std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); };
  JsonProblem problem;
  EXPECT_TRUE(ParseJsonLimited(nested(10), 10, &problem));
  EXPECT_FALSE(ParseJsonLimited(nested(11), 10, &problem));
  EXPECT_EQ(problem.kind, JsonProblem::Kind::kTooDeep);
  EXPECT_EQ(problem.message, "nesting deeper than 10 levels");
  // Stored rows read back at any depth a request may have (at most kMaxRequestJsonDepth, plus
  // the levels a row adds around it).
  EXPECT_TRUE(ParseJson(nested(kMaxRequestJsonDepth + 8)));
  EXPECT_FALSE(ParseJson(nested(kStoredJsonMaxDepth + 1)));
  EXPECT_FALSE(ParseJsonLimited("{\"a\":", 10, &problem));
  EXPECT_EQ(problem.kind, JsonProblem::Kind::kSyntax);
}

}  // namespace
}  // namespace agentd
