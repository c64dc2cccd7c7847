#include "runtime/executor.hpp"

#include <algorithm>
#include <map>
#include <utility>

#include <boost/asio/this_coro.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/system/system_error.hpp>
#include <fmt/format.h>

#include "common/uuid.hpp"
#include "runtime/checkpoint_writer.hpp"
#include "runtime/graph_file_nodes.hpp"
#include "runtime/messages.hpp"
#include "runtime/nodes.hpp"
#include "runtime/run_context.hpp"
#include "runtime/run_observer.hpp"
#include "runtime/state.hpp"
#include "runtime/tools.hpp"
#include "storage/storage.hpp"

namespace agentd::runtime {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

// `spec.tools` resolved against `catalog`, in the graph's order. The registry checked every name
// at start and a reload that drops one is refused (config/reload.cpp), so none is missing.
// Pointers, not copies (a run would copy every tool's schema): the run holds its catalog.
// Names not in the file's tools come from `external` (MCP servers; the run holds that snapshot
// too); one no server offers right now is left out for this run.
std::vector<const config::ToolSpec*> ResolveTools(const config::GraphSpec& spec,
                                                  const std::vector<config::ToolSpec>& catalog,
                                                  const std::vector<config::ToolSpec>* external) {
  std::vector<const config::ToolSpec*> out;
  out.reserve(spec.tools.size());
  for (const auto& name : spec.tools) {
    auto named = [&](const config::ToolSpec& t) { return t.name == name; };
    auto found = std::find_if(catalog.begin(), catalog.end(), named);
    if (found != catalog.end()) {
      out.push_back(&*found);
    } else if (external != nullptr) {
      auto ext = std::find_if(external->begin(), external->end(), named);
      if (ext != external->end()) out.push_back(&*ext);
    }
  }
  return out;
}

struct Loaded {
  GraphState state;
  std::optional<model::Checkpoint> checkpoint;  // the base (latest or the requested one)
};

// The thread's state at `checkpoint_id` (or its latest checkpoint): channels in full, the
// message log folded from the chain's writes, or taken from `cache` when the previous run on
// the thread left the fold of exactly this checkpoint there. Read once per run.
asio::awaitable<Result<Loaded>> LoadState(storage::CheckpointStore& store, StateCache& cache,
                                          const std::string& thread_id,
                                          const std::optional<std::string>& checkpoint_id) {
  Loaded loaded;
  if (checkpoint_id) {
    auto cp = co_await store.Get(thread_id, *checkpoint_id);
    if (!cp) co_return cp.error();
    loaded.checkpoint = std::move(*cp);
  } else {
    auto latest = co_await store.Latest(thread_id, "");
    if (!latest) co_return latest.error();
    loaded.checkpoint = std::move(*latest);
  }
  if (!loaded.checkpoint) co_return loaded;
  loaded.state.channels = loaded.checkpoint->channels;
  if (auto cached = cache.Take(thread_id, loaded.checkpoint->checkpoint_id)) {
    loaded.state.messages = std::move(*cached);
    co_return loaded;
  }
  auto writes = co_await store.MessageWrites(thread_id, loaded.checkpoint->checkpoint_id);
  if (!writes) co_return writes.error();
  loaded.state.messages = FoldMessages(*writes);
  co_return loaded;
}

int StepOf(const std::optional<model::Checkpoint>& cp) {
  if (!cp) return -2;  // so the first input checkpoint of a thread is step -1
  const auto* step = cp->metadata.if_contains("step");
  return step != nullptr && step->is_int64() ? static_cast<int>(step->get_int64()) : -1;
}

std::vector<std::string> Strings(const json::array& a) {
  std::vector<std::string> out;
  for (const auto& v : a) {
    if (v.is_string()) out.emplace_back(v.get_string());
  }
  return out;
}

bool Matches(const std::vector<std::string>& breakpoints, const std::vector<std::string>& nodes) {
  for (const auto& b : breakpoints) {
    if (b == "*" && !nodes.empty()) return true;
    if (std::find(nodes.begin(), nodes.end(), b) != nodes.end()) return true;
  }
  return false;
}

json::array ToArray(const std::vector<std::string>& nodes) {
  json::array out;
  for (const auto& n : nodes) out.emplace_back(n);
  return out;
}

// The channels the graph declares with `reducer` (config graphs[].channels, graph files).
std::set<std::string> ChannelsWith(const GraphInfo& graph, std::string_view reducer) {
  std::set<std::string> out;
  for (const auto& [name, r] : graph.spec.channels) {
    if (r == reducer) out.insert(name);
  }
  return out;
}
std::set<std::string> AppendChannels(const GraphInfo& graph) { return ChannelsWith(graph, "append"); }

RunOutcome Failed(RunOutcome outcome, Errc code, std::string message, std::string type) {
  outcome.kind = code == Errc::kCancelled ? RunOutcome::Kind::kCancelled : RunOutcome::Kind::kError;
  outcome.error = MakeError(code, std::move(message));
  outcome.error_type = std::move(type);
  return outcome;
}

// A LangGraph interrupt id: 32 hex digits.
std::string InterruptId() {
  std::string id = NewUuid4();
  id.erase(std::remove(id.begin(), id.end(), '-'), id.end());
  return id;
}

// The ids of the messages in `state`.
std::set<std::string> MessageIds(const GraphState& state) {
  std::set<std::string> out;
  for (const auto& m : state.messages) {
    const auto* id = m.is_object() ? m.get_object().if_contains("id") : nullptr;
    if (id != nullptr && id->is_string()) out.emplace(id->get_string());
  }
  return out;
}

bool Cancelled(asio::cancellation_state state) {
  return state.cancelled() != asio::cancellation_type::none;
}

// The goto targets of a command: a node name, a list of names, or Send objects {node, ...}.
// END ("__end__") is a valid target that runs nothing: LangGraph maps goto X to a write on
// the channel "branch:to:X", and no node listens on "branch:to:__end__", so the write is
// dropped. A command whose only target is END therefore writes its `input` checkpoint with
// next [] and the run ends there (success, thread idle), as the reference does for a command
// on a finished thread. (Here goto replaces where a paused thread would continue; LangGraph
// would also re-run the paused task.)
std::vector<std::string> GotoNodes(const json::value& go) {
  std::vector<std::string> out;
  auto add = [&](std::string_view node) {
    if (node != "__end__") out.emplace_back(node);
  };
  auto one = [&](const json::value& v) {
    if (v.is_string()) add(v.get_string());
    if (v.is_object()) {
      if (const auto* n = v.get_object().if_contains("node"); n && n->is_string()) {
        add(n->get_string());
      }
    }
  };
  if (go.is_array()) {
    for (const auto& v : go.get_array()) one(v);
  } else {
    one(go);
  }
  return out;
}

class RunLoop {
 public:
  RunLoop(RunContext& ctx, storage::CheckpointStore& store, GraphState state,
      std::optional<model::Checkpoint> base)
      : ctx_(ctx),
        state_(std::move(state)),
        base_(std::move(base)),
        writer_(store, ctx.request.thread_id,
                base_ ? std::optional<std::string>(base_->checkpoint_id) : std::nullopt),
        metadata_base_(CheckpointMetadataBase(ctx.request)),
        step_(StepOf(base_)) {}

