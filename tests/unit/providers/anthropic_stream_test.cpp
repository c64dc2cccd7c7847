#include "runtime/providers/anthropic_stream.hpp"

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "anthropic_testdata.hpp"
#include "stream_test_util.hpp"

namespace agentd::runtime::providers {
namespace {

using testing::RunSlices;
using testing::SameForEverySlicing;
using testing::kAnthropicTextReply;

std::unique_ptr<ChatStreamDecoder> MakeAnthropic() {
  return std::make_unique<AnthropicStreamDecoder>();
}

std::string RunAnthropic(std::string_view bytes, SseParserOptions options = {}) {
  return RunSlices(MakeAnthropic, {bytes}, options);
}

// Text, then a tool_use whose input arrives as input_json_delta fragments, then a second
// tool_use that takes no arguments (no fragments at all).
constexpr std::string_view kToolReply = R"sse(event: message_start
data: {"type":"message_start","message":{"id":"msg_014p7gG3wDgGV9EUtLvnow3U","type":"message","role":"assistant","model":"claude-sonnet-4-5","stop_sequence":null,"usage":{"input_tokens":472,"output_tokens":2},"content":[],"stop_reason":null}}

event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

event: ping
data: {"type": "ping"}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Okay"}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":", checking."}}

event: content_block_stop
data: {"type":"content_block_stop","index":0}

event: content_block_start
data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","name":"get_weather","input":{}}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"location\":"}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":" \"San"}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":" Francisc"}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"o, CA\"}"}}

event: content_block_stop
data: {"type":"content_block_stop","index":1}

event: content_block_start
data: {"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_02Now","name":"now","input":{}}}

event: content_block_stop
data: {"type":"content_block_stop","index":2}

event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":89}}

event: message_stop
data: {"type":"message_stop"}

)sse";

TEST(AnthropicStream, TextReplyAssemblesUnderEverySlicing) {
  std::string whole;
  ASSERT_TRUE(SameForEverySlicing(MakeAnthropic, kAnthropicTextReply, &whole));
  EXPECT_EQ(whole, R"(start msg_01TextReply
usage 30 1
text "Hello"
text ", world!\nBye."
finish stop
usage 30 15
result id=msg_01TextReply finish=stop text="Hello, world!\nBye." usage=30/15)");
}

TEST(AnthropicStream, ToolUseReplyAssemblesUnderEverySlicing) {
  std::string whole;
  ASSERT_TRUE(SameForEverySlicing(MakeAnthropic, kToolReply, &whole));
  EXPECT_EQ(whole, R"(start msg_014p7gG3wDgGV9EUtLvnow3U
usage 472 2
text "Okay"
text ", checking."
call_start 0 toolu_01T1x1fJ34qAmk2tNTrN7Up6 get_weather
call_args 0 "{\"location\":"
call_args 0 " \"San"
call_args 0 " Francisc"
call_args 0 "o, CA\"}"
call_start 1 toolu_02Now now
call_args 1 "{}"
finish tool_calls
usage 472 89
result id=msg_014p7gG3wDgGV9EUtLvnow3U finish=tool_calls text="Okay, checking." usage=472/89
  call toolu_01T1x1fJ34qAmk2tNTrN7Up6 get_weather "{\"location\": \"San Francisco, CA\"}"
  call toolu_02Now now "{}")");
}

TEST(AnthropicStream, ErrorEventIsAnErrorWithItsMessage) {
  constexpr std::string_view kBytes = R"sse(event: message_start
data: {"type":"message_start","message":{"id":"msg_1","usage":{"input_tokens":3,"output_tokens":1}}}

event: error
data: {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}

)sse";
  EXPECT_EQ(RunAnthropic(kBytes), R"(start msg_1
usage 3 1
error unavailable: anthropic error (overloaded_error): Overloaded)");
}

