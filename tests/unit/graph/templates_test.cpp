// Templates (templates.hpp): placeholders at any depth, whole-placeholder strings as JSON.

#include "graph/templates.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

namespace agentd::graph {
namespace {

namespace json = boost::json;

class GraphTemplates : public ::testing::Test {
 protected:
  GraphTemplates() {
    channels_ = json::parse(R"({"route":"billing","ticket":{"id":7,"tags":["a","b"]},"unset":null})").as_object();
    messages_ = json::parse(R"([{"type":"human","content":"hello"},{"type":"ai","content":"echo: hello"}])").as_array();
    config_ = json::parse(R"({"tone":"friendly","temperature":0.2})").as_object();
    context_ = json::parse(R"({"user":"u1"})").as_object();
    ctx_.state = StateView{&channels_, &messages_};
    ctx_.config = &config_;
    ctx_.context = &context_;
    ctx_.thread_id = "t-1";
    ctx_.run_id = "r-1";
  }
  std::string Rendered(std::string_view value) {
    return json::serialize(Render(json::parse(value), ctx_));
  }
  json::object channels_, config_, context_;
  json::array messages_;
  TemplateContext ctx_;
};

TEST_F(GraphTemplates, RendersEveryRootInsideText) {
  EXPECT_EQ(RenderText("{{state.route}}/{{ config.tone }}/{{context.user}}/{{last.text}}/{{thread_id}}/{{run_id}}",
                       ctx_),
            "billing/friendly/u1/echo: hello/t-1/r-1");
  EXPECT_EQ(RenderText("id {{state.ticket.id}}, tag {{state.ticket.tags.1}}, t={{config.temperature}}", ctx_),
            "id 7, tag b, t=0.2");
  // Objects inside text are JSON; unset and null values are empty text.
  EXPECT_EQ(RenderText("[{{state.ticket}}][{{state.unset}}][{{state.nothing}}][{{context.nope}}]", ctx_),
            R"([{"id":7,"tags":["a","b"]}][][][])");
}

TEST_F(GraphTemplates, AStringThatIsOnePlaceholderBecomesTheValue) {
  EXPECT_EQ(Rendered(R"({"t":"{{state.ticket}}","n":"{{ state.ticket.id }}","u":"{{state.unset}}","x":"{{config.missing}}"})"),
            R"({"t":{"id":7,"tags":["a","b"]},"n":7,"u":null,"x":null})");
}

TEST_F(GraphTemplates, RendersAtAnyDepthButNotInKeys) {
  EXPECT_EQ(Rendered(R"({"messages":[{"role":"ai","content":"summary: {{state.route}}"}],"{{state.route}}":[1,true,null]})"),
            R"({"messages":[{"role":"ai","content":"summary: billing"}],"{{state.route}}":[1,true,null]})");
  EXPECT_EQ(Rendered(R"("{{state.messages}}")"), json::serialize(messages_));
}

TEST_F(GraphTemplates, SyntaxErrors) {
  EXPECT_FALSE(ParsePlaceholders("{{state.x"));
  EXPECT_FALSE(ParsePlaceholders("{{state}}"));
  EXPECT_FALSE(ParsePlaceholders("{{last.content}}"));
  EXPECT_FALSE(ParsePlaceholders("{{thread_id.x}}"));
  EXPECT_FALSE(ParsePlaceholders("{{state.a b}}"));
  EXPECT_FALSE(ParsePlaceholders("{{env.HOME}}"));
  auto ok = ParsePlaceholders("a {{ state.x.y }} b {{run_id}}");
  ASSERT_TRUE(ok);
  ASSERT_EQ(ok->size(), 2u);
  EXPECT_EQ((*ok)[0].root, "state");
  EXPECT_EQ((*ok)[0].path, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ((*ok)[1].begin, 20u);
  // A malformed placeholder renders as written (the loader refuses such files).
  EXPECT_EQ(RenderText("{{state.route", ctx_), "{{state.route");
}

TEST_F(GraphTemplates, EachMapsAListAndLastToolCallsResumeAndItemReadValues) {
  messages_.push_back(json::parse(
      R"({"type":"ai","content":"","tool_calls":[{"name":"a","args":{"x":1},"id":"c1"},{"name":"b","args":{},"id":"c2"}]})"));
  EXPECT_EQ(Rendered(R"({"calls":{"$each":"{{last.tool_calls}}","do":{"n":"{{item.name}}","args":"{{item.args}}"}}})"),
            R"({"calls":[{"n":"a","args":{"x":1}},{"n":"b","args":{}}]})");
  EXPECT_EQ(Rendered(R"({"$each":"{{last.tool_calls}}","do":"{{item.id}}: {{item.name}}"})"), R"(["c1: a","c2: b"])");
  // An unset or non-list source gives [].
  EXPECT_EQ(Rendered(R"({"$each":"{{state.route}}","do":1})"), "[]");
  EXPECT_EQ(Rendered(R"({"$each":"{{state.nothing}}","do":1})"), "[]");
  const json::value resume = json::parse(R"({"approved":false,"note":"no"})");
  ctx_.state.resume = &resume;
  EXPECT_EQ(Rendered(R"(["{{resume}}","{{resume.note}}","said {{resume.approved}}"])"),
            R"([{"approved":false,"note":"no"},"no","said false"])");
  messages_.pop_back();
  EXPECT_EQ(Rendered(R"("{{last.tool_calls}}")"), "[]");
}

}  // namespace
}  // namespace agentd::graph
