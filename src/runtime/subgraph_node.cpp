#include "runtime/subgraph_node.hpp"

#include <algorithm>
#include <map>
#include <utility>

#include <boost/asio/this_coro.hpp>
#include <fmt/format.h>

#include "common/uuid.hpp"
#include "runtime/graph_file_nodes.hpp"
#include "runtime/nodes.hpp"

namespace agentd::runtime {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

// The parent's sink as the subgraph sees it: with stream_subgraphs, the modes that LangGraph
// namespaces (values, updates, messages-tuple) reach the client as "<mode>|<ns>"; otherwise
// (and for every other mode) the subgraph's events are dropped.
class NamespacedSink final : public RunEventSink {
 public:
  NamespacedSink(RunContext& parent, std::string ns, bool forward)
      : parent_(parent), ns_(std::move(ns)), forward_(forward) {}
  bool Wants(StreamMode mode) const override {
    if (!forward_) return false;
    return (mode == StreamMode::kValues || mode == StreamMode::kUpdates || mode == StreamMode::kMessagesTuple) &&
           parent_.Wants(mode);
  }
  void Emit(std::string_view event, json::value data) override {
    parent_.Emit(fmt::format("{}|{}", event, ns_), std::move(data));
  }

 private:
  RunContext& parent_;
  std::string ns_;
  bool forward_;
};

std::set<std::string> ChannelsWith(const GraphInfo& graph, std::string_view reducer) {
  std::set<std::string> out;
  for (const auto& [name, r] : graph.spec.channels) {
    if (r == reducer) out.insert(name);
  }
  return out;
}

Error NodeError(const RunContext& ctx, const graph::NodeDef& node, std::string_view problem,
                Errc code = Errc::kInvalidArgument) {
  return MakeError(code, fmt::format("graph {} node {}: {}", ctx.graph.graph_id, node.name, problem));
}

// The subgraph's starting state: `messages`, and each of its channels from the parent channel
// the node's `input` map names (default: the same name) when the parent has it.
GraphState InputState(const GraphInfo& child, const graph::NodeDef& node, const GraphState& parent) {
  GraphState sub;
  sub.messages = parent.messages;
  sub.append_channels = ChannelsWith(child, "append");
  sub.message_channels = ChannelsWith(child, "add_messages");
  if (!child.def) return sub;
  for (const auto& c : child.def->channels) {
    if (c.name == "messages") continue;
    auto mapped = node.input_map.find(c.name);
    const std::string& from = mapped != node.input_map.end() ? mapped->second : c.name;
    if (const auto* v = parent.channels.if_contains(from)) sub.channels[c.name] = *v;
  }
  return sub;
}

// The node's update: the subgraph's whole output state, `messages` and, for each parent
// channel in the `output` map (default: the subgraph's channels the parent also declares),
// its value.
json::object OutputUpdate(const RunContext& ctx, const graph::NodeDef& node, const GraphState& sub) {
  json::object update{{"messages", sub.messages}};
  if (!node.output_map.empty()) {
    for (const auto& [parent, child] : node.output_map) {
      if (const auto* v = sub.channels.if_contains(child)) update[parent] = *v;
    }
    return update;
  }
  for (const auto& [name, value] : sub.channels) {
    if (ctx.graph.def && ctx.graph.def->FindChannel(name) != nullptr) update[name] = value;
  }
  return update;
}

}  // namespace

