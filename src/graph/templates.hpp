#pragma once
// Templates of graph files (docs/graphs.md "Templates"): `{{state.<channel>}}`,
// `{{config.<knob>}}`, `{{context.<key>}}`, `{{last.text}}`, `{{last.tool_calls}}`, `{{thread_id}}`, `{{run_id}}`, with
// optional spaces inside the braces and, after state/config/context, a dotted path into the
// value (`{{state.ticket.id}}`). Rendered in every string of a value at any depth (object keys
// stay as written). A string that is exactly one placeholder becomes the value itself as JSON
// (null when unset); inside text a string is inserted as is, null/unset as "", anything else
// as its JSON.
//
// Two more roots have a scope: `{{resume}}` / `{{resume.<path>}}` (the resume value, in an
// interrupt node's `update`) and `{{item}}` / `{{item.<path>}}` (inside `$each`). A map
// `{$each: "<one placeholder naming a list>", do: <value>}` renders to a list: `do` once per
// element, with `{{item}}` = that element (an unset or non-list source gives []).
// Pure functions. Tests: tests/unit/graph/templates_test.cpp.

#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "graph/conditions.hpp"

namespace agentd::graph {

struct Placeholder {
  std::string root;                // state | config | context | last | thread_id | run_id | resume | item
  std::vector<std::string> path;   // after the root: {"route"}, {"ticket", "id"}, {"text"}
  std::size_t begin = 0;           // offset of "{{" in the string
  std::size_t end = 0;             // offset just past "}}"
};

// The placeholders of `text`, in order. A syntax problem (an unterminated "{{", an unknown
// root, a missing name) is returned as the error message.
Result<std::vector<Placeholder>> ParsePlaceholders(std::string_view text);

struct TemplateContext {
  StateView state;
  const boost::json::object* config = nullptr;   // the graph's knobs, resolved
  const boost::json::object* context = nullptr;  // the run's context
  std::string_view thread_id;
  std::string_view run_id;
  const boost::json::value* item = nullptr;  // the element of the innermost `$each`
};

inline constexpr std::string_view kEachKey = "$each";
inline constexpr std::string_view kEachDoKey = "do";

// Renders every string of `value`. Placeholders that do not parse are left as written (the
// loader refuses such files; this keeps rendering total).
boost::json::value Render(const boost::json::value& value, const TemplateContext& ctx);
// Renders one string as text (never as a JSON value).
std::string RenderText(std::string_view text, const TemplateContext& ctx);

}  // namespace agentd::graph