  asio::awaitable<RunOutcome> Execute();

  // The message list as of the last checkpoint this run wrote, moved out for the StateCache;
  // nullopt when the run wrote nothing or its state moved past its last checkpoint (a failed
  // step applied writes that were never stored).
  std::optional<std::pair<std::string, json::array>> TakeCommittedMessages() {
    if (!synced_) return std::nullopt;
    if (!writer_.written().empty()) {
      return std::make_pair(writer_.written().back(), std::move(state_.messages));
    }
    if (base_) return std::make_pair(base_->checkpoint_id, std::move(state_.messages));
    return std::nullopt;
  }

 private:
  // Writes one checkpoint of the current state; marks the state as stored when it succeeds.
  asio::awaitable<Result<std::string>> Write(CheckpointWriter::Step step) {
    const std::string source = ctx_.request.observer != nullptr ? step.source : std::string();
    const int number = step.step;
    auto id = co_await writer_.Write(std::move(step), state_, metadata_base_, &ctx_);
    synced_ = id.has_value();
    if (id && ctx_.request.observer != nullptr) {
      ctx_.request.observer->CheckpointWritten(*id, source, number);
    }
    co_return id;
  }

  // Applies new input (input + input-applied checkpoints) or a command's update/goto (one
  // `input` checkpoint holding the update, as the reference writes it).
  asio::awaitable<std::optional<RunOutcome>> ApplyInput(const json::value& input,
                                                        std::optional<std::vector<std::string>> go,
                                                        bool command);
  asio::awaitable<std::optional<RunOutcome>> Superstep();
  // Ends the run paused at the nodes that called interrupt: one checkpoint with the other
  // tasks' writes and `next` = the paused nodes (their tasks carry the interrupts), then the
  // `__interrupt__` updates/values events.
  asio::awaitable<std::optional<RunOutcome>> Interrupted(
      json::object writes, json::array message_writes,
      std::map<std::string, std::pair<std::string, json::array>> paused);
  RunOutcome Pause(const json::array& interrupts = {});
  RunOutcome Done();
  RunOutcome Error(Errc code, std::string message, std::string type) {
    RunOutcome o = Done();
    return Failed(std::move(o), code, std::move(message), std::move(type));
  }
  // The routing function of a conditional edge, as LangChain reports it: a RunnableLambda
  // inside the task, reading the state with the task's writes, returning the target(s).
  void EmitRoutingEvents(const TaskInfo& task) {
    const std::vector<std::string> targets = NextNodes(ctx_.graph, task.node, state_);
    json::value output = targets.empty()       ? json::value("__end__")
                         : targets.size() == 1 ? json::value(targets.front())
                                               : json::value(ToArray(targets));
    const std::string run_id = NewUuid4();
    json::object input = state_.Values();
    ctx_.Emit("events", ChildEvent(ctx_, task, "on_chain_start", "RunnableLambda", run_id,
                                   "langgraph", json::object{{"input", input}}));
    ctx_.Emit("events", ChildEvent(ctx_, task, "on_chain_end", "RunnableLambda", run_id,
                                   "langgraph",
                                   json::object{{"output", std::move(output)},
                                                {"input", std::move(input)}}));
  }
  void EmitValues() {
    if (!ctx_.Wants(StreamMode::kValues)) return;
    // The event is a copy of the whole state that the sink serialises once: build it in one
    // ref-counted arena (freed with the last reference) rather than node by node on the heap.
    ctx_.Emit("values",
              json::value(state_.Values(json::make_shared_resource<json::monotonic_resource>())));
  }

