#pragma once
// The mock model's structured-output rule (shared/docs/mock-llm.md, "Structured output"): the
// schema a request asks for, and the deterministic JSON value the mock answers with. Pure
// functions, used by ComputeReply (mock_model.cpp); tests: tests/unit/mock/structured_reply_test.cpp.

#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

namespace agentd::mock {

// What a chat-completions request asks for, when it asks for structured output.
struct StructuredRequest {
  boost::json::value schema;  // the JSON Schema of the answer
  // Empty: OpenAI `response_format` {type: json_schema} (the JSON text is the message content).
  // Otherwise the tool an Anthropic-style `tool_choice: {type: "tool", name}` forces; the value
  // is that tool call's input.
  std::string forced_tool;
};

// OpenAI: response_format {type: "json_schema", json_schema: {schema}}; Anthropic:
// tool_choice {type: "tool", name: N} with a tool named N in `tools` ({name, input_schema},
// or OpenAI's {function: {name, parameters}}) giving the schema. nullopt otherwise.
std::optional<StructuredRequest> FindStructuredRequest(const boost::json::object& request);

// The value the mock answers for `schema`, built from the last user message `user_text`:
// a string with `enum` -> the first enum value occurring in the text (case-insensitive, whole
// word), else the first; any other string -> the text; number/integer -> its word count;
// boolean -> whether the property's name occurs in the text (false at the root); object ->
// every property; array -> one element (of `items`). `const` wins; anyOf/oneOf take their first
// alternative; a list of types its first non-null one; anything else (or nesting deeper than
// 16) is null.
boost::json::value BuildFromSchema(const boost::json::value& schema, std::string_view user_text);

// The number of words of `text`: maximal runs of non-whitespace.
std::size_t WordCount(std::string_view text);

}  // namespace agentd::mock