asio::awaitable<Result<json::object>> SubgraphNode(RunContext& ctx, const TaskInfo& task, const GraphState& state,
                                                   const graph::NodeDef& node) {
  auto found = ctx.graph.subgraphs.find(node.name);
  if (found == ctx.graph.subgraphs.end() || !found->second) {
    co_return NodeError(ctx, node, "its subgraph was not resolved at start");
  }
  const GraphInfo& child = *found->second;
  const std::string ns = ctx.ns_prefix + task.node + ":" + task.id;
  NamespacedSink sink(ctx, ns, ctx.request.stream_subgraphs);
  // The child's tools: the names it uses, resolved by the parent (its spec.tools include them).
  std::vector<const config::ToolSpec*> tools;
  for (const config::ToolSpec* t : ctx.tools) {
    if (std::find(child.spec.tools.begin(), child.spec.tools.end(), t->name) != child.spec.tools.end()) {
      tools.push_back(t);
    }
  }
  RunContext sub_ctx{child,    ctx.request,      sink, ctx.models, ctx.http, ctx.external,
                     tools,    ctx.run_metadata, {},   {},         {}};
  sub_ctx.ns_prefix = ns + "|";
  GraphState sub = InputState(child, node, state);
  auto emit_values = [&] {
    if (sub_ctx.Wants(StreamMode::kValues)) sub_ctx.Emit("values", sub.Values());
  };
  emit_values();
  const int limit = node.kind == graph::NodeKind::kAgent ? node.max_steps : ctx.request.recursion_limit;
  std::vector<std::string> next = EntryNodes(child);
  int step = 0;
  auto finish = [&]() { ctx.usage.input_tokens += sub_ctx.usage.input_tokens;
                        ctx.usage.output_tokens += sub_ctx.usage.output_tokens; };
  while (!next.empty()) {
    if (step >= limit) {
      finish();
      co_return NodeError(ctx, node, fmt::format("subgraph {} reached its limit of {} steps", child.graph_id, limit));
    }
    if ((co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none) {
      finish();
      co_return MakeError(Errc::kCancelled, "run cancelled");
    }
    ++step;
    std::vector<TaskInfo> tasks;
    for (const auto& n : next) tasks.push_back(TaskInfo{NewUuid4(), n, step});
    std::optional<GraphState> snapshot;
    if (tasks.size() > 1) snapshot = sub;
    const GraphState& before = snapshot ? *snapshot : sub;
    std::map<std::string, std::vector<std::string>> gotos;
    for (const auto& t : tasks) {
      auto update = co_await RunNode(sub_ctx, t, before);
      if (!update) {
        finish();
        if (update.error().code == Errc::kCancelled) co_return update.error();
        co_return NodeError(ctx, node, fmt::format("subgraph {}: {}", child.graph_id, update.error().message),
                            update.error().code);
      }
      if (update->contains(kInterruptKey)) {
        finish();
        co_return NodeError(ctx, node,
                            fmt::format("subgraph {} node {} paused (interrupt): interrupts inside a subgraph "
                                        "are not supported yet",
                                        child.graph_id, t.node),
                            Errc::kUnsupported);
      }
      if (auto* go = update->if_contains(kGotoKey)) {
        std::vector<std::string> targets;
        if (go->is_string()) targets.emplace_back(go->get_string());
        if (go->is_array()) {
          for (const auto& v : go->get_array()) {
            if (v.is_string()) targets.emplace_back(v.get_string());
          }
        }
        gotos[t.node] = std::move(targets);
        update->erase(kGotoKey);
      }
      auto applied = ApplyUpdate(sub, *update);
      if (!applied) {
        finish();
        co_return NodeError(ctx, node, fmt::format("subgraph {} node {}: {}", child.graph_id, t.node,
                                                   applied.error().message));
      }
      if (!StreamsTokens(child, t.node)) {
        for (const auto& m : applied->message_writes) EmitWholeMessage(sub_ctx, t, m);
      }
      if (sub_ctx.Wants(StreamMode::kUpdates)) sub_ctx.Emit("updates", json::object{{t.node, applied->update}});
    }
    std::vector<std::string> following;
    for (const auto& t : tasks) {
      auto go = gotos.find(t.node);
      auto routed = go != gotos.end() ? Result<std::vector<std::string>>(go->second) : RouteAfter(child, t.node, sub);
      if (!routed) {
        finish();
        co_return NodeError(ctx, node, fmt::format("subgraph {}: {}", child.graph_id, routed.error().message));
      }
      for (auto& n : *routed) {
        if (n == "__end__") continue;
        if (std::find(following.begin(), following.end(), n) == following.end()) following.push_back(std::move(n));
      }
    }
    next = std::move(following);
    emit_values();
  }
  finish();
  co_return OutputUpdate(ctx, node, sub);
}

}  // namespace agentd::runtime
