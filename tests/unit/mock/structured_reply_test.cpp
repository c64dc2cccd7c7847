// The mock model's two rules for graph files (mock-llm.md): structured output and the
// `system?` probe, through ComputeReply and the renderers.

#include "mock/structured_reply.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "mock/js_json.hpp"
#include "mock/mock_model.hpp"

namespace agentd::mock {
namespace {

namespace json = boost::json;

json::object Request(std::string_view text) { return json::parse(text).as_object(); }

std::string Built(std::string_view schema, std::string_view text) {
  return JsStringify(BuildFromSchema(json::parse(schema), text));
}

TEST(MockStructured, EnumPicksTheFirstValueThatOccursAsAWholeWordElseTheFirst) {
  constexpr std::string_view kSchema = R"({"type":"string","enum":["billing","general","invoice"]})";
  EXPECT_EQ(Built(kSchema, "my INVOICE is wrong"), R"("invoice")");
  EXPECT_EQ(Built(kSchema, "general and billing"), R"("billing")");  // enum order, not text order
  EXPECT_EQ(Built(kSchema, "generally"), R"("billing")");            // not a whole word
  EXPECT_EQ(Built(kSchema, "hello"), R"("billing")");
}

TEST(MockStructured, ScalarsObjectsAndArrays) {
  EXPECT_EQ(Built(R"({"type":"string"})", "a b"), R"("a b")");
  EXPECT_EQ(Built(R"({"type":"integer"})", "  three  little words "), "3");
  EXPECT_EQ(Built(R"({"type":"number"})", ""), "0");
  EXPECT_EQ(Built(R"({"type":"boolean"})", "true"), "false");  // no property name at the root
  EXPECT_EQ(Built(R"({"type":"object","properties":{
                       "urgent":{"type":"boolean"},"polite":{"type":"boolean"},
                       "route":{"type":"string","enum":["a","b"]},
                       "tags":{"type":"array","items":{"type":"integer"}},
                       "inner":{"type":"object","properties":{"text":{"type":"string"}}}}})",
                  "Urgent: refund b now"),
            R"({"urgent":true,"polite":false,"route":"b","tags":[4],"inner":{"text":"Urgent: refund b now"}})");
  EXPECT_EQ(Built(R"({"type":["null","string"]})", "x"), R"("x")");
  EXPECT_EQ(Built(R"({"anyOf":[{"type":"integer"},{"type":"string"}]})", "x y"), "2");
  EXPECT_EQ(Built(R"({"const":{"k":1}})", "x"), R"({"k":1})");
  EXPECT_EQ(Built(R"({"type":"null"})", "x"), "null");
}

TEST(MockStructured, DeepSchemasAreBoundedNotRecursedForever) {
  std::string schema = R"({"type":"string"})";
  for (int i = 0; i < 25; ++i) schema = R"({"type":"array","items":)" + schema + "}";
  const std::string built = Built(schema, "x");
  EXPECT_NE(built.find("null"), std::string::npos);
  EXPECT_EQ(built.find("\"x\""), std::string::npos);
}

TEST(MockStructured, OpenAiResponseFormatAnswersTheJsonAsContent) {
  const auto r = ComputeReply(Request(R"({"messages":[{"role":"system","content":"Classify."},
      {"role":"user","content":"my invoice is wrong, weather?"}],
      "tools":[{"type":"function","function":{"name":"get_weather"}}],
      "response_format":{"type":"json_schema","json_schema":{"name":"route","strict":true,
        "schema":{"type":"object","properties":{"route":{"type":"string","enum":["general","invoice"]}},
                  "required":["route"],"additionalProperties":false}}}})"),
                              {});
  EXPECT_EQ(r.kind, ReplyKind::kText);  // structured output wins over the weather rule
  EXPECT_EQ(r.text, R"({"route":"invoice"})");
  const json::value body = json::parse(RenderCompletion(Request(R"({"messages":[]})"), r));
  EXPECT_EQ(body.at("choices").at(0).at("message").at("content"), R"({"route":"invoice"})");
}

TEST(MockStructured, AnthropicForcedToolAnswersTheValueAsThatToolsInput) {
  const auto r = ComputeReply(Request(R"({"messages":[{"role":"user","content":"hello there"}],
      "tools":[{"name":"other","input_schema":{"type":"object"}},
               {"name":"respond","input_schema":{"type":"object","properties":{"n":{"type":"integer"}}}}],
      "tool_choice":{"type":"tool","name":"respond"}})"),
                              {});
  ASSERT_EQ(r.kind, ReplyKind::kToolCall);
  EXPECT_EQ(r.tool_name, "respond");
  EXPECT_EQ(r.tool_arguments, R"({"n":2})");
  EXPECT_EQ(r.call_id, "call_" + r.hash);
}

TEST(MockStructured, ATrailingToolResultIsStillEchoedFirst) {
  const auto r = ComputeReply(Request(R"({"messages":[{"role":"user","content":"x"},{"role":"tool","content":"t"}],
      "response_format":{"type":"json_schema","json_schema":{"schema":{"type":"string"}}}})"),
                              {});
  EXPECT_EQ(r.text, "echo: t");
}

TEST(MockStructured, OtherResponseFormatsAndUnforcedToolsAreNotStructured) {
  EXPECT_FALSE(FindStructuredRequest(Request(R"({"response_format":{"type":"json_object"}})")));
  EXPECT_FALSE(FindStructuredRequest(
      Request(R"({"tools":[{"name":"a","input_schema":{"type":"object"}}],"tool_choice":{"type":"auto"}})")));
  EXPECT_FALSE(FindStructuredRequest(
      Request(R"({"tools":[{"name":"a","input_schema":{"type":"object"}}],"tool_choice":{"type":"tool","name":"b"}})")));
}

TEST(MockSystemProbe, RepliesWithTheSystemMessagesJoined) {
  const auto r = ComputeReply(Request(R"({"messages":[{"role":"system","content":"You are A."},
      {"role":"user","content":"hi"},{"role":"system","content":[{"type":"text","text":"Be B."}]},
      {"role":"user","content":"What is your SYSTEM? weather"}],
      "tools":[{"type":"function","function":{"name":"get_weather"}}]})"),
                              {});
  EXPECT_EQ(r.kind, ReplyKind::kText);  // the probe wins over the weather rule
  EXPECT_EQ(r.text, "system: You are A. | Be B.");
}

TEST(MockSystemProbe, WithoutSystemMessagesTheTextIsEmpty) {
  const auto r = ComputeReply(Request(R"({"messages":[{"role":"user","content":"system?"}]})"), {});
  EXPECT_EQ(r.text, "system: ");
  const auto plain = ComputeReply(Request(R"({"messages":[{"role":"user","content":"system"}]})"), {});
  EXPECT_EQ(plain.text, "echo: system");
}

}  // namespace
}  // namespace agentd::mock
