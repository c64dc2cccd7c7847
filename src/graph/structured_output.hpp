#pragma once
// Structured output of `llm` nodes (docs/graphs.md): the schema sent to the provider (OpenAI
// `response_format` json_schema and Anthropic forced tools both need an object at the root, so
// any other schema is wrapped as {"value": <schema>} and the answer unwrapped), and the check
// of the parsed answer against the node's schema, naming the first path that fails. The check
// covers the JSON Schema keywords graph files use: type (or a list), enum, const, properties,
// required, additionalProperties (false or a schema), items, minItems/maxItems,
// minLength/maxLength, minimum/maximum, anyOf/oneOf. Pure functions.
// Tests: tests/unit/graph/structured_output_test.cpp.

#include <optional>
#include <string>

#include <boost/json/value.hpp>

namespace agentd::graph {

struct ProviderSchema {
  boost::json::value schema;  // what the provider is asked for (always an object schema)
  bool wrapped = false;       // the node's schema is under the "value" property
};

ProviderSchema WrapSchema(const boost::json::value& schema);

// The node's value out of the provider's answer: the answer itself, or its "value" when
// wrapped (nullopt when a wrapped answer has no "value").
std::optional<boost::json::value> Unwrap(const boost::json::value& answer, bool wrapped);

// Whether `value` satisfies `schema`; nullopt when it does, else the problem with its path
// ("$.route: expected one of [\"billing\",\"general\"], got \"other\"").
std::optional<std::string> ValidateValue(const boost::json::value& schema, const boost::json::value& value);

// Whether `value` has JSON Schema type `type` ("string", "integer", ...).
bool HasType(const boost::json::value& value, std::string_view type);

}  // namespace agentd::graph
