#pragma once
// Loads the graph files a configuration names (docs/graphs.md "Loading"): every *.yaml, *.yml
// and *.json in `graphs_dir` (sorted by name, not recursive), then each `graphs[]` entry
// `{"file": ...}`. Each is parsed, validated against the configuration (models, tools, its
// built-in graphs) and against the other files (duplicate ids, subgraphs), and every problem of
// every file is collected. Used by `agentd config --validate`, `agentd serve` (which refuses to
// start on any error) and runtime::GraphRegistry. Blocking file I/O: start-up only.

#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "graph/diagnostics.hpp"
#include "graph/graph_def.hpp"
#include "graph/validator.hpp"

namespace agentd::graph {

struct LoadedGraphs {
  std::vector<GraphDef> graphs;  // only when `diags` is empty
  Diagnostics diags;
  std::vector<std::string> files;  // every file read, in order
};

LoadedGraphs LoadGraphFiles(const config::Config& config);

// Parses and validates graph texts already in memory (tests; `files` are {name, text}).
LoadedGraphs LoadGraphTexts(const std::vector<std::pair<std::string, std::string>>& files,
                            const Catalog& catalog);

// The models, tools and built-in graph ids of `config`.
Catalog CatalogOf(const config::Config& config);

}  // namespace agentd::graph
