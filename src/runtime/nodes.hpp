#pragma once
// The built-in nodes: `echo` (echo graph), `model` and `tools` (react graph). A node reads the
// run's in-memory state and returns its update ({"messages": [...]}); it emits the stream
// events that happen while it runs (LLM tokens in messages-tuple / legacy messages / events).
// The executor applies the update, emits `updates`/`values` and writes the checkpoint.
//
// Errors: kCancelled when the run was cancelled mid-node; anything else fails the run
// (a missing model, a model error). Tool failures are not errors: they become tool messages
// with status "error".

#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include "common/error.hpp"
#include "runtime/run_context.hpp"
#include "runtime/state.hpp"

namespace agentd::runtime {

boost::asio::awaitable<Result<boost::json::object>> RunNode(RunContext& ctx, TaskInfo task,
                                                            const GraphState& state);

// The nodes that follow `node` given the state after it ran (the graph's edges; conditional
// for react's model). Empty = end.
std::vector<std::string> NextNodes(const GraphInfo& graph, std::string_view node,
                                   const GraphState& state);

// NextNodes with errors: a graph file's branch with no match (and no default) is one, naming
// graph and node.
Result<std::vector<std::string>> RouteAfter(const GraphInfo& graph, std::string_view node,
                                            const GraphState& state);

// The tools node: runs the last AI message's tool calls (also a graph file's `tools` node).
// With `allowed` (a tools node's filter), a call to any other tool is not run: its tool
// message has status error and names the node and its tools.
boost::asio::awaitable<Result<boost::json::object>> ToolsNodeFor(RunContext& ctx, const TaskInfo& task,
                                                                 const GraphState& state,
                                                                 const std::vector<std::string>* allowed = nullptr);

// The tool message the tools node writes for one call (status success or error).
boost::json::object MakeToolMessage(std::string_view call_id, std::string_view name,
                                    std::string content, bool ok);

// Runs `calls` (tool call dicts {id, name, args}) concurrently, exactly as the tools node does
// (`allowed` too): {"messages": [one tool message per call, in order]}. Used by graph files'
// tools node for the calls left after approvals (runtime/tool_approval.hpp).
boost::asio::awaitable<Result<boost::json::object>> RunToolCalls(
    RunContext& ctx, const TaskInfo& task, const boost::json::array& calls,
    const std::vector<std::string>* allowed = nullptr);

// Whether `node` streams its reply token by token (react's model, a graph file's llm node):
// its message is then not sent again whole.
bool StreamsTokens(const GraphInfo& graph, std::string_view node);

// Whether `node` is a graph file's subgraph or agent node (runtime/subgraph_node.hpp).
bool IsSubgraphNode(const GraphInfo& graph, std::string_view node);

// Whether `node`'s successors are chosen by a routing function (react's model: tools or end).
// The reference reports that function in events mode as a RunnableLambda inside the node.
bool HasConditionalEdges(const GraphInfo& graph, std::string_view node);

// The nodes the graph starts with (`__start__`'s targets).
std::vector<std::string> EntryNodes(const GraphInfo& graph);

}  // namespace agentd::runtime
