#include "runtime/nodes.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/uuid.hpp"
#include "runtime/graph_file_nodes.hpp"
#include "runtime/messages.hpp"
#include "runtime/model_node.hpp"
#include "runtime/run_observer.hpp"
#include "runtime/tools.hpp"

namespace agentd::runtime {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

std::string_view TypeOf(const json::value& message) {
  const auto* t = message.is_object() ? message.get_object().if_contains("type") : nullptr;
  return t != nullptr && t->is_string() ? std::string_view(t->get_string()) : std::string_view();
}

// The last ai message's tool calls, or null when the last message is not an ai message with
// tool calls (react's routing condition).
const json::array* PendingToolCalls(const GraphState& state) {
  if (state.messages.empty() || TypeOf(state.messages.back()) != "ai") return nullptr;
  const auto* calls = state.messages.back().get_object().if_contains("tool_calls");
  if (calls == nullptr || !calls->is_array() || calls->get_array().empty()) return nullptr;
  return &calls->get_array();
}

json::object EchoNode(const GraphState& state) {
  std::string text;
  for (auto it = state.messages.rbegin(); it != state.messages.rend(); ++it) {
    if (TypeOf(*it) == "human") {
      text = ContentText(it->get_object().at("content"));
      break;
    }
  }
  json::object reply{
      {"content", "echo: " + text},
      {"additional_kwargs", json::object{}},
      {"response_metadata", json::object{}},
      {"tool_calls", json::array{}},
      {"invalid_tool_calls", json::array{}},
      {"id", NewUuid4()},
      {"type", "ai"},
  };
  return {{"messages", json::array{std::move(reply)}}};
}

// The spec of the graph's tool `name`, or null when the graph does not offer it.
const config::ToolSpec* OfferedTool(const RunContext& ctx, std::string_view name) {
  for (const config::ToolSpec* t : ctx.tools) {
    if (t->name == name) return t;
  }
  return nullptr;
}

asio::awaitable<Result<json::object>> ToolsNode(RunContext& ctx, const TaskInfo& task,
                                                const GraphState& state,
                                                const std::vector<std::string>* allowed = nullptr) {
  const json::array* calls = PendingToolCalls(state);
  if (calls == nullptr) co_return json::object{{"messages", json::array{}}};
  co_return co_await RunToolCalls(ctx, task, *calls, allowed);
}

}  // namespace

json::object MakeToolMessage(std::string_view call_id, std::string_view name, std::string content,
                             bool ok) {
  return json::object{
      {"status", ok ? "success" : "error"},
      {"content", std::move(content)},
      {"tool_call_id", call_id},
      {"name", name},
      {"additional_kwargs", json::object{}},
      {"response_metadata", json::object{}},
      {"id", NewUuid4()},
      {"type", "tool"},
  };
}

