#include "runtime/providers/openai_stream.hpp"

#include <algorithm>
#include <utility>

#include "runtime/providers/detail/json_fields.hpp"

namespace agentd::runtime::providers {
namespace {

namespace json = boost::json;
using detail::ArrayAt;
using detail::IntAt;
using detail::ObjectAt;
using detail::StringAt;

constexpr std::string_view kProvider = "openai";
constexpr std::string_view kDoneMarker = "[DONE]";

std::optional<Usage> UsageOf(const json::object& o) {
  const json::object* u = ObjectAt(o, "usage");
  if (!u) return std::nullopt;
  return Usage{IntAt(*u, "prompt_tokens").value_or(0), IntAt(*u, "completion_tokens").value_or(0)};
}

}  // namespace

void OpenAiStreamDecoder::Emit(StreamDelta delta, std::vector<StreamDelta>& out) {
  assembler_.Apply(delta);
  out.push_back(std::move(delta));
}

Status OpenAiStreamDecoder::Decode(const SseEvent& event, std::vector<StreamDelta>& out) {
  if (failure_) return *failure_;
  if (done_) return {};
  if (event.data == kDoneMarker) {
    done_ = true;
    return {};
  }
  if (event.data.empty()) return {};
  Status status = DecodeChunk(event.data, out);
  if (!status) failure_ = status.error();
  return status;
}

Status OpenAiStreamDecoder::DecodeChunk(std::string_view data, std::vector<StreamDelta>& out) {
  auto parsed = detail::ParseObject(data, kProvider);
  if (!parsed) return parsed.error();
  const json::object& chunk = *parsed;

  if (const json::value* error = chunk.if_contains("error"); error && !error->is_null()) {
    return detail::ProviderError(kProvider, *error);
  }
  if (assembler_.result().id.empty()) {
    if (std::string_view id = StringAt(chunk, "id"); !id.empty()) {
      Emit(MessageStart{std::string(id)}, out);
    }
  }
  if (assembler_.result().model.empty()) assembler_.SetModel(StringAt(chunk, "model"));

  if (const json::array* choices = ArrayAt(chunk, "choices")) {
    for (const json::value& c : *choices) {
      const json::object* choice = c.if_object();
      if (!choice) return MakeError(Errc::kInternal, "openai: a choice is not an object");
      if (IntAt(*choice, "index").value_or(0) != 0) continue;
      if (const json::object* delta = ObjectAt(*choice, "delta")) {
        if (std::string_view text = StringAt(*delta, "content"); !text.empty()) {
          Emit(TextDelta{std::string(text)}, out);
        }
        if (const json::array* calls = ArrayAt(*delta, "tool_calls")) {
          if (Status s = DecodeToolCalls(*calls, out); !s) return s;
        }
      }
      if (std::string_view reason = StringAt(*choice, "finish_reason"); !reason.empty()) {
        Emit(Finish{std::string(reason)}, out);
      }
    }
  }
  if (auto usage = UsageOf(chunk)) Emit(*usage, out);
  return {};
}

Status OpenAiStreamDecoder::DecodeToolCalls(const json::array& calls,
                                            std::vector<StreamDelta>& out) {
  for (const json::value& v : calls) {
    const json::object* call = v.if_object();
    if (!call) return MakeError(Errc::kInternal, "openai: a tool call delta is not an object");
    // Some compatible servers omit `index` when they send one call per chunk: default to 0.
    const std::int64_t provider_index = IntAt(*call, "index").value_or(0);
    const json::object* function = ObjectAt(*call, "function");
    const std::string_view id = StringAt(*call, "id");
    const std::string_view name = function ? StringAt(*function, "name") : std::string_view{};

    auto it = std::find(call_indexes_.begin(), call_indexes_.end(), provider_index);
    const auto index = static_cast<std::size_t>(it - call_indexes_.begin());
    if (it == call_indexes_.end()) {
      call_indexes_.push_back(provider_index);
      Emit(ToolCallStart{index, std::string(id), std::string(name)}, out);
    }
    // Some compatible servers repeat `id`/`name` on every piece of a call: only the first counts.
    if (function) {
      if (std::string_view args = StringAt(*function, "arguments"); !args.empty()) {
        Emit(ToolCallArgsDelta{index, std::string(args)}, out);
      }
    }
  }
  return {};
}

Result<ChatResult> OpenAiStreamDecoder::TakeResult() {
  if (failure_) return *failure_;
  if (!done_) return MakeError(Errc::kUnavailable, "openai: stream ended before [DONE]");
  return assembler_.Take();
}

Result<ChatResult> ParseOpenAiResponse(std::string_view body) {
  auto parsed = detail::ParseObject(body, kProvider);
  if (!parsed) return parsed.error();
  const json::object& root = *parsed;
  if (const json::value* error = root.if_contains("error"); error && !error->is_null()) {
    return detail::ProviderError(kProvider, *error);
  }
  const json::array* choices = ArrayAt(root, "choices");
  if (!choices || choices->empty() || !(*choices)[0].is_object()) {
    return MakeError(Errc::kInternal, "openai: response has no choices");
  }
  const json::object& choice = (*choices)[0].get_object();

  ChatResult result;
  result.id = StringAt(root, "id");
  result.model = StringAt(root, "model");
  result.finish_reason = StringAt(choice, "finish_reason");
  result.usage = UsageOf(root);
  if (const json::object* message = ObjectAt(choice, "message")) {
    result.text = StringAt(*message, "content");
    if (const json::array* calls = ArrayAt(*message, "tool_calls")) {
      for (const json::value& v : *calls) {
        const json::object* call = v.if_object();
        if (!call) return MakeError(Errc::kInternal, "openai: a tool call is not an object");
        const json::object* function = ObjectAt(*call, "function");
        ToolCall& out = result.tool_calls.emplace_back();
        out.id = StringAt(*call, "id");
        if (function) {
          out.name = StringAt(*function, "name");
          out.arguments_json = StringAt(*function, "arguments");
        }
        if (out.arguments_json.empty()) out.arguments_json = "{}";
      }
    }
  }
  return result;
}

}  // namespace agentd::runtime::providers