TEST(AnthropicStream, RateLimitErrorIsResourceExhausted) {
  constexpr std::string_view kBytes =
      "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\","
      "\"message\":\"Number of requests has exceeded your rate limit\"}}\n\n";
  EXPECT_EQ(RunAnthropic(kBytes),
            "error resource_exhausted: anthropic error (rate_limit_error): Number of requests has "
            "exceeded your rate limit");
}

TEST(AnthropicStream, MalformedJsonIsAnInternalError) {
  const std::string got = RunAnthropic(
      "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\n\n");
  EXPECT_EQ(got.rfind("error internal: anthropic: malformed JSON from provider", 0), 0u) << got;
}

TEST(AnthropicStream, DeltaForABlockNeverStartedIsAProtocolError) {
  EXPECT_EQ(RunAnthropic("data: {\"type\":\"content_block_delta\",\"index\":3,\"delta\":"
                         "{\"type\":\"text_delta\",\"text\":\"x\"}}\n\n"),
            "error internal: anthropic: delta for a block never started");
}

TEST(AnthropicStream, OverLongLineIsAnError) {
  SseParserOptions options;
  options.max_line_bytes = 100;
  EXPECT_EQ(RunAnthropic(kToolReply, options),
            "error resource_exhausted: sse line exceeds 100 bytes");
}

TEST(AnthropicStream, StreamCutBeforeMessageStopIsNotAResult) {
  const std::string_view cut =
      kAnthropicTextReply.substr(0, kAnthropicTextReply.find("event: message_stop"));
  const std::string got = RunAnthropic(cut);
  EXPECT_EQ(got.substr(got.rfind('\n') + 1),
            "error unavailable: anthropic: stream ended before message_stop");
}

TEST(AnthropicStream, ThinkingBlocksAndUnknownEventsAreSkipped) {
  constexpr std::string_view kBytes = R"sse(event: message_start
data: {"type":"message_start","message":{"id":"msg_t","usage":{"input_tokens":1,"output_tokens":0}}}

event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hmm"}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"abc"}}

event: content_block_stop
data: {"type":"content_block_stop","index":0}

event: something_new
data: {"type":"something_new","x":1}

event: content_block_start
data: {"type":"content_block_start","index":1,"content_block":{"type":"text","text":"Hi"}}

event: content_block_stop
data: {"type":"content_block_stop","index":1}

event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"max_tokens"},"usage":{"output_tokens":2}}

event: message_stop
data: {"type":"message_stop"}

)sse";
  EXPECT_EQ(RunAnthropic(kBytes), R"(start msg_t
usage 1 0
text "Hi"
finish length
usage 1 2
result id=msg_t finish=length text="Hi" usage=1/2)");
}

TEST(AnthropicStream, ToolUseWithInputAtStartKeepsThatInput) {
  constexpr std::string_view kBytes =
      "data: {\"type\":\"message_start\",\"message\":{\"id\":\"m\"}}\n\n"
      "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"tool_use\","
      "\"id\":\"t1\",\"name\":\"f\",\"input\":{\"a\":1}}}\n\n"
      "data: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
      "data: {\"type\":\"message_stop\"}\n\n";
  EXPECT_EQ(RunAnthropic(kBytes), R"(start m
call_start 0 t1 f
call_args 0 "{\"a\":1}"
result id=m finish= text=""
  call t1 f "{\"a\":1}")");
}

TEST(AnthropicFinishReason, MapsStopReasonsToOpenAiSpelling) {
  EXPECT_EQ(AnthropicFinishReason("end_turn"), "stop");
  EXPECT_EQ(AnthropicFinishReason("stop_sequence"), "stop");
  EXPECT_EQ(AnthropicFinishReason("tool_use"), "tool_calls");
  EXPECT_EQ(AnthropicFinishReason("max_tokens"), "length");
  EXPECT_EQ(AnthropicFinishReason("refusal"), "content_filter");
  EXPECT_EQ(AnthropicFinishReason("pause_turn"), "pause_turn");
}

}  // namespace
}  // namespace agentd::runtime::providers