  RunContext& ctx_;
  GraphState state_;
  std::optional<model::Checkpoint> base_;
  CheckpointWriter writer_;
  json::object metadata_base_;
  int step_;
  std::vector<std::string> next_;
  std::vector<std::string> last_ran_;
  // state_ is exactly what the last written checkpoint (or, before any write, base_) holds.
  bool synced_ = true;
};

RunOutcome RunLoop::Done() {
  RunOutcome o;
  o.values = state_.Values();
  o.next = ToArray(next_);
  o.checkpoints_written = writer_.written();
  return o;
}

RunOutcome RunLoop::Pause(const json::array& interrupts) {
  const json::object marker{{"__interrupt__", interrupts}};
  if (ctx_.Wants(StreamMode::kUpdates)) ctx_.Emit("updates", marker);
  if (ctx_.Wants(StreamMode::kValues)) ctx_.Emit("values", marker);
  return Done();
}

asio::awaitable<std::optional<RunOutcome>> RunLoop::Interrupted(
    json::object writes, json::array message_writes,
    std::map<std::string, std::pair<std::string, json::array>> paused) {
  next_.clear();
  json::array all;
  json::object by_task;
  for (const auto& [node, entry] : paused) {
    next_.push_back(node);
    for (const auto& i : entry.second) all.push_back(i);
    by_task[entry.first] = entry.second;
  }
  CheckpointWriter::Step step{"loop", step_, writes.empty() ? json::value(nullptr) : json::value(std::move(writes)),
                              next_, std::move(message_writes), std::move(paused)};
  if (auto w = co_await Write(std::move(step)); !w) {
    co_return Error(w.error().code, w.error().message, "CheckpointError");
  }
  RunOutcome outcome = Pause(all);
  outcome.interrupts = std::move(by_task);
  co_return outcome;
}

asio::awaitable<std::optional<RunOutcome>> RunLoop::ApplyInput(
    const json::value& input, std::optional<std::vector<std::string>> go, bool command) {
  // Validated before anything is written; applied to state_ itself (no copy of a possibly long
  // history) once checkpoint #1 has recorded the state before the input.
  auto applied = PrepareUpdate(input, state_.message_channels);
  if (!applied) co_return Error(applied.error().code, applied.error().message, "InvalidUpdateError");

  // Where execution continues: the goto targets, where the thread paused (a command or a
  // null input), or the entry nodes for new input.
  std::vector<std::string> next;
  if (go) {
    next = std::move(*go);
  } else if ((command || input.is_null()) && base_) {
    next = Strings(base_->next);
  } else if (!command) {
    next = EntryNodes(ctx_.graph);
  }

  if (command) {
    // The reference applies Command.update in one `input` checkpoint that already holds it,
    // with `next` = where the thread continues (captured: after a finished run that is [],
    // and nothing runs). No metadata.writes, as on every reference checkpoint.
    ApplyPrepared(state_, *applied);
    synced_ = false;
    next_ = std::move(next);
    CheckpointWriter::Step only{"input", ++step_, nullptr, next_, applied->message_writes};
    if (auto w = co_await Write(std::move(only)); !w) {
      co_return Error(w.error().code, w.error().message, "CheckpointError");
    }
    EmitValues();
    EmitCompleted(ctx_, applied->message_writes);
    co_return std::nullopt;
  }

  // #1: the input, before it is applied. The reference writes no metadata.writes here
  // (agent-protocol.md 6.2: null for input).
  CheckpointWriter::Step first{"input", ++step_, nullptr, {"__start__"}, {}};
  if (auto w = co_await Write(std::move(first)); !w) {
    co_return Error(w.error().code, w.error().message, "CheckpointError");
  }
  ApplyPrepared(state_, *applied);
  synced_ = false;
  EmitValues();
  EmitCompleted(ctx_, applied->message_writes);

  // #2: input applied.
  next_ = std::move(next);
  CheckpointWriter::Step second{"loop", ++step_, nullptr, next_,
                                std::move(applied->message_writes)};
  if (auto w = co_await Write(std::move(second)); !w) {
    co_return Error(w.error().code, w.error().message, "CheckpointError");
  }
  co_return std::nullopt;
}

asio::awaitable<std::optional<RunOutcome>> RunLoop::Superstep() {
  ++step_;
  std::vector<TaskInfo> tasks;
  for (const auto& node : next_) tasks.push_back(TaskInfo{writer_.TaskIdFor(node), node, step_});
  // The state as the tasks/debug/events payloads show it: a copy of the whole state (every
  // message of the thread), so it is made only when one of those modes is on.
  const bool task_payloads = ctx_.Wants(StreamMode::kTasks) || ctx_.Wants(StreamMode::kDebug);
  const json::object input = task_payloads || ctx_.Wants(StreamMode::kEvents)
                                 ? state_.Values()
                                 : json::object{};
  for (const auto& task : tasks) {
    if (task_payloads) {
      json::object start = TaskStartPayload(ctx_, task, input);
      if (ctx_.Wants(StreamMode::kTasks)) ctx_.Emit("tasks", start);
      if (ctx_.Wants(StreamMode::kDebug)) ctx_.Emit("debug", DebugEvent(step_, "task", start));
    }
    if (ctx_.Wants(StreamMode::kEvents)) {
      ctx_.Emit("events", ChainEvent(ctx_, task, "on_chain_start", task.node, task.id,
                                     json::object{{"input", input}}));
    }
  }
  // Every task of a step reads the state as it was before the step (LangGraph semantics);
  // their writes are applied together afterwards. A single task (the usual step) reads state_
  // itself: its writes are applied only once it has finished, so no copy is needed.
  std::optional<GraphState> snapshot;
  if (tasks.size() > 1) snapshot = state_;
  const GraphState& before = snapshot ? *snapshot : state_;
  json::object writes;
  json::array message_writes;
  // Graph files: nodes that paused (interrupt), and function nodes' goto (graph_file_nodes.hpp).
  std::map<std::string, std::pair<std::string, json::array>> paused;
  std::map<std::string, std::vector<std::string>> gotos;
  bool wrote = false;  // whether any task wrote a channel (else no `values` event, as LangGraph)
  for (const auto& task : tasks) {
    RunObserver* observer = ctx_.request.observer;
    if (observer != nullptr) observer->NodeStarted(task);
    auto update = co_await RunNode(ctx_, task, before);
    if (observer != nullptr) {
      const std::optional<agentd::Error> failed =
          update ? std::nullopt : std::optional<agentd::Error>(update.error());
      observer->NodeFinished(task, failed ? &*failed : nullptr);
    }
    if (update) {
      if (auto* value = update->if_contains(kInterruptKey)) {
        json::array list{json::object{{"id", InterruptId()}, {"value", std::move(*value)}}};
        paused[task.node] = {task.id, std::move(list)};
        continue;  // nothing of an interrupted task is applied
      }
      if (auto* go = update->if_contains(kGotoKey)) {
        gotos[task.node] = GotoNodes(*go);
        update->erase(kGotoKey);
      }
    }
    if (!update || Cancelled(co_await asio::this_coro::cancellation_state)) {
      if (Cancelled(co_await asio::this_coro::cancellation_state) ||
          (!update && update.error().code == Errc::kCancelled)) {
        co_return Error(Errc::kCancelled, "run cancelled", "CancelledError");
      }
      if (ctx_.Wants(StreamMode::kTasks)) {
        ctx_.Emit("tasks", TaskResultPayload(task, nullptr, json::value(update.error().message)));
      }
      co_return Error(update.error().code, update.error().message,
                      task.node == "model" ? "ModelError" : "NodeError");
    }
    // A subgraph returns the messages it was given with its new ones: note which are known
    // before they are applied (`before` may be state_ itself).
    std::set<std::string> known;
    if (IsSubgraphNode(ctx_.graph, task.node)) known = MessageIds(state_);
    auto applied = ApplyUpdate(state_, *update);
    synced_ = false;
    if (!applied) co_return Error(applied.error().code, applied.error().message, "InvalidUpdateError");
    if (!applied->update.empty()) wrote = true;
    if (IsSubgraphNode(ctx_.graph, task.node)) {
      // A subgraph's update is its whole output state: with stream_subgraphs its messages
      // went out namespaced as they happened; without, only the new ones go out whole.
      if (!ctx_.request.stream_subgraphs) {
        for (const auto& m : applied->message_writes) {
          const auto* id = m.is_object() ? m.get_object().if_contains("id") : nullptr;
          if (id == nullptr || !id->is_string() || known.count(std::string(id->get_string())) == 0) {
            EmitWholeMessage(ctx_, task, m);
          }
        }
      }
    } else if (!StreamsTokens(ctx_.graph, task.node)) {
      for (const auto& m : applied->message_writes) EmitWholeMessage(ctx_, task, m);
    }
    if (ctx_.Wants(StreamMode::kEvents) && HasConditionalEdges(ctx_.graph, task.node)) {
      EmitRoutingEvents(task);
    }
    EmitCompleted(ctx_, applied->message_writes);
    if (ctx_.Wants(StreamMode::kUpdates)) {
      ctx_.Emit("updates", json::object{{task.node, applied->update}});
    }
    json::object result = TaskResultPayload(task, applied->update, nullptr);
    if (ctx_.Wants(StreamMode::kTasks)) ctx_.Emit("tasks", result);
    if (ctx_.Wants(StreamMode::kDebug)) ctx_.Emit("debug", DebugEvent(step_, "task_result", result));
    if (ctx_.Wants(StreamMode::kEvents)) {
      ctx_.Emit("events", ChainEvent(ctx_, task, "on_chain_end", task.node, task.id,
                                     json::object{{"output", applied->update}, {"input", input}}));
    }
    writes[task.node] = applied->update;
    for (auto& m : applied->message_writes) message_writes.push_back(std::move(m));
  }
  last_ran_ = next_;
  if (!paused.empty()) co_return co_await Interrupted(std::move(writes), std::move(message_writes), std::move(paused));
  std::vector<std::string> following;
  for (const auto& task : tasks) {
    auto go = gotos.find(task.node);
    auto routed = go != gotos.end() ? Result<std::vector<std::string>>(go->second)
                                    : RouteAfter(ctx_.graph, task.node, state_);
    if (!routed) co_return Error(routed.error().code, routed.error().message, "NodeError");
    for (auto& n : *routed) {
      if (n == "__end__") continue;
      if (std::find(following.begin(), following.end(), n) == following.end()) {
        following.push_back(std::move(n));
      }
    }
  }
  next_ = std::move(following);
  if (wrote) EmitValues();
  CheckpointWriter::Step step{"loop", step_, std::move(writes), next_, std::move(message_writes)};
  if (auto w = co_await Write(std::move(step)); !w) {
    co_return Error(w.error().code, w.error().message, "CheckpointError");
  }
  co_return std::nullopt;
}

asio::awaitable<RunOutcome> RunLoop::Execute() {
  const RunRequest& req = ctx_.request;
  const json::object* command = req.command ? &*req.command : nullptr;
  const json::value* update = command ? command->if_contains("update") : nullptr;
  const json::value* go = command ? command->if_contains("goto") : nullptr;
  std::optional<std::vector<std::string>> goto_nodes;
  if (go != nullptr && !go->is_null()) goto_nodes = GotoNodes(*go);

  if (ctx_.Wants(StreamMode::kEvents)) {
    // The graph's own chain: its input is what the client sent (input, or the command).
    json::value graph_input = !req.input.is_null() ? req.input
                              : command != nullptr ? json::value(*command)
                                                   : json::value();
    ctx_.Emit("events", GraphEvent(ctx_, "on_chain_start", json::object{{"input", graph_input}}));
  }
  bool resuming = false;
  if (!req.input.is_null() || (update != nullptr && !update->is_null()) || goto_nodes) {
    const json::value& input =
        !req.input.is_null() ? req.input : (update != nullptr ? *update : json::value());
    const bool is_command = req.input.is_null() && command != nullptr;
    if (auto failed = co_await ApplyInput(input, std::move(goto_nodes), is_command)) {
      co_return *failed;
    }
    // A command continues a paused thread: its breakpoint must not stop it again.
    resuming = command != nullptr && req.input.is_null();
  } else {
    // Continue (input null, no command, or resume only): pick up where the thread stopped.
    resuming = true;
    if (base_) next_ = Strings(base_->next);
    EmitValues();
  }

  int supersteps = 0;
  while (!next_.empty()) {
    if (!resuming && Matches(req.interrupt_before, next_)) co_return Pause();
    resuming = false;
    if (supersteps >= req.recursion_limit) {
      co_return Error(Errc::kInvalidArgument,
                      fmt::format("Recursion limit of {} reached without hitting a stop "
                                  "condition. You can increase the limit by setting the "
                                  "`recursion_limit` config key.",
                                  req.recursion_limit),
                      "GraphRecursionError");
    }
    if (Cancelled(co_await asio::this_coro::cancellation_state)) {
      co_return Error(Errc::kCancelled, "run cancelled", "CancelledError");
    }
    if (auto failed = co_await Superstep()) co_return *failed;
    ++supersteps;
    if (!next_.empty() && Matches(req.interrupt_after, last_ran_)) co_return Pause();
  }
  co_return Done();
}

}  // namespace

