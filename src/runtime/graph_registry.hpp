#pragma once
// The graphs this server can run, built once from the configuration. For each: its node
// names and edges (what GET /assistants/{id}/graph shows; node ids are the names clients see in
// `updates` keys and `langgraph_node`), and its JSON Schemas (GET .../schemas). The executor
// (runtime/executor.hpp) runs them.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "common/error.hpp"
#include "config/config.hpp"
#include "graph/graph_def.hpp"

namespace agentd::runtime {

struct GraphEdge {
  std::string source;
  std::string target;
  bool conditional = false;
};

struct GraphInfo {
  std::string graph_id;
  std::string kind;                // react | echo | graph (a graph file: `def`)
  std::vector<std::string> nodes;  // includes __start__ and __end__
  std::vector<GraphEdge> edges;
  boost::json::value input_schema;
  boost::json::value output_schema;
  boost::json::value state_schema;
  boost::json::value config_schema;
  boost::json::value context_schema;
  // spec.tools: names a run resolves against its catalog (RunCatalog); for a graph file, every
  // tool any of its llm nodes offers.
  config::GraphSpec spec;
  std::shared_ptr<const graph::GraphDef> def;  // kind "graph" only
  // A graph file's client-side tools (kind "client"): offered to its model like the catalog's,
  // answered by the client (runtime/tool_approval.hpp).
  std::vector<config::ToolSpec> client_tools;
  // A graph file's subgraph and agent nodes -> the graph each runs (a copy of the registry's
  // entry, or a react graph built from an agent node's model, system and tools).
  std::map<std::string, std::shared_ptr<const GraphInfo>> subgraphs;
};

class GraphRegistry {
 public:
  // Fails with kInvalidArgument naming the graph when its kind is unknown or it references a
  // model/tool the config does not declare. Also loads the configuration's graph files
  // (graph/loader.hpp); their errors, all of them, one per line, make the message.
  static Result<GraphRegistry> FromConfig(const config::Config& config);
  // The same with graph files already loaded and validated.
  static Result<GraphRegistry> FromConfig(const config::Config& config,
                                          std::vector<graph::GraphDef> graph_files);
  const GraphInfo* Find(std::string_view graph_id) const;
  const std::vector<GraphInfo>& all() const { return graphs_; }

 private:
  std::vector<GraphInfo> graphs_;
};

}  // namespace agentd::runtime
