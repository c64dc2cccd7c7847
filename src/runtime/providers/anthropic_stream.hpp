#pragma once
// Anthropic Messages API codec: request body builder, streaming decoder and non-streaming
// response parser. Pure JSON mapping, no I/O.
//
// Streaming events handled (dispatched on the data's "type", the SSE `event:` repeats it):
// message_start (id, usage.input_tokens), content_block_start (text | tool_use with id, name),
// content_block_delta (text_delta | input_json_delta.partial_json), content_block_stop,
// message_delta (delta.stop_reason, usage.output_tokens), message_stop (end marker), ping,
// error. Thinking blocks and their deltas are skipped. Stop reasons map to OpenAI finish
// reasons (AnthropicFinishReason), so callers see one vocabulary.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "common/error.hpp"
#include "runtime/providers/chat_stream.hpp"
#include "runtime/providers/chat_types.hpp"

namespace agentd::runtime::providers {

// The API requires max_tokens; this is used when ChatOptions leaves it unset.
inline constexpr std::int64_t kDefaultAnthropicMaxTokens = 4096;

// end_turn, stop_sequence -> "stop"; tool_use -> "tool_calls"; max_tokens -> "length";
// refusal -> "content_filter"; anything else passes through.
std::string AnthropicFinishReason(std::string_view stop_reason);

// The JSON body of POST /v1/messages. System messages are joined (blank line between) into
// the top-level `system`; tool results become `tool_result` blocks of a user turn (consecutive
// tool results and a following user message share one turn); assistant tool calls become
// `tool_use` blocks with their arguments parsed into `input` (arguments that are not a JSON
// object are sent as {}: the API rejects anything else, and one bad historical call must not
// make the conversation unsendable). Empty text is left out (the API rejects empty text
// blocks). tool_choice: "auto" -> {type:auto}, "required" -> {type:any}, "none" ->
// {type:none}, a name -> {type:tool, name}.
boost::json::object BuildAnthropicRequest(std::span<const ChatMessage> messages,
                                          std::span<const ToolSpec> tools,
                                          std::string_view model, bool stream,
                                          const ChatOptions& options = {});

// Parses a non-streaming Messages API response ({"type":"message", content blocks...}).
// Errors: kInternal when malformed; an error body ({"type":"error"}) maps as
// ChatStreamDecoder documents.
Result<ChatResult> ParseAnthropicResponse(std::string_view body);

class AnthropicStreamDecoder final : public ChatStreamDecoder {
 public:
  Status Decode(const SseEvent& event, std::vector<StreamDelta>& out) override;
  bool done() const override { return done_; }
  const ChatResult& partial() const override { return assembler_.result(); }
  Result<ChatResult> TakeResult() override;

 private:
  enum class BlockKind { kText, kToolUse, kOther };
  struct Block {
    std::int64_t wire_index = 0;  // Anthropic's content block index
    BlockKind kind = BlockKind::kOther;
    std::size_t call_index = 0;  // our tool-call index, for kToolUse
    bool got_arguments = false;
    std::string initial_input;  // a non-empty `input` given at block start, as JSON
  };

  Status DecodeData(const SseEvent& event, std::vector<StreamDelta>& out);
  Status OnBlockStart(const boost::json::object& data, std::vector<StreamDelta>& out);
  Status OnBlockDelta(const boost::json::object& data, std::vector<StreamDelta>& out);
  Status OnBlockStop(const boost::json::object& data, std::vector<StreamDelta>& out);
  void OnMessageDelta(const boost::json::object& data, std::vector<StreamDelta>& out);
  Block* FindBlock(std::int64_t wire_index);
  void Emit(StreamDelta delta, std::vector<StreamDelta>& out);

  ChatAssembler assembler_;
  std::vector<Block> blocks_;
  std::size_t tool_calls_ = 0;
  Usage usage_;
  bool done_ = false;
  std::optional<Error> failure_;
};

}  // namespace agentd::runtime::providers