GraphExecutor::GraphExecutor(storage::CheckpointStore& checkpoints,
                             std::shared_ptr<const RunCatalog> catalog, HttpTransport& http)
    : checkpoints_(checkpoints), catalog_(std::move(catalog)), http_(http) {}

GraphExecutor::GraphExecutor(storage::CheckpointStore& checkpoints, ModelRegistry& models,
                             HttpTransport& http, std::vector<config::ToolSpec> tools)
    : GraphExecutor(checkpoints,
                    std::make_shared<const RunCatalog>(RunCatalog{
                        std::shared_ptr<ModelRegistry>(&models, [](ModelRegistry*) {}),
                        std::move(tools)}),
                    http) {}

asio::awaitable<RunOutcome> GraphExecutor::Run(const GraphInfo& graph, RunRequest request,
                                               RunEventSink& events) {
  // Cancellation is inspected explicitly (nodes return kCancelled); awaiting an operation
  // after a cancel must not throw out of the run.
  co_await asio::this_coro::throw_if_cancelled(false);
  RunOutcome outcome;
  // The catalog this run started with, kept by the frame to its end whatever a reload does.
  const std::shared_ptr<const RunCatalog> catalog = catalog_.Get();
  auto loaded =
      co_await LoadState(checkpoints_, cache_, request.thread_id, request.checkpoint_id);
  if (!loaded) {
    co_return Failed(std::move(outcome), loaded.error().code, loaded.error().message,
                     loaded.error().code == Errc::kNotFound ? "NotFoundError" : "StorageError");
  }
  // What the model is offered and what the tools node runs both come from this one list, so
  // a run can never offer a tool it cannot call.
  const std::shared_ptr<const std::vector<config::ToolSpec>> external_tools =
      catalog->external ? catalog->external->Tools() : nullptr;
  std::vector<const config::ToolSpec*> tools = ResolveTools(graph.spec, catalog->tools, external_tools.get());
  for (const auto& t : graph.client_tools) tools.push_back(&t);  // a graph file's, answered by the client
  RunContext ctx{graph,  request, events, *catalog->models, http_, catalog->external.get(),
                 tools, {},      {},     {}};
  ctx.run_metadata = request.metadata;
  ctx.run_metadata["graph_id"] = request.graph_id.empty() ? graph.graph_id : request.graph_id;
  ctx.run_metadata["assistant_id"] = request.assistant_id;
  ctx.run_metadata["thread_id"] = request.thread_id;
  ctx.run_metadata["run_id"] = request.run_id;
  if (request.command) {
    if (const auto* resume = request.command->if_contains("resume")) ctx.resume = *resume;
  }
  try {
    loaded->state.append_channels = AppendChannels(graph);
    loaded->state.message_channels = ChannelsWith(graph, "add_messages");
    RunLoop run(ctx, checkpoints_, std::move(loaded->state), std::move(loaded->checkpoint));
    RunOutcome result = co_await run.Execute();
    result.usage = ctx.usage;
    // The next run on this thread starts from where this one stopped: keep the fold (a
    // rollback or any other writer changes the latest checkpoint id, so it is never misused).
    if (auto committed = run.TakeCommittedMessages()) {
      cache_.Put(request.thread_id, committed->first, std::move(committed->second));
    }
    // A graph that ends or pauses finishes its chain with the state; a failed or cancelled
    // one raises in LangChain, which astream_events reports as no end record.
    if (result.kind == RunOutcome::Kind::kSuccess && ctx.Wants(StreamMode::kEvents)) {
      events.Emit("events", GraphEvent(ctx, "on_chain_end", json::object{{"output", result.values}}));
    }
    co_return result;
  } catch (const boost::system::system_error& e) {
    // Only cancellation reaches here (an awaited operation aborted); anything else is a bug.
    if (e.code() != asio::error::operation_aborted) throw;
    outcome.usage = ctx.usage;
    co_return Failed(std::move(outcome), Errc::kCancelled, "run cancelled", "CancelledError");
  }
}

