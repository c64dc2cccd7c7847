#pragma once
// The checks of a parsed graph that need the configuration or the other graphs
// (docs/graphs.md "Loading, validation"): unknown models and tools, edges from or to unknown
// nodes, unreachable nodes, nodes with no way to __end__, templates and conditions naming
// undeclared channels or knobs, output/resume/update channels, duplicate graph ids, subgraphs
// naming unknown graphs or forming a cycle. Every problem goes to `diags` with its position.
// Tests: tests/unit/graph/validator_test.cpp.

#include <string>
#include <vector>

#include "config/config.hpp"
#include "graph/diagnostics.hpp"
#include "graph/graph_def.hpp"

namespace agentd::graph {

// What graph files may refer to: the configuration's models and tools, and the graphs it
// declares itself (the built-in kinds, e.g. `agent` and `echo`).
struct Catalog {
  std::vector<std::string> models;
  std::vector<std::string> tools;
  std::vector<std::string> builtin_graphs;
  // MCP servers' tools are listed only once agentd runs: a name a server claims (its
  // tool_filter lists it, or it starts with the server's prefix) is accepted at load.
  std::vector<config::McpServerSpec> mcp_servers;
};

void ValidateGraph(const GraphDef& def, const Catalog& catalog, Diagnostics& diags);

// Checks across graphs: duplicate ids (with each other and the built-in graphs), subgraph
// references and cycles. `diags` gets each problem in the file it is in.
void ValidateSet(const std::vector<GraphDef>& defs, const Catalog& catalog, Diagnostics& diags);

}  // namespace agentd::graph
