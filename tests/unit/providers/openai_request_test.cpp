// BuildOpenAiRequest and ParseOpenAiResponse (declared in openai_stream.hpp).
#include <string>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include "openai_testdata.hpp"
#include "runtime/providers/openai_stream.hpp"
#include "stream_test_util.hpp"

namespace agentd::runtime::providers {
namespace {

namespace json = boost::json;

std::vector<ChatMessage> ToolRoundTrip() {
  return {
      {ChatRole::kSystem, "Be brief.", {}, ""},
      {ChatRole::kUser, "what's the weather in paris and the time?", {}, ""},
      {ChatRole::kAssistant,
       "",
       {{"call_1", "get_weather", R"({"city":"paris"})"}, {"call_2", "now", ""}},
       ""},
      {ChatRole::kTool, "sunny in paris", {}, "call_1"},
      {ChatRole::kTool, "12:00", {}, "call_2"},
      {ChatRole::kAssistant, "Sunny, noon.", {}, ""},
  };
}

std::vector<ToolSpec> WeatherTool() {
  return {{"get_weather", "Weather for a city",
           json::parse(R"({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]})")},
          {"now", "", nullptr}};
}

TEST(OpenAiRequest, StreamingBodyCarriesMessagesToolsAndUsageRequest) {
  const auto messages = ToolRoundTrip();
  const auto tools = WeatherTool();
  const json::object body = BuildOpenAiRequest(messages, tools, "gpt-4o-mini", true);
  EXPECT_EQ(json::value(body), json::parse(R"({
    "model": "gpt-4o-mini",
    "messages": [
      {"role": "system", "content": "Be brief."},
      {"role": "user", "content": "what's the weather in paris and the time?"},
      {"role": "assistant", "content": null, "tool_calls": [
        {"id": "call_1", "type": "function",
         "function": {"name": "get_weather", "arguments": "{\"city\":\"paris\"}"}},
        {"id": "call_2", "type": "function", "function": {"name": "now", "arguments": "{}"}}]},
      {"role": "tool", "tool_call_id": "call_1", "content": "sunny in paris"},
      {"role": "tool", "tool_call_id": "call_2", "content": "12:00"},
      {"role": "assistant", "content": "Sunny, noon."}
    ],
    "tools": [
      {"type": "function", "function": {"name": "get_weather", "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                       "required": ["city"]}}},
      {"type": "function", "function": {"name": "now",
        "parameters": {"type": "object", "properties": {}}}}
    ],
    "stream": true,
    "stream_options": {"include_usage": true}
  })")) << json::serialize(body);
}

TEST(OpenAiRequest, NonStreamingBodyHasOptionsAndNoStreamOptions) {
  const std::vector<ChatMessage> messages = {{ChatRole::kUser, "hi", {}, ""}};
  ChatOptions options;
  options.max_tokens = 100;
  options.temperature = 0.5;
  options.top_p = 0.25;
  options.stop = {"END"};
  options.tool_choice = "get_weather";
  options.extra = {{"max_tokens", nullptr}, {"seed", 7}};  // extra wins over the fields
  const json::object body = BuildOpenAiRequest(messages, WeatherTool(), "m", false, options);
  EXPECT_FALSE(body.contains("stream_options"));
  EXPECT_EQ(body.at("stream"), json::value(false));
  EXPECT_EQ(body.at("temperature"), json::value(0.5));
  EXPECT_EQ(body.at("top_p"), json::value(0.25));
  EXPECT_EQ(body.at("stop"), json::parse(R"(["END"])"));
  EXPECT_EQ(body.at("tool_choice"), json::parse(R"({"type":"function","function":{"name":"get_weather"}})"));
  EXPECT_EQ(body.at("max_tokens"), json::value(nullptr));
  EXPECT_EQ(body.at("seed"), json::value(7));
}

TEST(OpenAiRequest, KeywordToolChoicesPassThroughAndNoToolsMeansNoToolsKey) {
  const std::vector<ChatMessage> messages = {{ChatRole::kUser, "hi", {}, ""}};
  ChatOptions options;
  options.tool_choice = "required";
  const json::object body = BuildOpenAiRequest(messages, {}, "m", false, options);
  EXPECT_EQ(body.at("tool_choice"), json::value("required"));
  EXPECT_FALSE(body.contains("tools"));
}

TEST(OpenAiResponse, ParsesRecordedTextReply) {
  auto result = ParseOpenAiResponse(testing::kOpenAiTextResponse);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(testing::Render(*result),
            R"(result id=chatcmpl-64e95a1abd348f2419f71ee4 finish=stop text="echo: hello there" usage=11/6)");
}

TEST(OpenAiResponse, ParsesRecordedToolCallReplyLikeTheStream) {
  auto result = ParseOpenAiResponse(testing::kOpenAiToolResponse);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(testing::Render(*result),
            R"(result id=chatcmpl-e3ad9cd37fbea14e211a2537 finish=tool_calls text="" usage=13/8
  call call_e3ad9cd37fbea14e211a2537 get_weather "{\"city\":\"paris\"}")");
}

TEST(OpenAiResponse, ErrorBodyIsAnErrorWithItsMessage) {
  auto result = ParseOpenAiResponse(
      R"({"error":{"message":"Invalid 'messages': empty array.","type":"invalid_request_error","param":"messages","code":"empty_array"}})");
  ASSERT_FALSE(result);
  EXPECT_EQ(testing::Render(result.error()),
            "error invalid_argument: openai error (invalid_request_error): Invalid 'messages': empty array.");
}

TEST(OpenAiResponse, MalformedOrChoicelessBodiesAreInternalErrors) {
  auto malformed = ParseOpenAiResponse(R"({"id":"x","choices":[)");
  ASSERT_FALSE(malformed);
  EXPECT_EQ(malformed.error().code, Errc::kInternal);
  auto empty = ParseOpenAiResponse(R"({"id":"x","choices":[]})");
  ASSERT_FALSE(empty);
  EXPECT_EQ(testing::Render(empty.error()), "error internal: openai: response has no choices");
}

}  // namespace
}  // namespace agentd::runtime::providers
