#include "runtime/graph_registry.hpp"

#include <algorithm>
#include <functional>
#include <utility>

#include <boost/json/array.hpp>
#include <fmt/core.h>

#include "config/catalog.hpp"
#include "graph/loader.hpp"

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

// config_schema and context_schema: one property per knob.
void SetKnobSchemas(GraphInfo& info) {
  json::object knobs;
  for (const auto& k : info.knobs) {
    json::object schema = k.schema.is_object() ? k.schema.get_object() : json::object{};
    if (k.has_default) schema["default"] = k.default_value;
    if (!k.description.empty()) schema["description"] = k.description;
    knobs[k.name] = std::move(schema);
  }
  info.config_schema = json::object{{"title", "config"}, {"type", "object"}, {"properties", knobs}};
  info.context_schema = json::object{{"title", "context"}, {"type", "object"}, {"properties", knobs}};
}

graph::KnobDef StringKnob(std::string name, std::string default_value, std::string description) {
  graph::KnobDef k;
  k.name = std::move(name);
  k.schema = json::object{{"type", "string"}};
  k.default_value = json::string(default_value);
  k.has_default = true;
  k.description = std::move(description);
  return k;
}

// The built-in react graph's knobs (docs/graphs.md): `model`, one of the configured models, and
// `system_prompt`; their defaults are the graph's configuration.
void SetReactKnobs(const config::Config& config, GraphInfo& info) {
  graph::KnobDef model = StringKnob("model", info.spec.model, "a configured model name (models[].name)");
  json::array names;
  for (const auto& m : config.models) names.emplace_back(m.name);
  model.schema.as_object()["enum"] = std::move(names);
  info.knobs = {std::move(model),
                StringKnob("system_prompt", info.spec.system_prompt, "the system prompt the model sees")};
  SetKnobSchemas(info);
}

json::object ChannelsSchema(const graph::GraphDef& def, std::string_view title,
                            const std::vector<std::string>& only) {
  json::object properties;
  for (const auto& c : def.channels) {
    if (!only.empty() && std::find(only.begin(), only.end(), c.name) == only.end()) continue;
    properties[c.name] = c.schema;
  }
  return json::object{{"title", title}, {"type", "object"}, {"properties", std::move(properties)}};
}

// A graph file as the API shows it: nodes in file order between __start__ and __end__, its
// edges (branch targets and function-node goto targets conditional, as LangGraph draws them).
GraphInfo DescribeFile(graph::GraphDef def) {
  GraphInfo info;
  info.graph_id = def.graph_id;
  info.kind = "graph";
  info.spec.graph_id = def.graph_id;
  info.spec.kind = "graph";
  info.spec.description = def.description;
  info.spec.recursion_limit = def.recursion_limit;
  info.nodes.emplace_back(graph::kStart);
  for (const auto& n : def.nodes) info.nodes.push_back(n.name);
  info.nodes.emplace_back(graph::kEnd);
  auto add = [&](const std::string& from, const std::string& to, bool conditional) {
    for (const auto& e : info.edges) {
      if (e.source == from && e.target == to) return;
    }
    info.edges.push_back(GraphEdge{from, to, conditional});
  };
  for (const auto& edge : def.edges) {
    for (const auto& from : edge.from) {
      for (const auto& to : edge.to) add(from.name, to.name, false);
      for (const auto& branch : edge.branches) {
        for (const auto& to : branch.to) add(from.name, to.name, true);
      }
    }
  }
  for (const auto& n : def.nodes) {
    for (const auto& end : n.ends) add(n.name, end.name, true);
  }
  info.state_schema = ChannelsSchema(def, "state", {});
  info.input_schema = ChannelsSchema(def, "input", def.input);
  info.output_schema = ChannelsSchema(def, "output", def.output);
  info.knobs = def.knobs;
  SetKnobSchemas(info);
  // Knob defaults are the system assistant's configurable (as a LangGraph graph's defaults).
  json::object configurable;
  for (const auto& k : def.knobs) {
    if (k.has_default) configurable[k.name] = k.default_value;
  }
  if (!configurable.empty()) info.spec.config = json::object{{"configurable", std::move(configurable)}};
  for (const auto& c : def.channels) {
    if (c.name == "messages") continue;
    if (c.reducer == graph::Reducer::kAppend) info.spec.channels[c.name] = "append";
    if (c.reducer == graph::Reducer::kAddMessages) info.spec.channels[c.name] = "add_messages";
  }
  info.def = std::make_shared<const graph::GraphDef>(std::move(def));
  return info;
}

}  // namespace

Result<GraphRegistry> GraphRegistry::FromConfig(const config::Config& config) {
  auto loaded = graph::LoadGraphFiles(config);
  if (!loaded.diags.empty()) return MakeError(Errc::kInvalidArgument, loaded.diags.Format());
  return FromConfig(config, std::move(loaded.graphs));
}

namespace {

// The registry being built: plain values, published once complete.
struct Building {
  std::vector<GraphInfo> graphs_;
  const GraphInfo* Find(std::string_view graph_id) const {
    for (const auto& g : graphs_) {
      if (g.graph_id == graph_id) return &g;
    }
    return nullptr;
  }
};

}  // namespace

