#include "graph/validator.hpp"

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <set>

#include <fmt/format.h>

#include "config/catalog.hpp"
#include "graph/templates.hpp"

namespace agentd::graph {
namespace {

bool Contains(const std::vector<std::string>& list, std::string_view name) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

std::string List(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out.empty() ? "none" : out;
}

class Checker {
 public:
  Checker(const GraphDef& def, const Catalog& catalog, Diagnostics& diags)
      : def_(def), catalog_(catalog), diags_(diags) {
    for (const auto& n : def.nodes) node_names_.push_back(n.name);
  }

  void Error(Mark mark, const std::string& path, std::string message) {
    diags_.AddIn(def_.file, mark, path, std::move(message));
  }

  bool IsChannel(std::string_view name) const { return def_.FindChannel(name) != nullptr; }

  std::vector<std::string> ChannelNames() const {
    std::vector<std::string> out;
    for (const auto& c : def_.channels) out.push_back(c.name);
    return out;
  }

  void Channel(const Ref& ref, std::string_view what) {
    if (!IsChannel(ref.name)) {
      Error(ref.mark, ref.path,
            fmt::format("{} \"{}\" is not a declared channel (declared: {})", what, ref.name, List(ChannelNames())));
    }
  }

  void Model(const NodeDef& node) {
    const std::string path = fmt::format("nodes.{}.model", node.name);
    if (node.model.is_null()) {
      if (catalog_.models.empty()) Error(node.mark, path, "no model given and the configuration declares none");
      return;
    }
    const std::string_view text = node.model.get_string();
    auto placeholders = ParsePlaceholders(text);
    if (!placeholders) return;  // the parser reported it
    if (placeholders->empty()) {
      if (!Contains(catalog_.models, text)) {
        Error(node.model_mark, path, fmt::format("unknown model \"{}\" (configured: {})", text, List(catalog_.models)));
      }
      return;
    }
    // "{{config.<knob>}}": the knob's default must be a model too.
    const auto& p = placeholders->front();
    if (placeholders->size() == 1 && p.root == "config" && p.path.size() == 1 &&
        p.begin == 0 && p.end == text.size()) {
      const KnobDef* knob = def_.FindKnob(p.path.front());
      if (knob != nullptr && knob->default_value.is_string() &&
          !Contains(catalog_.models, knob->default_value.get_string())) {
        Error(knob->mark, fmt::format("configurable.{}.default", knob->name),
              fmt::format("unknown model \"{}\" (configured: {}); the knob is node {}'s model",
                          std::string_view(knob->default_value.get_string()), List(catalog_.models), node.name));
      }
    }
  }

  void Tools(const NodeDef& node) {
    for (const auto& t : node.tools) {
      const bool configured = Contains(catalog_.tools, t.ref.name) ||
                              config::McpClaims(catalog_.mcp_servers, t.ref.name) != nullptr;
      if (t.client && node.kind == NodeKind::kAgent) {
        Error(t.ref.mark, t.ref.path,
              "client tools are not supported in agent nodes yet (an interrupt inside a subgraph fails the run)");
        continue;
      }
      if (t.client) {
        // One declaration per graph: other nodes name it; a configured tool's name would be
        // ambiguous (run here or by the client?).
        if (configured) {
          Error(t.ref.mark, t.ref.path,
                fmt::format("client tool \"{}\" has the name of a configured tool; rename one of them", t.ref.name));
        }
        const ToolUse* first = def_.FindClientTool(t.ref.name);
        if (first != &t) {
          Error(t.ref.mark, t.ref.path,
                fmt::format("client tool \"{}\" is already declared at {}:{} ({}); name it here without kind",
                            t.ref.name, first->ref.mark.line, first->ref.mark.column, first->ref.path));
        }
        continue;
      }
      if (!configured && def_.FindClientTool(t.ref.name) == nullptr) {
        Error(t.ref.mark, t.ref.path,
              fmt::format("unknown tool \"{}\" (configured: {})", t.ref.name, List(catalog_.tools)));
      }
    }
  }

