#include "mock/mock_model.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <utility>

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/string.hpp>
#include <openssl/evp.h>

#include "mock/js_json.hpp"
#include "mock/structured_reply.hpp"

namespace agentd::mock {
namespace {

namespace json = boost::json;

constexpr std::int64_t kCreated = 1700000000;  // fixed: output must not depend on the clock
constexpr std::string_view kToolArguments = R"({"city":"paris"})";

std::string Sha256Hex24(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < 12 && i < length; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xF]);
  }
  return out;
}

const json::value* Member(const json::value* v, std::string_view key) {
  if (v == nullptr || !v->is_object()) return nullptr;
  return v->get_object().if_contains(key);
}

bool IsString(const json::value* v, std::string_view s) {
  return v != nullptr && v->is_string() && v->get_string() == s;
}

std::string LastUserText(const json::value& messages) {
  if (!messages.is_array()) return "";
  const auto& arr = messages.get_array();
  for (auto it = arr.rbegin(); it != arr.rend(); ++it) {
    const json::value* role = Member(&*it, "role");
    if (IsString(role, "user") || IsString(role, "human")) {
      const json::value* content = Member(&*it, "content");
      return content ? ContentToText(*content) : "";
    }
  }
  return "";
}

// /\bdelay=(\d+)\b/i: the first match's digits, if any.
// The text of every system message, joined with " | " (the `system?` probe's reply).
std::string SystemText(const json::array& messages) {
  std::string out;
  bool first = true;
  for (const auto& m : messages) {
    if (!IsString(Member(&m, "role"), "system")) continue;
    if (!first) out += " | ";
    first = false;
    const json::value* content = Member(&m, "content");
    out += content ? ContentToText(*content) : std::string();
  }
  return out;
}

// ASCII case-insensitive substring test.
bool ContainsNoCase(std::string_view text, std::string_view needle) {
  auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
  if (needle.size() > text.size()) return false;
  for (std::size_t i = 0; i + needle.size() <= text.size(); ++i) {
    bool equal = true;
    for (std::size_t j = 0; j < needle.size() && equal; ++j) equal = lower(text[i + j]) == lower(needle[j]);
    if (equal) return true;
  }
  return false;
}

std::optional<std::int64_t> FindDelay(std::string_view text) {
  auto is_word = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  };
  auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  constexpr std::string_view kKey = "delay=";
  for (std::size_t i = 0; i + kKey.size() < text.size(); ++i) {
    if (i > 0 && is_word(text[i - 1])) continue;
    bool match = true;
    for (std::size_t j = 0; j < kKey.size() && match; ++j) {
      char c = text[i + j];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      match = c == kKey[j];
    }
    if (!match) continue;
    std::size_t end = i + kKey.size();
    while (end < text.size() && is_digit(text[end])) ++end;
    if (end == i + kKey.size()) continue;
    if (end < text.size() && is_word(text[end])) continue;
    // setTimeout cannot wait longer than 2^31-1 ms; saturate rather than overflow.
    std::int64_t ms = 0;
    for (std::size_t k = i + kKey.size(); k < end; ++k) {
      ms = std::min<std::int64_t>(ms * 10 + (text[k] - '0'), std::numeric_limits<std::int32_t>::max());
    }
    return ms;
  }
  return std::nullopt;
}

json::value ModelOf(const json::object& request) {
  const json::value* model = request.if_contains("model");
  return Truthy(model) ? *model : json::value("mock");
}

json::object UsageJson(const Usage& usage) {
  json::object u;
  u["prompt_tokens"] = usage.prompt_tokens;
  u["completion_tokens"] = usage.completion_tokens;
  u["total_tokens"] = usage.total_tokens;
  return u;
}

json::object ChunkHead(const json::object& request, const MockReply& reply) {
  json::object c;
  c["id"] = reply.completion_id;
  c["object"] = "chat.completion.chunk";
  c["created"] = kCreated;
  c["model"] = ModelOf(request);
  c["system_fingerprint"] = "mock";
  return c;
}

std::string Frame(const json::value& v) { return "data: " + JsStringify(v) + "\n\n"; }

}  // namespace

bool Truthy(const json::value* v) {
  if (v == nullptr) return false;
  switch (v->kind()) {
    case json::kind::null: return false;
    case json::kind::bool_: return v->get_bool();
    case json::kind::int64: return v->get_int64() != 0;
    case json::kind::uint64: return v->get_uint64() != 0;
    case json::kind::double_: return v->get_double() != 0 && v->get_double() == v->get_double();
    case json::kind::string: return !v->get_string().empty();
    default: return true;
  }
}

