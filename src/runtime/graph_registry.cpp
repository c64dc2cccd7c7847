#include "runtime/graph_registry.hpp"

#include <algorithm>
#include <utility>

#include <boost/json/array.hpp>
#include <fmt/core.h>

#include "config/catalog.hpp"

namespace agentd::runtime {
namespace {

namespace json = boost::json;

// The state every built-in kind keeps: the `messages` channel.
json::value MessagesSchema(std::string_view title) {
  return json::object{
      {"title", title},
      {"type", "object"},
      {"properties",
       json::object{{"messages", json::object{{"type", "array"},
                                              {"items", json::object{{"type", "object"}}}}}}},
  };
}

json::value EmptyObjectSchema(std::string_view title) {
  return json::object{{"title", title}, {"type", "object"}, {"properties", json::object{}}};
}

bool Declared(const auto& specs, const std::string& name) {
  return std::any_of(specs.begin(), specs.end(), [&](const auto& s) { return s.name == name; });
}

Result<GraphInfo> Describe(const config::Config& config, const config::GraphSpec& spec) {
  GraphInfo info;
  info.graph_id = spec.graph_id;
  info.kind = spec.kind;
  info.spec = spec;
  if (spec.kind == "react") {
    if (spec.model.empty() || !Declared(config.models, spec.model)) {
      return MakeError(Errc::kInvalidArgument,
                       fmt::format("graph \"{}\": model \"{}\" is not declared in models",
                                   spec.graph_id, spec.model));
    }
    for (const auto& tool : spec.tools) {
      if (!Declared(config.tools, tool) && config::McpClaims(config.mcp_servers, tool) == nullptr) {
        return MakeError(Errc::kInvalidArgument,
                         fmt::format("graph \"{}\": tool \"{}\" is not declared in tools",
                                     spec.graph_id, tool));
      }
    }
    info.nodes = {"__start__", "model", "tools", "__end__"};
    info.edges = {
        {"__start__", "model", false},
        {"model", "tools", true},
        {"model", "__end__", true},
        {"tools", "model", false},
    };
  } else if (spec.kind == "echo") {
    info.nodes = {"__start__", "echo", "__end__"};
    info.edges = {{"__start__", "echo", false}, {"echo", "__end__", false}};
  } else {
    return MakeError(Errc::kInvalidArgument,
                     fmt::format("graph \"{}\": unknown kind \"{}\" (expected react or echo)",
                                 spec.graph_id, spec.kind));
  }
  info.input_schema = MessagesSchema("input");
  info.output_schema = MessagesSchema("output");
  info.state_schema = MessagesSchema("state");
  info.config_schema = EmptyObjectSchema("config");
  info.context_schema = EmptyObjectSchema("context");
  return info;
}

}  // namespace

Result<GraphRegistry> GraphRegistry::FromConfig(const config::Config& config) {
  GraphRegistry registry;
  for (const auto& spec : config.graphs) {
    if (spec.graph_id.empty()) {
      return MakeError(Errc::kInvalidArgument, "graph with an empty graph_id");
    }
    if (registry.Find(spec.graph_id) != nullptr) {
      return MakeError(Errc::kInvalidArgument,
                       fmt::format("graph \"{}\": declared twice", spec.graph_id));
    }
    auto info = Describe(config, spec);
    if (!info) return info.error();
    registry.graphs_.push_back(std::move(*info));
  }
  return registry;
}

const GraphInfo* GraphRegistry::Find(std::string_view graph_id) const {
  for (const auto& g : graphs_) {
    if (g.graph_id == graph_id) return &g;
  }
  return nullptr;
}

}  // namespace agentd::runtime

