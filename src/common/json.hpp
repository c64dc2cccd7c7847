#pragma once
// Small Boost.JSON helpers shared by storage backends and the API.

#include <optional>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>
#include <boost/json/object.hpp>

namespace agentd {

namespace json = boost::json;

// Containment as the protocol's metadata/values filters define it (agent-protocol.md 1.6):
// every key of `filter` exists in `target` with an equal value; nested objects recurse.
bool JsonContains(const json::value& target, const json::value& filter);

// Shallow merge: every key of `from` replaces the same key of `into`.
void MergeShallow(json::object& into, const json::object& from);

// Compact serialisation.
std::string ToJson(const json::value& v);

// Parses text as JSON (comments and trailing commas allowed when `lenient`); nullopt + message
// on failure via `error` when given.
std::optional<json::value> ParseJson(std::string_view text, std::string* error = nullptr,
                                     bool lenient = false);

}  // namespace agentd
