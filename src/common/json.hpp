#pragma once
// Small Boost.JSON helpers shared by storage backends and the API, and the one JSON parser for
// text agentd did not write itself (request bodies, stored rows, upstream replies).

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

namespace agentd {

namespace json = boost::json;

// Containment as the protocol's metadata/values filters define it (agent-protocol.md 1.6):
// every key of `filter` exists in `target` with an equal value; nested objects recurse.
bool JsonContains(const json::value& target, const json::value& filter);

// Shallow merge: every key of `from` replaces the same key of `into`.
void MergeShallow(json::object& into, const json::object& from);

// Compact serialisation.
std::string ToJson(const json::value& v);

// Nesting limit of ParseJson for text agentd stored or got from an upstream. Above the largest
// request limit (server.json_max_depth, at most kMaxRequestJsonDepth) plus the few levels a
// stored row wraps a request value in, so whatever a request could store reads back; bounded,
// because destroying a json::value recurses once per level.
inline constexpr std::size_t kStoredJsonMaxDepth = 1024;
// The largest server.json_max_depth the settings accept.
inline constexpr std::size_t kMaxRequestJsonDepth = 512;

// Why ParseJson refused a text.
struct JsonProblem {
  enum class Kind {
    kSyntax,            // not JSON
    kTooDeep,           // objects/arrays nested deeper than the limit
    kNumberOutOfRange,  // a number beyond a double's range (1e999, -1e400)
  };
  Kind kind = Kind::kSyntax;
  // Syntax: the parser's message. Too deep: "nesting deeper than <N> levels". Number out of
  // range: "number out of range at <path>: it does not fit in a double (at most
  // 1.7976931348623157e308 in magnitude)".
  std::string message;
  // kNumberOutOfRange: where the number is, as keys and indices from the root (["value","n"],
  // ["items",2]); [] when the whole text is that number.
  json::array path;
};

// Parses `text` as JSON (comments and trailing commas allowed when `lenient`: config files),
// objects/arrays nested at most `max_depth` levels. Refuses numbers outside a double's range:
// Boost.JSON would read 1e999 as infinity, which it serialises as `Infinity` (not JSON), so a
// stored copy could never be read back and the whole row would be lost. On failure: nullopt,
// and `*problem` says why when given.
std::optional<json::value> ParseJsonLimited(std::string_view text, std::size_t max_depth,
                                            JsonProblem* problem = nullptr, bool lenient = false);

// ParseJsonLimited with kStoredJsonMaxDepth, the problem as one line of text in `*error`.
std::optional<json::value> ParseJson(std::string_view text, std::string* error = nullptr,
                                     bool lenient = false);

// "value.n", "items[2].x", "[0]": a JSON path (as in JsonProblem::path) for people.
std::string JsonPathText(const json::array& path);

}  // namespace agentd
