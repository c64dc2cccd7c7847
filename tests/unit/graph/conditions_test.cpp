// The branch condition language (conditions.hpp): parsing and evaluation.

#include "graph/conditions.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "graph/source_tree.hpp"

namespace agentd::graph {
namespace {

namespace json = boost::json;

Condition Parse(std::string_view yaml) {
  Diagnostics diags("c.yaml");
  auto node = ParseSource(yaml, diags);
  EXPECT_TRUE(node) << diags.Format();
  auto c = ParseCondition(*node, "when", diags);
  EXPECT_TRUE(c) << diags.Format();
  return c ? *c : Condition{};
}

struct Fixture {
  json::object channels;
  json::array messages;
  StateView view() const { return StateView{&channels, &messages}; }
};

bool Holds(std::string_view yaml, const Fixture& f) {
  auto r = Evaluate(Parse(yaml), f.view());
  EXPECT_TRUE(r) << r.error().message;
  return r && *r;
}

TEST(GraphConditions, ChannelTests) {
  Fixture f;
  f.channels = json::parse(R"({"route":"billing","n":3,"empty":null,"obj":{"a":[1]}})").as_object();
  EXPECT_TRUE(Holds("{channel: route, equals: billing}", f));
  EXPECT_FALSE(Holds("{channel: route, equals: general}", f));
  EXPECT_TRUE(Holds("{channel: n, equals: 3}", f));
  EXPECT_TRUE(Holds("{channel: obj, equals: {a: [1]}}", f));
  EXPECT_TRUE(Holds("{channel: missing, equals: null}", f));
  EXPECT_TRUE(Holds("{channel: route, in: [general, billing]}", f));
  EXPECT_FALSE(Holds("{channel: n, in: [1, 2]}", f));
  EXPECT_TRUE(Holds("{channel: route, exists: true}", f));
  EXPECT_TRUE(Holds("{channel: empty, exists: false}", f));  // null counts as unset
  EXPECT_TRUE(Holds("{channel: missing, exists: false}", f));
  EXPECT_TRUE(Holds(R"({channel: route, matches: "^bill"})", f));
  EXPECT_FALSE(Holds(R"({channel: route, matches: "^gen"})", f));
  EXPECT_FALSE(Holds(R"({channel: n, matches: "3"})", f));  // only strings match
}

TEST(GraphConditions, MessageTestsAndCombinators) {
  Fixture f;
  f.messages = json::parse(R"([{"type":"human","content":"hi"},
      {"type":"ai","content":[{"type":"text","text":"My INVOICE"}],"tool_calls":[{"name":"t","args":{},"id":"1"}]}])")
                   .as_array();
  EXPECT_TRUE(Holds("{tool_calls: true}", f));
  EXPECT_FALSE(Holds("{tool_calls: false}", f));
  EXPECT_TRUE(Holds("{last_message_contains: invoice}", f));  // case-insensitive
  EXPECT_TRUE(Holds("{channel: messages, exists: true}", f));
  EXPECT_TRUE(Holds("{all: [{tool_calls: true}, {last_message_contains: my}]}", f));
  EXPECT_FALSE(Holds("{all: [{tool_calls: true}, {last_message_contains: nope}]}", f));
  EXPECT_TRUE(Holds("{any: [{last_message_contains: nope}, {tool_calls: true}]}", f));
  EXPECT_TRUE(Holds("{not: {last_message_contains: nope}}", f));
  f.messages.back().as_object()["tool_calls"] = json::array{};
  EXPECT_FALSE(Holds("{tool_calls: true}", f));
  Fixture empty;
  EXPECT_FALSE(Holds("{tool_calls: true}", empty));
  EXPECT_FALSE(Holds("{last_message_contains: x}", empty));
  EXPECT_FALSE(Holds("{channel: messages, exists: true}", empty));
}

TEST(GraphConditions, LongInputsAreReadOnlyUpToTheBound) {
  Fixture f;
  f.channels["text"] = std::string(kMaxRegexInput, 'a') + "END";
  EXPECT_FALSE(Holds(R"({channel: text, matches: "END"})", f));
  EXPECT_TRUE(Holds(R"({channel: text, matches: "^a+$"})", f));
}

TEST(GraphConditions, ParseErrorsNameThePath) {
  Diagnostics diags("c.yaml");
  auto node = ParseSource("{all: [{channel: x}, {in: [1]}, {tool_calls: maybe}, 3]}", diags);
  ASSERT_TRUE(node);
  EXPECT_FALSE(ParseCondition(*node, "when", diags));
  EXPECT_EQ(diags.Format(),
            "c.yaml:1:8: when.all[0]: `channel` needs one of equals, in, exists, matches\n"
            "c.yaml:1:23: when.all[1].in: `in` needs `channel` or `resume`\n"
            "c.yaml:1:46: when.all[2].tool_calls: expected true or false, got a string\n"
            "c.yaml:1:54: when.all[3]: a condition must be a map (channel or resume + equals | in | exists | matches, "
            "tool_calls, last_message_contains, all, any, not), got a number");
}

TEST(GraphConditions, ResumeTestsReadTheResumeValue) {
  Fixture f;
  const json::value resume = json::parse(R"({"approved":true,"who":{"name":"ana"}})");
  StateView view = f.view();
  view.resume = &resume;
  auto holds = [&](std::string_view yaml) {
    auto r = Evaluate(Parse(yaml), view);
    EXPECT_TRUE(r) << r.error().message;
    return r && *r;
  };
  EXPECT_TRUE(holds("{resume: approved, equals: true}"));
  EXPECT_TRUE(holds("{resume: who.name, in: [ana, bo]}"));
  EXPECT_TRUE(holds("{resume: '', equals: {approved: true, who: {name: ana}}}"));
  EXPECT_FALSE(holds("{resume: missing, exists: true}"));
  EXPECT_TRUE(holds("{not: {resume: approved, equals: false}}"));
  // Without a resume value (a branch, an llm node's update) nothing is there to read.
  EXPECT_FALSE(Holds("{resume: approved, equals: true}", f));
  EXPECT_TRUE(ReadsResume(Parse("{any: [{tool_calls: true}, {resume: x, exists: true}]}")));
  EXPECT_FALSE(ReadsResume(Parse("{channel: x, exists: true}")));
}

}  // namespace
}  // namespace agentd::graph
