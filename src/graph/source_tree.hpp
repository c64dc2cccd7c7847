#pragma once
// A YAML or JSON document as a tree whose every node and map key knows its line and column.
// Both formats go through yaml-cpp (JSON is YAML's flow style), so a graph file's errors have
// positions whichever format it is in. Plain scalars resolve as YAML 1.2's core schema (null,
// true/false, integers, floats); quoted scalars stay strings. Only `source_tree.cpp` includes
// yaml-cpp.
//
// Bounds: a document over kMaxSourceBytes or expanding (aliases included) to more than
// kMaxSourceNodes nodes is refused, so a hostile file cannot exhaust memory.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/value.hpp>

#include "graph/diagnostics.hpp"

namespace agentd::graph {

inline constexpr std::size_t kMaxSourceBytes = 1 << 20;
inline constexpr std::size_t kMaxSourceNodes = 100'000;

struct SourceNode {
  enum class Kind { kNull, kScalar, kSequence, kMap };
  struct Entry;

  Kind kind = Kind::kNull;
  Mark mark;
  boost::json::value scalar;  // kScalar: string, number or bool
  std::vector<SourceNode> items;
  std::vector<Entry> entries;  // kMap, in file order

  bool is_map() const { return kind == Kind::kMap; }
  bool is_sequence() const { return kind == Kind::kSequence; }
  bool is_string() const { return kind == Kind::kScalar && scalar.is_string(); }
  // The entry named `key` of a map (the first, when duplicated), or null.
  const SourceNode* Find(std::string_view key) const;
  // "a string", "a number", "a list", "a map", "null": for error messages.
  std::string_view Describe() const;
};

struct SourceNode::Entry {
  std::string key;
  Mark key_mark;
  SourceNode value;
};

// Parses `text`. Syntax errors (and non-scalar map keys, duplicate keys, the bounds) are added
// to `diags` with their position; the result is then nullopt.
std::optional<SourceNode> ParseSource(std::string_view text, Diagnostics& diags);

// The node as JSON (positions dropped).
boost::json::value ToJson(const SourceNode& node);

}  // namespace agentd::graph
