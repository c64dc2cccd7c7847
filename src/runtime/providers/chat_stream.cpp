#include "runtime/providers/chat_stream.hpp"

#include <type_traits>
#include <utility>

namespace agentd::runtime::providers {

void ChatAssembler::SetId(std::string_view id) { result_.id.assign(id); }

void ChatAssembler::Apply(const StreamDelta& delta) {
  std::visit(
      [this](const auto& d) {
        using T = std::decay_t<decltype(d)>;
        if constexpr (std::is_same_v<T, MessageStart>) {
          result_.id = d.id;
        } else if constexpr (std::is_same_v<T, TextDelta>) {
          result_.text += d.text;
        } else if constexpr (std::is_same_v<T, ToolCallStart>) {
          if (result_.tool_calls.size() <= d.index) result_.tool_calls.resize(d.index + 1);
          result_.tool_calls[d.index].id = d.id;
          result_.tool_calls[d.index].name = d.name;
        } else if constexpr (std::is_same_v<T, ToolCallArgsDelta>) {
          if (result_.tool_calls.size() <= d.index) result_.tool_calls.resize(d.index + 1);
          result_.tool_calls[d.index].arguments_json += d.fragment;
        } else if constexpr (std::is_same_v<T, Usage>) {
          result_.usage = d;
        } else if constexpr (std::is_same_v<T, Finish>) {
          result_.finish_reason = d.reason;
        }
      },
      delta);
}

ChatResult ChatAssembler::Take() {
  for (auto& call : result_.tool_calls) {
    if (call.arguments_json.empty()) call.arguments_json = "{}";
  }
  return std::exchange(result_, ChatResult{});
}

ChatStream::ChatStream(std::unique_ptr<ChatStreamDecoder> decoder, SseParserOptions options)
    : parser_(options), decoder_(std::move(decoder)) {}

Status ChatStream::Feed(std::string_view bytes, std::vector<StreamDelta>& out) {
  if (failure_) return *failure_;
  events_.clear();
  Status parsed = parser_.Feed(bytes, events_);
  // Events completed before an SSE error are still decoded: they are whole and valid.
  for (const SseEvent& event : events_) {
    if (Status s = decoder_->Decode(event, out); !s) {
      failure_ = s.error();
      return s;
    }
  }
  if (!parsed) failure_ = parsed.error();
  return parsed;
}

}  // namespace agentd::runtime::providers