asio::awaitable<Result<json::object>> RunToolCalls(RunContext& ctx, const TaskInfo& task,
                                                   const json::array& call_list,
                                                   const std::vector<std::string>* allowed) {
  json::array messages;
  const json::array* calls = &call_list;

  struct Call {
    std::string id;
    std::string name;
    json::value args;
    std::string event_run_id;  // events mode: the tool's run; empty = no tool ran
    std::shared_ptr<ToolTiming> timing;  // the run's trace, when observed (TimedTool)
  };
  std::vector<Call> meta;
  auto executor = co_await asio::this_coro::executor;
  using Op = decltype(asio::co_spawn(executor, std::declval<asio::awaitable<ToolOutcome>>(),
                                     asio::deferred));
  std::vector<Op> ops;
  for (const auto& c : *calls) {
    const json::object* call = c.is_object() ? &c.get_object() : nullptr;
    Call info;
    json::value args = json::object{};
    if (call != nullptr) {
      if (const auto* v = call->if_contains("id"); v && v->is_string()) info.id = v->get_string();
      if (const auto* v = call->if_contains("name"); v && v->is_string()) {
        info.name = v->get_string();
      }
      if (const auto* v = call->if_contains("args")) args = *v;
    }
    // The reference's ToolNode runs only tools it knows: those get on_tool_start/end (4.3),
    // an unknown name becomes an error message without tool events.
    const config::ToolSpec* spec = OfferedTool(ctx, info.name);
    // A tools node's filter (docs/graphs.md): another tool's call is answered, not run, like
    // an unknown one.
    std::string refused = fmt::format("Error: Tool \"{}\" not found.", info.name);
    if (allowed != nullptr && std::find(allowed->begin(), allowed->end(), info.name) == allowed->end()) {
      refused = fmt::format("Error: tool \"{}\" is not run by node \"{}\" (its tools: {}).", info.name, task.node,
                            fmt::join(*allowed, ", "));
      spec = nullptr;
    }
    const bool offered = spec != nullptr;
    if (offered && ctx.Wants(StreamMode::kEvents)) {
      info.event_run_id = NewUuid4();
      info.args = args;
      ctx.Emit("events", ChildEvent(ctx, task, "on_tool_start", info.name, info.event_run_id,
                                    "langgraph", json::object{{"input", args}}));
    }
    asio::awaitable<ToolOutcome> work =
        offered
            ? InvokeTool(*spec, std::move(args), ctx.http, ctx.external)
            : [](std::string why) -> asio::awaitable<ToolOutcome> {
                co_return ToolOutcome{std::move(why), false};
              }(std::move(refused));
    if (ctx.request.observer != nullptr) {
      info.timing = std::make_shared<ToolTiming>();
      work = TimedTool(std::move(work), info.timing);
    }
    ops.push_back(asio::co_spawn(executor, std::move(work), asio::deferred));
    meta.push_back(std::move(info));
  }
  // Every call runs at once; cancelling this coroutine cancels them all (parallel_group
  // forwards the slot).
  auto [order, errors, outcomes] =
      co_await asio::experimental::make_parallel_group(std::move(ops))
          .async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
  (void)order;
  if ((co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none) {
    co_return MakeError(Errc::kCancelled, "run cancelled during tool calls");
  }
  for (std::size_t i = 0; i < meta.size(); ++i) {
    ToolOutcome outcome = errors[i] ? ToolOutcome{"Error: tool raised an exception", false}
                                    : std::move(outcomes[i]);
    json::object message = MakeToolMessage(meta[i].id, meta[i].name, std::move(outcome.content), outcome.ok);
    if (!meta[i].event_run_id.empty()) {
      // A failed tool raises in LangChain (on_tool_error); ToolNode then answers with the
      // error message.
      json::object data = outcome.ok ? json::object{{"output", message}}
                                     : json::object{{"error", message.at("content")}};
      data["input"] = meta[i].args;
      ctx.Emit("events", ChildEvent(ctx, task, outcome.ok ? "on_tool_end" : "on_tool_error",
                                    meta[i].name, meta[i].event_run_id, "langgraph",
                                    std::move(data)));
    }
    if (ctx.request.observer != nullptr) {
      ctx.request.observer->ToolCalled(task, ToolCallFor(meta[i].timing, meta[i].name, meta[i].id,
                                                         *calls, i, message));
    }
    messages.push_back(std::move(message));
  }
  co_return json::object{{"messages", std::move(messages)}};
}

asio::awaitable<Result<json::object>> ToolsNodeFor(RunContext& ctx, const TaskInfo& task,
                                                   const GraphState& state,
                                                   const std::vector<std::string>* allowed) {
  co_return co_await ToolsNode(ctx, task, state, allowed);
}

asio::awaitable<Result<json::object>> RunNode(RunContext& ctx, TaskInfo task,
                                              const GraphState& state) {
  if (ctx.graph.def) co_return co_await RunGraphFileNode(ctx, task, state);
  if (task.node == "echo") co_return EchoNode(state);
  if (task.node == "model") co_return co_await ModelNode(ctx, task, state);
  if (task.node == "tools") co_return co_await ToolsNode(ctx, task, state);
  co_return MakeError(Errc::kInvalidArgument, fmt::format("unknown node \"{}\"", task.node));
}

Result<std::vector<std::string>> RouteAfter(const GraphInfo& graph, std::string_view node,
                                            const GraphState& state) {
  if (graph.def) return RouteGraphFile(graph, node, state);
  return NextNodes(graph, node, state);
}

std::vector<std::string> NextNodes(const GraphInfo& graph, std::string_view node,
                                   const GraphState& state) {
  if (graph.def) {
    auto next = RouteGraphFile(graph, node, state);
    return next ? std::move(*next) : std::vector<std::string>{};
  }
  if (graph.kind == "react" && node == "model") {
    if (PendingToolCalls(state) != nullptr) return {"tools"};
    return {};
  }
  std::vector<std::string> next;
  for (const auto& e : graph.edges) {
    if (e.source == node && e.target != "__end__") next.push_back(e.target);
  }
  return next;
}

bool StreamsTokens(const GraphInfo& graph, std::string_view node) {
  if (graph.def) {
    const graph::NodeDef* def = graph.def->FindNode(node);
    return def != nullptr && def->kind == graph::NodeKind::kLlm;
  }
  return node == "model";
}

bool IsSubgraphNode(const GraphInfo& graph, std::string_view node) {
  if (!graph.def) return false;
  const graph::NodeDef* def = graph.def->FindNode(node);
  return def != nullptr && (def->kind == graph::NodeKind::kSubgraph || def->kind == graph::NodeKind::kAgent);
}

bool HasConditionalEdges(const GraphInfo& graph, std::string_view node) {
  if (graph.def) {
    for (const auto& e : graph.edges) {
      if (e.source == node && e.conditional) return true;
    }
    return false;
  }
  return graph.kind == "react" && node == "model";
}

std::vector<std::string> EntryNodes(const GraphInfo& graph) {
  std::vector<std::string> next;
  for (const auto& e : graph.edges) {
    if (e.source == "__start__" && e.target != "__end__") next.push_back(e.target);
  }
  return next;
}

}  // namespace agentd::runtime
