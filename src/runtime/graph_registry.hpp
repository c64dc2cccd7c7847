#pragma once
// The graphs this server can run, built once from the configuration. For each: its node
// names and edges (what GET /assistants/{id}/graph shows; node ids are the names clients see in
// `updates` keys and `langgraph_node`), and its JSON Schemas (GET .../schemas). The executor
// (runtime/executor.hpp) runs them.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "common/error.hpp"
#include "config/config.hpp"

namespace agentd::runtime {

struct GraphEdge {
  std::string source;
  std::string target;
  bool conditional = false;
};

struct GraphInfo {
  std::string graph_id;
  std::string kind;                // react | echo
  std::vector<std::string> nodes;  // includes __start__ and __end__
  std::vector<GraphEdge> edges;
  boost::json::value input_schema;
  boost::json::value output_schema;
  boost::json::value state_schema;
  boost::json::value config_schema;
  boost::json::value context_schema;
  config::GraphSpec spec;  // spec.tools: names a run resolves against its catalog (RunCatalog)
};

class GraphRegistry {
 public:
  // Fails with kInvalidArgument naming the graph when its kind is unknown or it references a
  // model/tool the config does not declare.
  static Result<GraphRegistry> FromConfig(const config::Config& config);
  const GraphInfo* Find(std::string_view graph_id) const;
  const std::vector<GraphInfo>& all() const { return graphs_; }

 private:
  std::vector<GraphInfo> graphs_;
};

}  // namespace agentd::runtime
