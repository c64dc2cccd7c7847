#pragma once
// The graphs this server can run, built once from the configuration. For each: its node
// names and edges (what GET /assistants/{id}/graph shows; node ids are the names clients see in
// `updates` keys and `langgraph_node`), and its JSON Schemas (GET .../schemas). The executor
// (runtime/executor.hpp) runs them.

#include <map>
#include <memory>
#include <mutex>
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
  // What an assistant's config.configurable (or context) may set: a graph file's
  // `configurable`; the built-in react graphs' `model` and `system_prompt` (defaults: the
  // configuration's). They make config_schema/context_schema.
  std::vector<graph::KnobDef> knobs;
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

// Thread safety: Find, all and Replace may be called from any thread. Replace (a reload)
// publishes a new set of graphs at once; what Find and all returned before keeps the version it
// had (shared ownership), so a run holds the graph it started with to its end.
class GraphRegistry {
 public:
  using Graphs = std::vector<GraphInfo>;
  // One version of the whole set, iterable; keeps that version alive.
  class Snapshot {
   public:
    explicit Snapshot(std::shared_ptr<const Graphs> graphs) : graphs_(std::move(graphs)) {}
    Graphs::const_iterator begin() const { return graphs_->begin(); }
    Graphs::const_iterator end() const { return graphs_->end(); }
    std::size_t size() const { return graphs_->size(); }

   private:
    std::shared_ptr<const Graphs> graphs_;
  };

  GraphRegistry() : graphs_(std::make_shared<const Graphs>()) {}
  GraphRegistry(GraphRegistry&& other) noexcept : graphs_(other.Current()) {}
  GraphRegistry& operator=(GraphRegistry&& other) noexcept;

  // Fails with kInvalidArgument naming the graph when its kind is unknown or it references a
  // model/tool the config does not declare. Also loads the configuration's graph files
  // (graph/loader.hpp); their errors, all of them, one per line, make the message.
  static Result<GraphRegistry> FromConfig(const config::Config& config);
  // The same with graph files already loaded and validated.
  static Result<GraphRegistry> FromConfig(const config::Config& config,
                                          std::vector<graph::GraphDef> graph_files);
  // The graph of that id in the current version (null when none); the pointer keeps it alive.
  std::shared_ptr<const GraphInfo> Find(std::string_view graph_id) const;
  Snapshot all() const { return Snapshot(Current()); }
  // Publishes `next`'s graphs (a reload); `next` is left empty.
  void Replace(GraphRegistry&& next);

 private:
  std::shared_ptr<const Graphs> Current() const;

  mutable std::mutex mutex_;
  std::shared_ptr<const Graphs> graphs_;
};

}  // namespace agentd::runtime