// ------------------------------------------------------------------------ updateState

namespace {

// The node an update without as_node is attributed to: the only node of the graph, or the
// single node whose writes produced the checkpoint.
Result<std::string> LastNode(const GraphInfo& graph, const std::optional<model::Checkpoint>& cp) {
  std::vector<std::string> real;
  for (const auto& n : graph.nodes) {
    if (n != "__start__" && n != "__end__") real.push_back(n);
  }
  if (real.size() == 1) return real.front();
  if (cp) {
    const auto* writes = cp->metadata.if_contains("writes");
    if (writes != nullptr && writes->is_object() && writes->get_object().size() == 1) {
      return std::string(writes->get_object().begin()->key());
    }
    if (cp->metadata.contains("source") && !cp->next.empty() &&
        writes != nullptr && writes->is_null()) {
      return std::string("__start__");  // input applied, nothing ran yet
    }
  }
  return MakeError(Errc::kInvalidArgument, "Ambiguous update, specify as_node");
}

}  // namespace

asio::awaitable<Result<GraphExecutor::UpdateResult>> GraphExecutor::UpdateState(
    const GraphInfo& graph, std::string thread_id, json::value values,
    std::optional<std::string> as_node, std::optional<std::string> checkpoint_id) {
  auto loaded = co_await LoadState(checkpoints_, cache_, thread_id, checkpoint_id);
  if (!loaded) co_return loaded.error();
  std::string node;
  if (as_node) {
    const bool known = *as_node == "__start__" ||
                       (std::find(graph.nodes.begin(), graph.nodes.end(), *as_node) !=
                            graph.nodes.end() &&
                        *as_node != "__end__");
    if (!known) {
      co_return MakeError(Errc::kInvalidArgument,
                          fmt::format("Node {} does not exist in graph {}", *as_node,
                                      graph.graph_id));
    }
    node = *as_node;
  } else {
    auto last = LastNode(graph, loaded->checkpoint);
    if (!last) co_return last.error();
    node = std::move(*last);
  }
  GraphState state = std::move(loaded->state);
  state.append_channels = AppendChannels(graph);
  state.message_channels = ChannelsWith(graph, "add_messages");
  auto applied = ApplyUpdate(state, values);
  if (!applied) co_return applied.error();

  const std::vector<std::string> next =
      node == "__start__" ? EntryNodes(graph) : NextNodes(graph, node, state);
  CheckpointWriter writer(checkpoints_, thread_id,
                          loaded->checkpoint ? std::optional<std::string>(
                                                   loaded->checkpoint->checkpoint_id)
                                             : std::nullopt);
  RunRequest meta_source;
  meta_source.thread_id = thread_id;
  meta_source.graph_id = graph.graph_id;
  json::object metadata = CheckpointMetadataBase(meta_source);
  CheckpointWriter::Step step{"update", StepOf(loaded->checkpoint) + 1,
                              json::object{{node, applied->update}}, next,
                              std::move(applied->message_writes)};
  auto id = co_await writer.Write(std::move(step), state, metadata, nullptr);
  if (!id) co_return id.error();
  UpdateResult result{*id, state.Values(), ToArray(next)};
  cache_.Put(thread_id, *id, std::move(state.messages));
  co_return result;
}

}  // namespace agentd::runtime