GraphRegistry& GraphRegistry::operator=(GraphRegistry&& other) noexcept {
  if (this != &other) Replace(std::move(other));
  return *this;
}

std::shared_ptr<const GraphRegistry::Graphs> GraphRegistry::Current() const {
  std::lock_guard lock(mutex_);
  return graphs_;
}

void GraphRegistry::Replace(GraphRegistry&& next) {
  std::shared_ptr<const Graphs> graphs = next.Current();
  {
    std::lock_guard lock(next.mutex_);
    next.graphs_ = std::make_shared<const Graphs>();
  }
  std::lock_guard lock(mutex_);
  graphs_ = std::move(graphs);
}

Result<GraphRegistry> GraphRegistry::FromConfig(const config::Config& config,
                                                std::vector<graph::GraphDef> graph_files) {
  Building registry;
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
    // Only the configuration's own react graphs: an agent node's react loop takes its model and
    // prompt from the node, not from the run's knobs.
    if (spec.kind == "react") SetReactKnobs(config, *info);
    registry.graphs_.push_back(std::move(*info));
  }
  for (auto& def : graph_files) {
    if (registry.Find(def.graph_id) != nullptr) {
      return MakeError(Errc::kInvalidArgument,
                       fmt::format("{}: graph \"{}\": declared twice", def.file, def.graph_id));
    }
    GraphInfo info = DescribeFile(std::move(def));
    // An llm node without `model` uses the configuration's first model; the tools node runs
    // the tools any llm node offers.
    if (!config.models.empty()) info.spec.model = config.models.front().name;
    for (const auto& node : info.def->nodes) {
      for (const auto& t : node.tools) {
        if (std::find(info.spec.tools.begin(), info.spec.tools.end(), t.ref.name) == info.spec.tools.end()) {
          info.spec.tools.push_back(t.ref.name);
        }
        if (t.client) {
          config::ToolSpec client;
          client.name = t.ref.name;
          client.kind = "client";
          client.description = t.description;
          client.parameters = t.parameters;
          info.client_tools.push_back(std::move(client));
        }
      }
    }
    registry.graphs_.push_back(std::move(info));
  }
  // Subgraph and agent nodes: each gets the graph it runs, resolved children first (the
  // validator refused cycles); the parent's tools include its subgraphs' (a run resolves them
  // once, for the whole tree).
  std::map<std::string, int> done;  // graph_id -> index, once resolved
  std::function<Status(GraphInfo&)> resolve = [&](GraphInfo& info) -> Status {
    if (!info.def) return {};
    for (const auto& node : info.def->nodes) {
      std::shared_ptr<GraphInfo> child;
      if (node.kind == graph::NodeKind::kSubgraph) {
        auto it = std::find_if(registry.graphs_.begin(), registry.graphs_.end(),
                               [&](const GraphInfo& g) { return g.graph_id == node.graph.name; });
        if (it == registry.graphs_.end()) {
          return MakeError(Errc::kInvalidArgument, fmt::format("graph \"{}\" node {}: unknown graph \"{}\"",
                                                               info.graph_id, node.name, node.graph.name));
        }
        if (done.count(it->graph_id) == 0) {
          if (auto st = resolve(*it); !st) return st;
        }
        child = std::make_shared<GraphInfo>(*it);
      } else if (node.kind == graph::NodeKind::kAgent) {
        config::GraphSpec spec;
        spec.graph_id = info.graph_id + ":" + node.name;
        spec.kind = "react";
        spec.model = node.model.is_string() ? std::string(node.model.get_string()) : info.spec.model;
        if (node.system.is_string()) spec.system_prompt = std::string(node.system.get_string());
        for (const auto& t : node.tools) spec.tools.push_back(t.ref.name);
        auto described = Describe(config, spec);
        if (!described) return described.error();
        child = std::make_shared<GraphInfo>(std::move(*described));
      } else {
        continue;
      }
      for (const auto& t : child->spec.tools) {
        if (std::find(info.spec.tools.begin(), info.spec.tools.end(), t) == info.spec.tools.end()) {
          info.spec.tools.push_back(t);
        }
      }
      info.subgraphs[node.name] = std::move(child);
    }
    done[info.graph_id] = 1;
    return {};
  };
  for (auto& info : registry.graphs_) {
    if (done.count(info.graph_id) == 0) {
      if (auto st = resolve(info); !st) return st.error();
    }
  }
  GraphRegistry out;
  out.graphs_ = std::make_shared<const Graphs>(std::move(registry.graphs_));
  return out;
}

std::shared_ptr<const GraphInfo> GraphRegistry::Find(std::string_view graph_id) const {
  std::shared_ptr<const Graphs> graphs = Current();
  for (const auto& g : *graphs) {
    // Shares ownership of the whole version: the graph lives as long as the pointer.
    if (g.graph_id == graph_id) return std::shared_ptr<const GraphInfo>(graphs, &g);
  }
  return nullptr;
}

}  // namespace agentd::runtime