std::string ContentToText(const json::value& content) {
  if (content.is_null()) return "";
  if (content.is_string()) return std::string(content.get_string());
  if (content.is_array()) {
    std::string out;
    for (const auto& part : content.get_array()) {
      if (part.is_string()) {
        out += part.get_string();
      } else if (const json::value* text = Member(&part, "text"); text && text->is_string()) {
        out += text->get_string();
      }
    }
    return out;
  }
  if (const json::value* text = Member(&content, "text"); text && text->is_string()) {
    return std::string(text->get_string());
  }
  return JsToString(content);
}

std::chrono::milliseconds LatencyFor(const json::value& messages, const MockOptions& options) {
  const std::string text = LastUserText(messages);
  std::chrono::milliseconds extra{0};
  if (auto delay = FindDelay(text)) {
    extra = std::chrono::milliseconds(*delay);
  } else if (ContainsWholeWord(text, "slow")) {
    extra = options.slow_latency;
  }
  return options.base_latency + extra;
}

std::chrono::microseconds MockReply::PieceDelay() const {
  if (pieces.empty()) return std::chrono::microseconds(0);
  const auto total = std::chrono::duration_cast<std::chrono::microseconds>(latency);
  return total / static_cast<std::int64_t>(pieces.size());
}

MockReply ComputeReply(const json::object& request, const MockOptions& options) {
  static const json::value kNoMessages = json::array();
  const json::value* raw_messages = request.if_contains("messages");
  const json::value& messages =
      raw_messages && raw_messages->is_array() ? *raw_messages : kNoMessages;
  const auto& list = messages.get_array();
  const json::value* tools = request.if_contains("tools");
  const bool offers_tools = tools && tools->is_array() && !tools->get_array().empty();

  MockReply reply;
  reply.hash = Sha256Hex24(JsStringify(messages));
  reply.completion_id = "chatcmpl-" + reply.hash;
  const json::value* last = list.empty() ? nullptr : &list.back();
  const std::string user_text = LastUserText(messages);
  if (IsString(Member(last, "role"), "tool")) {
    const json::value* content = Member(last, "content");
    reply.text = "echo: " + (content ? ContentToText(*content) : std::string());
  } else if (auto structured = FindStructuredRequest(request)) {
    // Structured output (mock-llm.md): OpenAI gets the JSON as the content, an Anthropic-style
    // forced tool gets it as that call's input.
    const std::string value = JsStringify(BuildFromSchema(structured->schema, user_text));
    if (structured->forced_tool.empty()) {
      reply.text = value;
    } else {
      reply.kind = ReplyKind::kToolCall;
      reply.tool_name = structured->forced_tool;
      reply.tool_arguments = value;
      reply.call_id = "call_" + reply.hash;
    }
  } else if (ContainsNoCase(user_text, "system?")) {
    reply.text = "system: " + SystemText(list);
  } else if (offers_tools && ContainsWholeWord(user_text, "weather")) {
    const json::value* first = &tools->get_array().front();
    const json::value* name = Member(Member(first, "function"), "name");
    if (!Truthy(name)) name = Member(first, "name");
    reply.kind = ReplyKind::kToolCall;
    reply.tool_name = Truthy(name) ? JsToString(*name) : "tool";
    reply.tool_arguments = std::string(kToolArguments);
    reply.call_id = "call_" + reply.hash;
  } else {
    reply.text = "echo: " + user_text;
  }

  const std::string& streamed = reply.kind == ReplyKind::kToolCall ? reply.tool_arguments : reply.text;
  reply.pieces = SplitUtf16(streamed, options.chunks, /*keep_pairs=*/true);
  reply.wire_pieces = SplitUtf16(streamed, options.chunks, /*keep_pairs=*/false);
  reply.latency = LatencyFor(raw_messages ? *raw_messages : kNoMessages, options);

  // The reference measures `body.messages || []`, which differs from the hashed list only for
  // a truthy non-array "messages"; keep that quirk so usage matches too.
  const std::string measured = JsStringify(Truthy(raw_messages) ? *raw_messages : kNoMessages);
  reply.usage.prompt_tokens = static_cast<std::int64_t>((Utf16Length(measured) + 3) / 4);
  reply.usage.completion_tokens = static_cast<std::int64_t>(reply.pieces.size());
  reply.usage.total_tokens = reply.usage.prompt_tokens + reply.usage.completion_tokens;
  return reply;
}