  void Nodes() {
    for (const auto& node : def_.nodes) {
      if (node.kind == NodeKind::kLlm || node.kind == NodeKind::kAgent) {
        Model(node);
        Tools(node);
        if (node.output) Channel(node.output->channel, "output channel");
        if (node.output && node.output->channel.name == "messages") {
          Error(node.output->channel.mark, node.output->channel.path,
                "structured output goes to a channel of its own, not messages");
        }
      }
      if (node.kind == NodeKind::kTools) Tools(node);
      for (const auto& c : node.update_channels) Channel(c, "update of");
      for (const auto& [channel, cases] : node.cases) {
        for (const auto& c : cases) {
          if (!c.when) continue;
          std::vector<const Condition*> reads;
          CollectChannels(*c.when, reads);
          for (const Condition* r : reads) {
            if (!IsChannel(r->channel)) {
              Error(r->mark, r->path + ".channel",
                    fmt::format("\"{}\" is not a declared channel (declared: {})", r->channel, List(ChannelNames())));
            }
          }
        }
      }
      if (node.resume_to) Channel(*node.resume_to, "resume_to");
      for (const auto& end : node.ends) NodeRef(end, /*source=*/false);
      if (node.kind == NodeKind::kSubgraph) {
        for (const auto& [sub, parent] : node.input_map) {
          if (!IsChannel(parent)) {
            Error(node.mark, fmt::format("nodes.{}.input.{}", node.name, sub),
                  fmt::format("\"{}\" is not a declared channel", parent));
          }
        }
        for (const auto& [parent, sub] : node.output_map) {
          if (!IsChannel(parent)) {
            Error(node.mark, fmt::format("nodes.{}.output.{}", node.name, parent),
                  fmt::format("\"{}\" is not a declared channel", parent));
          }
        }
      }
    }
  }

  // `source`: the ref is an edge's `from` (may be __start__, not __end__).
  bool NodeRef(const Ref& ref, bool source) {
    if (ref.name == (source ? kStart : kEnd)) return true;
    if (ref.name == (source ? kEnd : kStart)) {
      Error(ref.mark, ref.path, fmt::format("an edge cannot {} {}", source ? "start at" : "lead to", ref.name));
      return false;
    }
    if (!Contains(node_names_, ref.name)) {
      Error(ref.mark, ref.path, fmt::format("unknown node \"{}\" (nodes: {})", ref.name, List(node_names_)));
      return false;
    }
    return true;
  }

  void Edges() {
    bool has_start = false;
    for (const auto& edge : def_.edges) {
      for (const auto& from : edge.from) {
        if (NodeRef(from, true) && from.name == kStart) has_start = true;
      }
      for (const auto& to : edge.to) NodeRef(to, false);
      for (const auto& branch : edge.branches) {
        for (const auto& to : branch.to) NodeRef(to, false);
        if (branch.when) {
          std::vector<const Condition*> reads;
          CollectChannels(*branch.when, reads);
          for (const Condition* c : reads) {
            if (!IsChannel(c->channel)) {
              Error(c->mark, c->path + ".channel",
                    fmt::format("\"{}\" is not a declared channel (declared: {})", c->channel, List(ChannelNames())));
            }
          }
        }
      }
    }
    if (!has_start && !def_.nodes.empty()) {
      Error(Mark{1, 1}, "edges", "no edge from __start__: add {from: __start__, to: <first node>}");
    }
  }

  // node -> successors (edges, branches, declared goto targets).
  std::map<std::string, std::set<std::string>> Successors() const {
    std::map<std::string, std::set<std::string>> out;
    for (const auto& edge : def_.edges) {
      for (const auto& from : edge.from) {
        for (const auto& to : edge.to) out[from.name].insert(to.name);
        for (const auto& b : edge.branches) {
          for (const auto& to : b.to) out[from.name].insert(to.name);
        }
      }
    }
    for (const auto& node : def_.nodes) {
      for (const auto& end : node.ends) out[node.name].insert(end.name);
    }
    return out;
  }

  void Reachability() {
    const auto next = Successors();
    std::set<std::string> from_start{std::string(kStart)};
    std::deque<std::string> queue{std::string(kStart)};
    while (!queue.empty()) {
      const std::string n = queue.front();
      queue.pop_front();
      auto it = next.find(n);
      if (it == next.end()) continue;
      for (const auto& s : it->second) {
        if (from_start.insert(s).second) queue.push_back(s);
      }
    }
    std::map<std::string, std::set<std::string>> previous;
    for (const auto& [from, tos] : next) {
      for (const auto& to : tos) previous[to].insert(from);
    }
    std::set<std::string> to_end{std::string(kEnd)};
    queue = {std::string(kEnd)};
    while (!queue.empty()) {
      const std::string n = queue.front();
      queue.pop_front();
      auto it = previous.find(n);
      if (it == previous.end()) continue;
      for (const auto& p : it->second) {
        if (to_end.insert(p).second) queue.push_back(p);
      }
    }
    for (const auto& node : def_.nodes) {
      const std::string path = fmt::format("nodes.{}", node.name);
      if (from_start.count(node.name) == 0) {
        Error(node.mark, path, "unreachable: no edge from __start__ leads here");
      }
      if (next.count(node.name) == 0) {
        Error(node.mark, path, fmt::format("no outgoing edge: add {{from: {}, to: __end__}} or another edge",
                                           node.name));
      } else if (to_end.count(node.name) == 0) {
        Error(node.mark, path, "no way to __end__ from this node (every path loops forever)");
      }
    }
  }

