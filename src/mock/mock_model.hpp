#pragma once
// The deterministic mock model (shared/docs/mock-llm.md) as pure functions: no I/O, no clock,
// no randomness. Given an OpenAI-style chat-completions request it computes the reply (text or
// one tool call), its pieces, the latency, usage and ids, and renders the OpenAI wire format.
// The in-process `mock` provider (runtime/) and `agentd mock-llm` (mock/mock_routes.hpp) both
// use it, so they answer exactly alike, and like the reference shared/peer/mock-llm.mjs
// (tests/unit/mock/testdata/reference.json was recorded from it).
//
// Thread safety: everything here is a pure function of its arguments.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

namespace agentd::mock {

struct MockOptions {
  std::size_t chunks = 8;                          // pieces per reply (fewer if shorter)
  std::chrono::milliseconds base_latency{0};       // every completion
  std::chrono::milliseconds slow_latency{2'000};   // added when the last user message says "slow"
};

enum class ReplyKind { kText, kToolCall };

struct Usage {
  std::int64_t prompt_tokens = 0;      // ceil(JSON.stringify(messages).length / 4)
  std::int64_t completion_tokens = 0;  // number of pieces
  std::int64_t total_tokens = 0;
};

struct MockReply {
  ReplyKind kind = ReplyKind::kText;
  std::string text;            // kText: the whole reply
  std::string tool_name;       // kToolCall: the first offered tool (or the forced one)
  std::string tool_arguments;  // kToolCall: {"city":"paris"} (or the structured value)
  std::string hash;            // first 24 hex of sha256(JSON.stringify(messages))
  std::string completion_id;   // chatcmpl-<hash>
  std::string call_id;         // call_<hash>
  // What is streamed (the text, or the tool arguments), split as the reference splits it.
  // Always valid UTF-8: a split inside a surrogate pair moves the pair to the earlier piece.
  std::vector<std::string> pieces;
  // The same split with JavaScript's exact halves (WTF-8), for byte-exact wire rendering.
  std::vector<std::string> wire_pieces;
  std::chrono::milliseconds latency{0};  // total for this completion
  Usage usage;

  std::string_view finish_reason() const { return kind == ReplyKind::kToolCall ? "tool_calls" : "stop"; }
  // The wait before each piece (latency spread evenly); a non-streamed reply waits `latency`.
  std::chrono::microseconds PieceDelay() const;
};

// Applies the reply rules of mock-llm.md to `request` (its "messages", "tools",
// "response_format" and "tool_choice"), in order: a trailing tool result is echoed; structured
// output (structured_reply.hpp) answers JSON built from the schema; `system?` in the last user
// message answers "system: " + the system messages joined with " | "; "weather" with tools
// offered calls the first tool; else the last user message is echoed.
MockReply ComputeReply(const boost::json::object& request, const MockOptions& options);

// The reference's contentToText: strings as is, text parts joined, {"text": ..} objects.
std::string ContentToText(const boost::json::value& content);

// The latency rule: base + delay=<ms> (whole word, from the last user/human message) or, when
// absent, + slow_latency if that message contains the word "slow".
std::chrono::milliseconds LatencyFor(const boost::json::value& messages, const MockOptions& options);

// --- OpenAI wire format (what `agentd mock-llm` sends) -------------------------------------

// The non-streamed response body ("chat.completion").
std::string RenderCompletion(const boost::json::object& request, const MockReply& reply);

struct SseFrame {
  std::chrono::microseconds delay_before{0};  // wait this long, then write `bytes`
  std::string bytes;                          // "data: {...}\n\n" or "data: [DONE]\n\n"
};
// Every frame of the streamed response, in order, ending with [DONE]; a usage chunk precedes
// it when request.stream_options.include_usage is truthy.
std::vector<SseFrame> RenderStream(const boost::json::object& request, const MockReply& reply);

// GET /v1/models body.
std::string RenderModels();

// JavaScript truthiness of a JSON value (false, 0, "", null are falsy).
bool Truthy(const boost::json::value* v);

// --- the demo tool ------------------------------------------------------------------------

inline constexpr std::string_view kDemoToolName = "get_weather";
// get_weather(city) -> "sunny in <city>".
std::string GetWeather(std::string_view city);
// The POST /tools/get_weather body rule: {"city": "x"} -> "sunny in x" ("" when city is not a
// string). Fails (nullopt) when the body is not JSON.
std::optional<std::string> GetWeatherFromBody(std::string_view body);
// JSON Schema of get_weather's arguments.
boost::json::object GetWeatherSchema();

}  // namespace agentd::mock
