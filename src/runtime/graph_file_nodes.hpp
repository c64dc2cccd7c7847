#pragma once
// The nodes and edges of graph files (graph/graph_def.hpp, docs/graphs.md) as the executor
// runs them: `llm` (one model call with the node's rendered system prompt, its tools and
// options; with `output`, structured output parsed, validated against the node's schema and
// written to its channel; then the node's `update`), `set` (rendered values), `tools` (the
// react tools node, restricted to the node's filter). Routing after a node: static edges
// (several targets = fan-out) and branches (first matching condition, else the default; no
// match and no default is an error naming graph and node).
//
// `interrupt` pauses the run with its rendered `value` (the node's update then holds
// kInterruptKey = the value; the executor turns it into LangGraph's interrupt); run again with
// command.resume it writes the resume value to `resume_to` and goes on along its edges.
// `function` calls its URL (function_node.hpp); its `goto` comes back under kGotoKey, which the
// executor uses instead of the node's edges; its `interrupt` pauses as an interrupt node does.
// On resume an interrupt node also writes its `update`, rendered with the resume value
// ({{resume}}, `resume` conditions). `subgraph` and `agent` run through subgraph_node.hpp.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include "common/error.hpp"
#include "graph/templates.hpp"
#include "runtime/run_context.hpp"
#include "runtime/state.hpp"

namespace agentd::runtime {

inline constexpr std::string_view kInterruptKey = "__interrupt__";
inline constexpr std::string_view kGotoKey = "__goto__";

boost::asio::awaitable<Result<boost::json::object>> RunGraphFileNode(RunContext& ctx, const TaskInfo& task,
                                                                     const GraphState& state);

// The nodes after `node` ran, given the state with its writes applied. Empty = end.
Result<std::vector<std::string>> RouteGraphFile(const GraphInfo& graph, std::string_view node,
                                                const GraphState& state);

// The graph's knobs for a run: each declared knob's config.configurable value, else its
// `context` value, else its default (undeclared keys are not knobs).
boost::json::object ResolveKnobs(const graph::GraphDef& def, const boost::json::object& config,
                                 const boost::json::object& context = {});
boost::json::object ResolveKnobs(const std::vector<graph::KnobDef>& declared, const boost::json::object& config,
                                 const boost::json::object& context = {});

// A declared knob given a value of the wrong type, in config.configurable or context (a 422
// for the API): "config.configurable.tone: expected string, got 3". Undeclared keys pass
// untouched (clients put user ids and headers there). A knob whose schema has an `enum` (the
// built-in agent's `model`: the configured models) must be one of its values. nullopt when every
// knob is fine (GraphInfo::knobs: graph files and the built-in react graphs declare them).
std::optional<std::string> CheckKnobTypes(const GraphInfo& graph, const boost::json::object& config,
                                          const boost::json::object& context);

}  // namespace agentd::runtime