  void Templates() {
    for (const auto& t : def_.templates) {
      if (t.root == "state" && !IsChannel(t.name)) {
        Error(t.mark, t.path,
              fmt::format("{{{{state.{}}}}}: \"{}\" is not a declared channel (declared: {})", t.name, t.name,
                          List(ChannelNames())));
      } else if (t.root == "config" && def_.FindKnob(t.name) == nullptr) {
        std::vector<std::string> knobs;
        for (const auto& k : def_.knobs) knobs.push_back(k.name);
        Error(t.mark, t.path,
              fmt::format("{{{{config.{}}}}}: \"{}\" is not a declared knob (configurable: {})", t.name, t.name,
                          List(knobs)));
      }
    }
  }

  void InputOutput() {
    for (const auto* refs : {&def_.input_refs, &def_.output_refs}) {
      for (const auto& r : *refs) Channel(r, refs == &def_.input_refs ? "input" : "output");
    }
  }

  void Run() {
    Nodes();
    Edges();
    Reachability();
    Templates();
    InputOutput();
  }

 private:
  const GraphDef& def_;
  const Catalog& catalog_;
  Diagnostics& diags_;
  std::vector<std::string> node_names_;
};

}  // namespace

void ValidateGraph(const GraphDef& def, const Catalog& catalog, Diagnostics& diags) {
  Checker(def, catalog, diags).Run();
}

void ValidateSet(const std::vector<GraphDef>& defs, const Catalog& catalog, Diagnostics& diags) {
  std::map<std::string, const GraphDef*> by_id;
  for (const auto& def : defs) {
    if (def.graph_id.empty()) continue;
    if (Contains(catalog.builtin_graphs, def.graph_id)) {
      diags.AddIn(def.file, def.graph_id_mark, "graph_id",
                  fmt::format("duplicate graph id \"{}\": the configuration already declares it", def.graph_id));
    } else if (auto [it, fresh] = by_id.emplace(def.graph_id, &def); !fresh) {
      diags.AddIn(def.file, def.graph_id_mark, "graph_id",
                  fmt::format("duplicate graph id \"{}\" (also in {}:{})", def.graph_id, it->second->file,
                              it->second->graph_id_mark.line));
    }
  }
  // Subgraph references, then cycles (depth-first over graph -> subgraph graph ids).
  std::map<std::string, std::vector<const NodeDef*>> children;
  for (const auto& def : defs) {
    for (const auto& node : def.nodes) {
      if (node.kind != NodeKind::kSubgraph || node.graph.name.empty()) continue;
      const bool known = by_id.count(node.graph.name) > 0 || Contains(catalog.builtin_graphs, node.graph.name);
      if (!known) {
        std::vector<std::string> ids = catalog.builtin_graphs;
        for (const auto& [id, _] : by_id) ids.push_back(id);
        diags.AddIn(def.file, node.graph.mark, node.graph.path,
                    fmt::format("unknown graph \"{}\" (graphs: {})", node.graph.name, List(ids)));
        continue;
      }
      if (auto it = by_id.find(node.graph.name); it != by_id.end()) {
        for (const auto& [sub, parent] : node.input_map) {
          if (it->second->FindChannel(sub) == nullptr) {
            diags.AddIn(def.file, node.mark, fmt::format("nodes.{}.input.{}", node.name, sub),
                        fmt::format("graph \"{}\" has no channel \"{}\"", node.graph.name, sub));
          }
        }
        for (const auto& [parent, sub] : node.output_map) {
          if (it->second->FindChannel(sub) == nullptr) {
            diags.AddIn(def.file, node.mark, fmt::format("nodes.{}.output.{}", node.name, parent),
                        fmt::format("graph \"{}\" has no channel \"{}\"", node.graph.name, sub));
          }
        }
      }
      if (by_id.count(def.graph_id) && by_id[def.graph_id] == &def) children[def.graph_id].push_back(&node);
    }
  }
  // A cycle is reported once, at the subgraph node that closes it.
  std::map<std::string, int> state;  // 0 new, 1 on the stack, 2 done
  std::function<void(const std::string&, const GraphDef&)> visit = [&](const std::string& id, const GraphDef& def) {
    state[id] = 1;
    for (const NodeDef* node : children[id]) {
      const std::string& sub = node->graph.name;
      auto it = by_id.find(sub);
      if (it == by_id.end()) continue;
      if (state[sub] == 1) {
        diags.AddIn(def.file, node->graph.mark, node->graph.path,
                    fmt::format("subgraph cycle: graph \"{}\" contains itself through \"{}\"", sub, id));
      } else if (state[sub] == 0) {
        visit(sub, *it->second);
      }
    }
    state[id] = 2;
  };
  for (const auto& [id, def] : by_id) {
    if (state[id] == 0) visit(id, *def);
  }
}

}  // namespace agentd::graph
