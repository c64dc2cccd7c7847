#include "mock/js_json.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

namespace agentd::mock {
namespace {

namespace json = boost::json;

TEST(JsNumberToString, FollowsEcmaScriptLayout) {
  EXPECT_EQ(JsNumberToString(1.5), "1.5");
  EXPECT_EQ(JsNumberToString(1e21), "1e+21");
  EXPECT_EQ(JsNumberToString(1e20), "100000000000000000000");
  EXPECT_EQ(JsNumberToString(1e-7), "1e-7");
  EXPECT_EQ(JsNumberToString(0.000001), "0.000001");
  EXPECT_EQ(JsNumberToString(-0.0), "0");
  EXPECT_EQ(JsNumberToString(-2.5e-10), "-2.5e-10");
  EXPECT_EQ(JsNumberToString(0.1), "0.1");
  EXPECT_EQ(JsNumberToString(123.456), "123.456");
  EXPECT_EQ(JsNumberToString(5e-324), "5e-324");
  EXPECT_EQ(JsNumberToString(12345678901234567890.0), "12345678901234567000");
}

TEST(JsStringify, PutsArrayIndexKeysFirstAndKeepsTheRestInOrder) {
  const auto v = json::parse(R"({"b":1,"10":2,"a":[true,null],"2":"x","01":3})");
  EXPECT_EQ(JsStringify(v), R"({"2":"x","10":2,"b":1,"a":[true,null],"01":3})");
}

TEST(JsStringify, EscapesOnlyWhatJavaScriptEscapes) {
  const json::value v = "q\" \\ / \n\t\x01 \x7f \xE2\x80\xA8 \xC3\xA9";
  EXPECT_EQ(JsStringify(v), "\"q\\\" \\\\ / \\n\\t\\u0001 \x7f \xE2\x80\xA8 \xC3\xA9\"");
}

TEST(Utf16, CountsAstralCharactersAsTwoUnits) {
  EXPECT_EQ(Utf16Length("abc"), 3u);
  EXPECT_EQ(Utf16Length("\xC3\xA9"), 1u);          // é
  EXPECT_EQ(Utf16Length("\xF0\x9F\x8C\x8D"), 2u);  // 🌍
}

TEST(SplitUtf16, SplitsLikeTheReference) {
  EXPECT_EQ(SplitUtf16("", 8, true), std::vector<std::string>{""});
  EXPECT_EQ(SplitUtf16("hi", 8, true), (std::vector<std::string>{"h", "i"}));
  // 17 units, at most 8 pieces -> pieces of ceil(17/8)=3 -> 6 pieces.
  EXPECT_EQ(SplitUtf16("echo: hello there", 8, true),
            (std::vector<std::string>{"ech", "o: ", "hel", "lo ", "the", "re"}));
}

TEST(SplitUtf16, KeepsOrBreaksSurrogatePairsOnRequest) {
  const std::string text = "a\xF0\x9F\x8C\x8D";  // 3 units -> 3 pieces of 1
  EXPECT_EQ(SplitUtf16(text, 8, true), (std::vector<std::string>{"a", "\xF0\x9F\x8C\x8D", ""}));
  const auto wire = SplitUtf16(text, 8, false);
  ASSERT_EQ(wire.size(), 3u);
  EXPECT_EQ(JsStringify(json::value(wire[1])), "\"\\ud83c\"");
  EXPECT_EQ(JsStringify(json::value(wire[2])), "\"\\udf0d\"");
}

TEST(ContainsWholeWord, MatchesAsciiWordBoundariesCaseInsensitively) {
  EXPECT_TRUE(ContainsWholeWord("What's the WEATHER?", "weather"));
  EXPECT_TRUE(ContainsWholeWord("weather", "weather"));
  EXPECT_TRUE(ContainsWholeWord("\xC3\xA9weather", "weather"));  // non-ASCII is not a word char
  EXPECT_FALSE(ContainsWholeWord("the weatherman", "weather"));
  EXPECT_FALSE(ContainsWholeWord("_weather", "weather"));
}

TEST(JsToString, PrintsLikeStringOfValue) {
  EXPECT_EQ(JsToString(json::parse("42")), "42");
  EXPECT_EQ(JsToString(json::parse("[1,null,\"a\"]")), "1,,a");
  EXPECT_EQ(JsToString(json::parse("{}")), "[object Object]");
}

}  // namespace
}  // namespace agentd::mock
