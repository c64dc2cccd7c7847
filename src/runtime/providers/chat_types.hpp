#pragma once
// Provider-neutral chat types: what the run engine hands a model provider (messages, tools),
// what a streaming provider emits while a reply arrives (StreamDelta), and the assembled reply
// (ChatResult). Plain values; the provider codecs (openai_stream.hpp, anthropic_stream.hpp)
// translate between these and each wire format.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

namespace agentd::runtime::providers {

enum class ChatRole { kSystem, kUser, kAssistant, kTool };

// "system", "user", "assistant", "tool" (the OpenAI spelling).
constexpr std::string_view ChatRoleName(ChatRole role) {
  switch (role) {
    case ChatRole::kSystem: return "system";
    case ChatRole::kUser: return "user";
    case ChatRole::kAssistant: return "assistant";
    case ChatRole::kTool: return "tool";
  }
  return "user";
}

struct ToolCall {
  std::string id;
  std::string name;
  std::string arguments_json;  // the arguments object as JSON text, as the model wrote it

  friend bool operator==(const ToolCall&, const ToolCall&) = default;
};

struct ChatMessage {
  ChatRole role = ChatRole::kUser;
  std::string content;               // text; empty for an assistant turn that only calls tools
  std::vector<ToolCall> tool_calls;  // assistant only
  std::string tool_call_id;          // tool only: the call this message answers

  friend bool operator==(const ChatMessage&, const ChatMessage&) = default;
};

// A tool offered to the model.
struct ToolSpec {
  std::string name;
  std::string description;
  boost::json::value parameters;  // JSON Schema of the arguments object; null = no arguments
};

// Knobs shared by the request builders. Unset fields are left out of the request.
struct ChatOptions {
  std::optional<std::int64_t> max_tokens;  // Anthropic requires it: kDefaultAnthropicMaxTokens
  std::optional<double> temperature;
  std::optional<double> top_p;
  std::vector<std::string> stop;
  // "" (provider default), "auto", "none", "required", or the name of the one tool to call.
  std::string tool_choice;
  // Provider-specific fields merged into the body last (they override the above).
  boost::json::object extra;
};

// ---- streaming -----------------------------------------------------------------------------

// The provider's id of the reply (OpenAI `chatcmpl-…`, Anthropic `msg_…`), emitted once,
// before any other delta, as soon as the stream reveals it: every chunk of the reply is
// labelled with it (agent-protocol.md 7.3). Carries no content: a provider may still retry
// after only this reached the sink, and the retry's MessageStart then replaces it.
struct MessageStart {
  std::string id;
  friend bool operator==(const MessageStart&, const MessageStart&) = default;
};

struct TextDelta {
  std::string text;
  friend bool operator==(const TextDelta&, const TextDelta&) = default;
};

// A new tool call. `index` is the call's 0-based position among the reply's tool calls
// (providers number them differently; the codecs normalise).
struct ToolCallStart {
  std::size_t index = 0;
  std::string id;
  std::string name;
  friend bool operator==(const ToolCallStart&, const ToolCallStart&) = default;
};

// The next piece of the arguments JSON of tool call `index`; pieces concatenate.
struct ToolCallArgsDelta {
  std::size_t index = 0;
  std::string fragment;
  friend bool operator==(const ToolCallArgsDelta&, const ToolCallArgsDelta&) = default;
};

// Token counts so far. Cumulative: each Usage replaces the previous one.
struct Usage {
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  friend bool operator==(const Usage&, const Usage&) = default;
};

// Why the model stopped, OpenAI spelling: "stop", "tool_calls", "length", "content_filter";
// unknown provider reasons pass through unchanged.
struct Finish {
  std::string reason;
  friend bool operator==(const Finish&, const Finish&) = default;
};

using StreamDelta =
    std::variant<MessageStart, TextDelta, ToolCallStart, ToolCallArgsDelta, Usage, Finish>;

// The whole reply, assembled from the deltas (or parsed from a non-streaming response).
struct ChatResult {
  std::string id;  // the provider's completion/message id
  std::string model;  // the model that answered, as the reply names it ("" when it does not)
  std::string text;
  std::vector<ToolCall> tool_calls;
  std::string finish_reason;
  std::optional<Usage> usage;  // absent when the provider reported none

  friend bool operator==(const ChatResult&, const ChatResult&) = default;
};

}  // namespace agentd::runtime::providers
