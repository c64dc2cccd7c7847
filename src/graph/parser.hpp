#pragma once
// Graph file text (YAML or JSON) -> GraphDef. Checks the shape: known keys at every level,
// node kinds, value types, conditions, placeholder syntax; every problem goes to `diags` with
// its line, column and key path, and parsing goes on so that one pass lists them all. What
// needs the configuration or the other graphs (models, tools, node references, reachability,
// subgraphs) is validator.hpp's job. Tests: tests/unit/graph/parser_test.cpp.

#include <optional>
#include <string>
#include <string_view>

#include "graph/diagnostics.hpp"
#include "graph/graph_def.hpp"

namespace agentd::graph {

// nullopt when the text is not a document at all (a syntax error, not a map at the root);
// otherwise the graph as far as it could be read (diags says whether anything was wrong).
std::optional<GraphDef> ParseGraph(std::string_view text, const std::string& file, Diagnostics& diags);

}  // namespace agentd::graph
