// Structured output (structured_output.hpp): wrapping non-object schemas, unwrapping answers,
// validating a value against the node's schema with the failing path named.

#include "graph/structured_output.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

namespace agentd::graph {
namespace {

namespace json = boost::json;

std::string Problem(std::string_view schema, std::string_view value) {
  auto p = ValidateValue(json::parse(schema), json::parse(value));
  return p ? *p : "ok";
}

TEST(GraphStructuredOutput, WrapsNonObjectSchemasAndUnwrapsAnswers) {
  auto object = WrapSchema(json::parse(R"({"type":"object","properties":{"a":{"type":"string"}}})"));
  EXPECT_FALSE(object.wrapped);
  auto wrapped = WrapSchema(json::parse(R"({"type":"string","enum":["x","y"]})"));
  EXPECT_TRUE(wrapped.wrapped);
  EXPECT_EQ(json::serialize(wrapped.schema),
            R"({"type":"object","properties":{"value":{"type":"string","enum":["x","y"]}},"required":["value"],)"
            R"("additionalProperties":false})");
  EXPECT_EQ(*Unwrap(json::parse(R"({"value":"x"})"), true), "x");
  EXPECT_FALSE(Unwrap(json::parse(R"({"other":"x"})"), true));
  EXPECT_EQ(*Unwrap(json::parse(R"({"other":"x"})"), false), json::parse(R"({"other":"x"})"));
}

TEST(GraphStructuredOutput, ValidatesAndNamesThePath) {
  constexpr std::string_view kSchema = R"({"type":"object","required":["route","score"],
    "properties":{"route":{"type":"string","enum":["billing","general"]},
                  "score":{"type":"integer","minimum":0,"maximum":10},
                  "tags":{"type":"array","items":{"type":"string","maxLength":3},"maxItems":2},
                  "note":{"type":["string","null"]}},
    "additionalProperties":false})";
  EXPECT_EQ(Problem(kSchema, R"({"route":"billing","score":3,"tags":["a"],"note":null})"), "ok");
  EXPECT_EQ(Problem(kSchema, R"({"route":"other","score":3})"),
            R"($.route: expected one of ["billing","general"], got "other")");
  EXPECT_EQ(Problem(kSchema, R"({"route":"billing"})"), "$.score: required property missing");
  EXPECT_EQ(Problem(kSchema, R"({"route":"billing","score":11})"), "$.score: 11 is above the maximum 10");
  EXPECT_EQ(Problem(kSchema, R"({"route":"billing","score":1.5})"), R"($.score: expected "integer", got 1.5)");
  EXPECT_EQ(Problem(kSchema, R"({"route":"billing","score":1,"tags":["a","long"]})"),
            "$.tags[1]: longer than 3 characters");
  EXPECT_EQ(Problem(kSchema, R"({"route":"billing","score":1,"extra":1})"), "$.extra: property not allowed");
  EXPECT_EQ(Problem(kSchema, R"("billing")"), R"($: expected "object", got "billing")");
  EXPECT_EQ(Problem(R"({"anyOf":[{"type":"integer"},{"const":"x"}]})", R"("y")"),
            "$: matches none of the anyOf alternatives");
  EXPECT_EQ(Problem(R"({"type":"integer"})", "2.0"), "ok");
}

}  // namespace
}  // namespace agentd::graph
