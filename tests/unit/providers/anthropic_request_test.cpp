// BuildAnthropicRequest and ParseAnthropicResponse (declared in anthropic_stream.hpp).
#include <string>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include "runtime/providers/anthropic_stream.hpp"
#include "stream_test_util.hpp"

namespace agentd::runtime::providers {
namespace {

namespace json = boost::json;

TEST(AnthropicRequest, SeparatesSystemAndMapsToolRoundTripToBlocks) {
  const std::vector<ChatMessage> messages = {
      {ChatRole::kSystem, "Be brief.", {}, ""},
      {ChatRole::kUser, "weather in paris, and the time?", {}, ""},
      {ChatRole::kAssistant,
       "Checking.",
       {{"toolu_1", "get_weather", R"({"city":"paris"})"}, {"toolu_2", "now", ""}},
       ""},
      {ChatRole::kTool, "sunny in paris", {}, "toolu_1"},
      {ChatRole::kTool, "12:00", {}, "toolu_2"},
      {ChatRole::kUser, "thanks", {}, ""},
      {ChatRole::kSystem, "Answer in English.", {}, ""},
  };
  const std::vector<ToolSpec> tools = {
      {"get_weather", "Weather for a city",
       json::parse(R"({"type":"object","properties":{"city":{"type":"string"}}})")},
      {"now", "", nullptr}};
  const json::object body = BuildAnthropicRequest(messages, tools, "claude-sonnet-4-5", true);
  EXPECT_EQ(json::value(body), json::parse(R"({
    "model": "claude-sonnet-4-5",
    "max_tokens": 4096,
    "system": "Be brief.\n\nAnswer in English.",
    "messages": [
      {"role": "user", "content": [{"type": "text", "text": "weather in paris, and the time?"}]},
      {"role": "assistant", "content": [
        {"type": "text", "text": "Checking."},
        {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "paris"}},
        {"type": "tool_use", "id": "toolu_2", "name": "now", "input": {}}]},
      {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny in paris"},
        {"type": "tool_result", "tool_use_id": "toolu_2", "content": "12:00"},
        {"type": "text", "text": "thanks"}]}
    ],
    "tools": [
      {"name": "get_weather", "description": "Weather for a city",
       "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}},
      {"name": "now", "input_schema": {"type": "object", "properties": {}}}
    ],
    "stream": true
  })")) << json::serialize(body);
}

TEST(AnthropicRequest, OptionsMapToAnthropicNames) {
  const std::vector<ChatMessage> messages = {{ChatRole::kUser, "hi", {}, ""}};
  ChatOptions options;
  options.max_tokens = 256;
  options.temperature = 0.5;
  options.stop = {"END"};
  options.tool_choice = "required";
  const json::object body = BuildAnthropicRequest(messages, {}, "m", false, options);
  EXPECT_EQ(json::value(body), json::parse(R"({
    "model": "m", "max_tokens": 256,
    "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
    "tool_choice": {"type": "any"}, "temperature": 0.5, "stop_sequences": ["END"]
  })")) << json::serialize(body);

  options.tool_choice = "get_weather";
  EXPECT_EQ(BuildAnthropicRequest(messages, {}, "m", false, options).at("tool_choice"),
            json::parse(R"({"type":"tool","name":"get_weather"})"));
  options.tool_choice = "none";
  EXPECT_EQ(BuildAnthropicRequest(messages, {}, "m", false, options).at("tool_choice"),
            json::parse(R"({"type":"none"})"));
}

TEST(AnthropicRequest, UnparsableToolArgumentsAreSentAsEmptyInputAndEmptyTextIsDropped) {
  const std::vector<ChatMessage> messages = {
      {ChatRole::kUser, "go", {}, ""},
      {ChatRole::kAssistant, "", {{"toolu_1", "f", R"({"trunc)"}}, ""},
      {ChatRole::kTool, "", {}, "toolu_1"},
  };
  const json::object body = BuildAnthropicRequest(messages, {}, "m", false);
  EXPECT_EQ(body.at("messages"), json::parse(R"([
    {"role": "user", "content": [{"type": "text", "text": "go"}]},
    {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}]},
    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": ""}]}
  ])")) << json::serialize(body);
}

TEST(AnthropicResponse, ParsesTextAndToolUseBlocks) {
  auto result = ParseAnthropicResponse(R"({
    "id": "msg_01", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
    "content": [
      {"type": "text", "text": "Checking."},
      {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "paris"}}
    ],
    "stop_reason": "tool_use", "stop_sequence": null,
    "usage": {"input_tokens": 10, "cache_creation_input_tokens": 2, "output_tokens": 7}})");
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(testing::Render(*result),
            R"(result id=msg_01 finish=tool_calls text="Checking." usage=12/7
  call toolu_1 get_weather "{\"city\":\"paris\"}")");
}

TEST(AnthropicResponse, ErrorBodyIsAnErrorWithItsMessage) {
  auto result = ParseAnthropicResponse(
      R"({"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: Field required"}})");
  ASSERT_FALSE(result);
  EXPECT_EQ(testing::Render(result.error()),
            "error invalid_argument: anthropic error (invalid_request_error): max_tokens: Field required");
}

TEST(AnthropicResponse, MalformedBodyIsAnInternalError) {
  auto result = ParseAnthropicResponse(R"({"type":"message","content":)");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, Errc::kInternal);
  auto no_content = ParseAnthropicResponse(R"({"type":"message"})");
  ASSERT_FALSE(no_content);
  EXPECT_EQ(testing::Render(no_content.error()), "error internal: anthropic: response has no content");
}

}  // namespace
}  // namespace agentd::runtime::providers
