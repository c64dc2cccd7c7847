#include "runtime/providers/anthropic_stream.hpp"

#include <utility>

#include "common/json.hpp"
#include "runtime/providers/detail/json_fields.hpp"

namespace agentd::runtime::providers {
namespace {

namespace json = boost::json;
using detail::IntAt;
using detail::ObjectAt;
using detail::StringAt;

constexpr std::string_view kProvider = "anthropic";

// A tool_use block's `input` at start is {} when streamed (the arguments follow as
// input_json_delta); a non-empty one is the whole input.
std::string InitialInput(const json::object& block) {
  const json::object* input = ObjectAt(block, "input");
  if (!input || input->empty()) return {};
  return ToJson(*input);
}

// Prompt tokens in OpenAI's sense include the cached ones, which Anthropic counts apart.
std::optional<std::int64_t> PromptTokens(const json::object& usage) {
  auto input = IntAt(usage, "input_tokens");
  if (!input) return std::nullopt;
  return *input + IntAt(usage, "cache_creation_input_tokens").value_or(0) +
         IntAt(usage, "cache_read_input_tokens").value_or(0);
}

}  // namespace

std::string AnthropicFinishReason(std::string_view stop_reason) {
  if (stop_reason == "end_turn" || stop_reason == "stop_sequence") return "stop";
  if (stop_reason == "tool_use") return "tool_calls";
  if (stop_reason == "max_tokens") return "length";
  if (stop_reason == "refusal") return "content_filter";
  return std::string(stop_reason);
}

void AnthropicStreamDecoder::Emit(StreamDelta delta, std::vector<StreamDelta>& out) {
  assembler_.Apply(delta);
  out.push_back(std::move(delta));
}

AnthropicStreamDecoder::Block* AnthropicStreamDecoder::FindBlock(std::int64_t wire_index) {
  for (Block& b : blocks_) {
    if (b.wire_index == wire_index) return &b;
  }
  return nullptr;
}

Status AnthropicStreamDecoder::Decode(const SseEvent& event, std::vector<StreamDelta>& out) {
  if (failure_) return *failure_;
  if (done_) return {};
  Status status = DecodeData(event, out);
  if (!status) failure_ = status.error();
  return status;
}

Status AnthropicStreamDecoder::DecodeData(const SseEvent& event, std::vector<StreamDelta>& out) {
  if (event.data.empty()) return {};
  auto parsed = detail::ParseObject(event.data, kProvider);
  if (!parsed) return parsed.error();
  const json::object& data = *parsed;
  std::string_view type = StringAt(data, "type");
  if (type.empty()) type = event.event;

  if (type == "message_start") {
    const json::object* message = ObjectAt(data, "message");
    if (!message) return MakeError(Errc::kInternal, "anthropic: message_start without message");
    if (std::string_view id = StringAt(*message, "id"); !id.empty()) {
      Emit(MessageStart{std::string(id)}, out);
    }
    assembler_.SetModel(StringAt(*message, "model"));
    if (const json::object* u = ObjectAt(*message, "usage")) {
      usage_.prompt_tokens = PromptTokens(*u).value_or(0);
      usage_.completion_tokens = IntAt(*u, "output_tokens").value_or(0);
      Emit(usage_, out);
    }
    return {};
  }
  if (type == "content_block_start") return OnBlockStart(data, out);
  if (type == "content_block_delta") return OnBlockDelta(data, out);
  if (type == "content_block_stop") return OnBlockStop(data, out);
  if (type == "message_delta") {
    OnMessageDelta(data, out);
    return {};
  }
  if (type == "message_stop") {
    done_ = true;
    return {};
  }
  if (type == "error") {
    const json::value* error = data.if_contains("error");
    return detail::ProviderError(kProvider, error ? *error : json::value(data));
  }
  // ping, and event types added after this was written: the API promises to add new ones.
  return {};
}

Status AnthropicStreamDecoder::OnBlockStart(const json::object& data,
                                            std::vector<StreamDelta>& out) {
  const auto wire_index = IntAt(data, "index");
  const json::object* block = ObjectAt(data, "content_block");
  if (!wire_index || !block) {
    return MakeError(Errc::kInternal, "anthropic: content_block_start without index or block");
  }
  if (FindBlock(*wire_index)) {
    return MakeError(Errc::kInternal, "anthropic: content block started twice");
  }
  Block& b = blocks_.emplace_back();
  b.wire_index = *wire_index;
  const std::string_view kind = StringAt(*block, "type");
  if (kind == "text") {
    b.kind = BlockKind::kText;
    if (std::string_view text = StringAt(*block, "text"); !text.empty()) {
      Emit(TextDelta{std::string(text)}, out);
    }
  } else if (kind == "tool_use") {
    b.kind = BlockKind::kToolUse;
    b.call_index = tool_calls_++;
    b.initial_input = InitialInput(*block);
    Emit(ToolCallStart{b.call_index, std::string(StringAt(*block, "id")),
                       std::string(StringAt(*block, "name"))},
         out);
  }
  return {};
}

Status AnthropicStreamDecoder::OnBlockDelta(const json::object& data,
                                            std::vector<StreamDelta>& out) {
  const auto wire_index = IntAt(data, "index");
  const json::object* delta = ObjectAt(data, "delta");
  if (!wire_index || !delta) {
    return MakeError(Errc::kInternal, "anthropic: content_block_delta without index or delta");
  }
  Block* b = FindBlock(*wire_index);
  if (!b) return MakeError(Errc::kInternal, "anthropic: delta for a block never started");
  const std::string_view kind = StringAt(*delta, "type");
  if (kind == "text_delta" && b->kind == BlockKind::kText) {
    if (std::string_view text = StringAt(*delta, "text"); !text.empty()) {
      Emit(TextDelta{std::string(text)}, out);
    }
  } else if (kind == "input_json_delta" && b->kind == BlockKind::kToolUse) {
    if (std::string_view json = StringAt(*delta, "partial_json"); !json.empty()) {
      b->got_arguments = true;
      Emit(ToolCallArgsDelta{b->call_index, std::string(json)}, out);
    }
  }
  return {};
}

Status AnthropicStreamDecoder::OnBlockStop(const json::object& data,
                                           std::vector<StreamDelta>& out) {
  const auto wire_index = IntAt(data, "index");
  if (!wire_index) return MakeError(Errc::kInternal, "anthropic: content_block_stop without index");
  Block* b = FindBlock(*wire_index);
  if (!b) return MakeError(Errc::kInternal, "anthropic: stop for a block never started");
  // A call streamed without input_json_delta still needs its arguments: the start's input,
  // or {} for a tool that takes none.
  if (b->kind == BlockKind::kToolUse && !b->got_arguments) {
    b->got_arguments = true;
    Emit(ToolCallArgsDelta{b->call_index, b->initial_input.empty() ? "{}" : b->initial_input},
         out);
  }
  return {};
}

void AnthropicStreamDecoder::OnMessageDelta(const json::object& data,
                                            std::vector<StreamDelta>& out) {
  if (const json::object* delta = ObjectAt(data, "delta")) {
    if (std::string_view reason = StringAt(*delta, "stop_reason"); !reason.empty()) {
      Emit(Finish{AnthropicFinishReason(reason)}, out);
    }
  }
  if (const json::object* u = ObjectAt(data, "usage")) {
    // output_tokens here is the running total; input_tokens appears only on some models.
    if (auto input = PromptTokens(*u)) usage_.prompt_tokens = *input;
    if (auto output = IntAt(*u, "output_tokens")) usage_.completion_tokens = *output;
    Emit(usage_, out);
  }
}

Result<ChatResult> AnthropicStreamDecoder::TakeResult() {
  if (failure_) return *failure_;
  if (!done_) return MakeError(Errc::kUnavailable, "anthropic: stream ended before message_stop");
  return assembler_.Take();
}

Result<ChatResult> ParseAnthropicResponse(std::string_view body) {
  auto parsed = detail::ParseObject(body, kProvider);
  if (!parsed) return parsed.error();
  const json::object& root = *parsed;
  if (StringAt(root, "type") == "error") {
    const json::value* error = root.if_contains("error");
    return detail::ProviderError(kProvider, error ? *error : json::value(root));
  }
  const json::array* content = detail::ArrayAt(root, "content");
  if (!content) return MakeError(Errc::kInternal, "anthropic: response has no content");

  ChatResult result;
  result.id = StringAt(root, "id");
  result.model = StringAt(root, "model");
  result.finish_reason = AnthropicFinishReason(StringAt(root, "stop_reason"));
  if (const json::object* u = ObjectAt(root, "usage")) {
    result.usage = Usage{PromptTokens(*u).value_or(0), IntAt(*u, "output_tokens").value_or(0)};
  }
  for (const json::value& v : *content) {
    const json::object* block = v.if_object();
    if (!block) return MakeError(Errc::kInternal, "anthropic: a content block is not an object");
    const std::string_view kind = StringAt(*block, "type");
    if (kind == "text") {
      result.text += StringAt(*block, "text");
    } else if (kind == "tool_use") {
      const json::object* input = ObjectAt(*block, "input");
      result.tool_calls.push_back(ToolCall{std::string(StringAt(*block, "id")),
                                           std::string(StringAt(*block, "name")),
                                           input ? ToJson(*input) : std::string("{}")});
    }
  }
  return result;
}

}  // namespace agentd::runtime::providers