std::string RenderCompletion(const json::object& request, const MockReply& reply) {
  json::object message;
  message["role"] = "assistant";
  if (reply.kind == ReplyKind::kToolCall) {
    message["content"] = nullptr;
    json::object function;
    function["name"] = reply.tool_name;
    function["arguments"] = reply.tool_arguments;
    json::object call;
    call["id"] = reply.call_id;
    call["type"] = "function";
    call["function"] = std::move(function);
    message["tool_calls"] = json::array{std::move(call)};
  } else {
    message["content"] = reply.text;
  }
  json::object choice;
  choice["index"] = 0;
  choice["message"] = std::move(message);
  choice["logprobs"] = nullptr;
  choice["finish_reason"] = reply.finish_reason();

  json::object body;
  body["id"] = reply.completion_id;
  body["object"] = "chat.completion";
  body["created"] = kCreated;
  body["model"] = ModelOf(request);
  body["choices"] = json::array{std::move(choice)};
  body["usage"] = UsageJson(reply.usage);
  body["system_fingerprint"] = "mock";
  return JsStringify(body);
}

std::vector<SseFrame> RenderStream(const json::object& request, const MockReply& reply) {
  const json::object head = ChunkHead(request, reply);
  auto chunk = [&](json::object delta, std::string_view finish) {
    json::object choice;
    choice["index"] = 0;
    choice["delta"] = std::move(delta);
    choice["logprobs"] = nullptr;
    if (finish.empty()) {
      choice["finish_reason"] = nullptr;
    } else {
      choice["finish_reason"] = finish;
    }
    json::object c = head;
    c["choices"] = json::array{std::move(choice)};
    return Frame(c);
  };

  std::vector<SseFrame> frames;
  frames.reserve(reply.wire_pieces.size() + 4);
  json::object first;
  first["role"] = "assistant";
  if (reply.kind == ReplyKind::kToolCall) {
    first["content"] = nullptr;
    json::object function;
    function["name"] = reply.tool_name;
    function["arguments"] = "";
    json::object call;
    call["index"] = 0;
    call["id"] = reply.call_id;
    call["type"] = "function";
    call["function"] = std::move(function);
    first["tool_calls"] = json::array{std::move(call)};
  } else {
    first["content"] = "";
  }
  frames.push_back({std::chrono::microseconds(0), chunk(std::move(first), "")});

  const auto delay = reply.PieceDelay();
  for (const auto& piece : reply.wire_pieces) {
    json::object delta;
    if (reply.kind == ReplyKind::kToolCall) {
      json::object function;
      function["arguments"] = piece;
      json::object call;
      call["index"] = 0;
      call["function"] = std::move(function);
      delta["tool_calls"] = json::array{std::move(call)};
    } else {
      delta["content"] = piece;
    }
    frames.push_back({delay, chunk(std::move(delta), "")});
  }
  frames.push_back({std::chrono::microseconds(0), chunk(json::object(), reply.finish_reason())});

  if (Truthy(Member(request.if_contains("stream_options"), "include_usage"))) {
    json::object usage = head;
    usage["choices"] = json::array();
    usage["usage"] = UsageJson(reply.usage);
    frames.push_back({std::chrono::microseconds(0), Frame(usage)});
  }
  frames.push_back({std::chrono::microseconds(0), "data: [DONE]\n\n"});
  return frames;
}

std::string RenderModels() {
  return R"({"object":"list","data":[{"id":"mock","object":"model","created":1700000000,"owned_by":"mock-llm"}]})";
}

std::string GetWeather(std::string_view city) { return "sunny in " + std::string(city); }

std::optional<std::string> GetWeatherFromBody(std::string_view body) {
  if (body.empty()) body = "{}";
  boost::system::error_code ec;
  json::value args = json::parse(body, ec);
  if (ec) return std::nullopt;
  const json::value* city = Member(&args, "city");
  return GetWeather(city && city->is_string() ? std::string_view(city->get_string()) : "");
}

json::object GetWeatherSchema() {
  json::object city;
  city["type"] = "string";
  city["description"] = "City name";
  json::object properties;
  properties["city"] = std::move(city);
  json::object schema;
  schema["type"] = "object";
  schema["properties"] = std::move(properties);
  schema["required"] = json::array{"city"};
  return schema;
}

}  // namespace agentd::mock
