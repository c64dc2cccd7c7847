#pragma once
// Private to runtime/providers: tolerant field access for provider JSON (a missing or
// mistyped optional field reads as absent, never throws) and the provider-error mapping.

#include <cstdint>
#include <optional>
#include <string_view>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "common/error.hpp"

namespace agentd::runtime::providers::detail {

namespace json = boost::json;

const json::object* ObjectAt(const json::object& o, std::string_view key);
const json::array* ArrayAt(const json::object& o, std::string_view key);
// The string at `key`, or "" when absent, null or not a string.
std::string_view StringAt(const json::object& o, std::string_view key);
std::optional<std::int64_t> IntAt(const json::object& o, std::string_view key);

// Parses `text` as a JSON object; kInternal naming `provider` when it is malformed or not an
// object (an upstream protocol violation, not the caller's fault).
Result<json::object> ParseObject(std::string_view text, std::string_view provider);

// Maps an error object a provider returned ({"type", "code", "message"}) to an Error:
// rate limits -> kResourceExhausted, invalid requests -> kInvalidArgument, anything else ->
// kUnavailable; the message reads "<provider> error (<type>): <message>".
Error ProviderError(std::string_view provider, const json::value& error);

// Parses tool-call arguments for a provider that wants an object, not text: "" -> {}.
// kInternal when the text is not a JSON object.
Result<json::object> ArgumentsObject(std::string_view arguments_json);

}  // namespace agentd::runtime::providers::detail
