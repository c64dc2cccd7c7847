#pragma once
// `subgraph` and `agent` nodes of graph files (docs/graphs.md): another graph (a graph file or
// a built-in such as `agent`; for `agent`, a ReAct loop built from the node's own model, system
// prompt and tools) run as one node of its parent, in its own namespace "<node>:<task id>".
//
// The subgraph reads the parent's state (channels through the node's `input` map, default the
// same names; `messages` always), runs its nodes step by step (routing, fan-out, goto as the
// parent does) and returns its whole output state as the node's update (channels through the
// `output` map), as LangGraph does. Its events reach the client only with `stream_subgraphs`:
// `values|<ns>`, `updates|<ns>` and `messages|<ns>` (ns = "<node>:<task id>", nested levels
// joined with '|'), message metadata carrying the full `checkpoint_ns` path. Without it the
// parent shows the node's new messages whole (executor).
//
// Not yet: the subgraph's steps write no checkpoints of their own (the parent's step that ran
// it does), so a run killed inside a subgraph re-runs it from its start; an interrupt inside a
// subgraph fails the run (kUnsupported); `events`, `tasks` and `debug` modes show nothing from
// inside it.

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include "common/error.hpp"
#include "graph/graph_def.hpp"
#include "runtime/run_context.hpp"
#include "runtime/state.hpp"

namespace agentd::runtime {

boost::asio::awaitable<Result<boost::json::object>> SubgraphNode(RunContext& ctx, const TaskInfo& task,
                                                                 const GraphState& state,
                                                                 const graph::NodeDef& node);

}  // namespace agentd::runtime
