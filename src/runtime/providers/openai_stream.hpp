#pragma once
// OpenAI chat-completions codec (also what OpenAI-compatible servers and our mock speak):
// request body builder, streaming decoder (SSE `data:` chunks then `data: [DONE]`) and the
// non-streaming response parser. Pure JSON mapping, no I/O; the HTTP client lives elsewhere.
//
// Streaming shape handled: `choices[0].delta.content` text pieces; `delta.tool_calls[]` keyed
// by `index`, whose first piece carries `id` and `function.name` and later pieces
// `function.arguments` fragments (several calls may interleave); `finish_reason`; a usage
// chunk with `choices: []` (sent when stream_options.include_usage is set); a chunk holding an
// `error` object. Only choice 0 is read (we never ask for n > 1).

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "common/error.hpp"
#include "runtime/providers/chat_stream.hpp"
#include "runtime/providers/chat_types.hpp"

namespace agentd::runtime::providers {

// The JSON body of POST /v1/chat/completions. With `stream`, also asks for the usage chunk
// (stream_options.include_usage). `tool_choice` "auto"/"none"/"required" passes through; any
// other non-empty value names the one function to call. Max tokens are sent as `max_tokens`
// (what compatible servers accept); put `max_completion_tokens` in `extra` for models that
// want it. ToolSpecs with null parameters get an empty object schema.
boost::json::object BuildOpenAiRequest(std::span<const ChatMessage> messages,
                                       std::span<const ToolSpec> tools, std::string_view model,
                                       bool stream, const ChatOptions& options = {});

// Parses a non-streaming chat.completion body. Errors: kInternal when malformed or without
// choices; a provider error body ({"error": {...}}) maps as ChatStreamDecoder documents.
Result<ChatResult> ParseOpenAiResponse(std::string_view body);

class OpenAiStreamDecoder final : public ChatStreamDecoder {
 public:
  Status Decode(const SseEvent& event, std::vector<StreamDelta>& out) override;
  bool done() const override { return done_; }
  const ChatResult& partial() const override { return assembler_.result(); }
  Result<ChatResult> TakeResult() override;

 private:
  Status DecodeChunk(std::string_view data, std::vector<StreamDelta>& out);
  Status DecodeToolCalls(const boost::json::array& calls, std::vector<StreamDelta>& out);
  void Emit(StreamDelta delta, std::vector<StreamDelta>& out);

  ChatAssembler assembler_;
  // Provider tool-call `index` of each call, in order of appearance: position = our index.
  std::vector<std::int64_t> call_indexes_;
  bool done_ = false;
  std::optional<Error> failure_;
};

}  // namespace agentd::runtime::providers
