#pragma once
// A recorded Anthropic Messages text reply (shapes from Anthropic's streaming docs), shared by
// the codec tests (every slicing) and the provider tests (served over HTTP).

#include <string_view>

namespace agentd::runtime::providers::testing {

inline constexpr std::string_view kAnthropicTextReply = R"sse(event: message_start
data: {"type":"message_start","message":{"id":"msg_01TextReply","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"cache_read_input_tokens":5,"output_tokens":1}}}

event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

event: ping
data: {"type": "ping"}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":", world!\nBye."}}

event: content_block_stop
data: {"type":"content_block_stop","index":0}

event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":15}}

event: message_stop
data: {"type":"message_stop"}

)sse";

}  // namespace agentd::runtime::providers::testing
