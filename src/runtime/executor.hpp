#pragma once
// Executes one run of a graph on a thread: loads the thread's state from its latest (or the
// given) checkpoint, applies the input or command, then runs supersteps until the graph ends,
// pauses (interrupt() or a static breakpoint), fails, hits the recursion limit, or is
// cancelled. It writes one checkpoint per step as LangGraph does (agent-protocol.md 6.2: input,
// input applied, one per superstep), each as the delta of its step, and emits the stream
// events of every requested mode into a RunEventSink as they happen.
//
// The executor does not touch run records, thread status or the event log: the scheduler
// owns those and turns the RunOutcome into the run's terminal state in one step.
//
// Threading: Run() is a coroutine on one event loop; nodes run as coroutines there, CPU steps
// are plain functions. Cancellation: cancelling the awaiting coroutine (its cancellation slot)
// stops the node in flight (LLM or tool call) promptly; the outcome is then kCancelled and
// the checkpoints already written stay (the scheduler removes them for a rollback).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "common/error.hpp"
#include "common/snapshot.hpp"
#include "runtime/graph_registry.hpp"
#include "runtime/run_events.hpp"
#include "runtime/state_cache.hpp"

namespace agentd::storage {
class CheckpointStore;
}

namespace agentd::runtime {

class ModelRegistry;
class HttpTransport;
class ToolSource;
class RunObserver;  // run_observer.hpp

struct RunRequest {
  std::string thread_id;
  std::string run_id;
  std::string assistant_id;
  std::string graph_id;
  boost::json::value input;                    // null: continue from the current state
  std::optional<boost::json::object> command;  // {resume?, update?, goto?}
  boost::json::object config;    // merged assistant ⊕ thread ⊕ request; configurable has the ids
  boost::json::object context;
  boost::json::object metadata;  // the run's metadata, copied into checkpoint metadata
  std::vector<std::string> interrupt_before;  // node names, or {"*"}
  std::vector<std::string> interrupt_after;
  std::optional<std::string> checkpoint_id;  // fork from this checkpoint instead of the latest
  int recursion_limit = 25;
  bool stream_subgraphs = false;
  // Told about nodes, model and tool calls and checkpoint writes as they happen (the run's
  // trace); not owned, outlives Run(). Null: nothing is reported.
  RunObserver* observer = nullptr;
};

// LLM tokens a run consumed, summed over its model calls (the run record keeps them, and
// per-tenant token budgets charge them).
struct TokenUsage {
  std::int64_t input_tokens = 0;
  std::int64_t output_tokens = 0;
  std::int64_t total() const { return input_tokens + output_tokens; }
};

struct RunOutcome {
  enum class Kind {
    kSuccess,    // the graph ended, or paused at an interrupt/breakpoint (next non-empty)
    kError,      // a node failed, the recursion limit was hit, or the input was invalid
    kCancelled,  // cancelled from outside
  };
  Kind kind = Kind::kSuccess;
  boost::json::value values;       // the final state values (null when nothing was applied)
  boost::json::array next;         // non-empty when paused
  boost::json::object interrupts;  // task_id -> [Interrupt]
  std::optional<Error> error;      // kError/kCancelled: what happened
  std::string error_type;          // for the `error` event: "GraphRecursionError", ...
  std::vector<std::string> checkpoints_written;  // in order (rollback removes them)
  TokenUsage usage;  // also set for failed and cancelled runs: what was spent before
};

// What a run resolves the names of its graph against: the models and the configured tool specs
// (config.tools; the graph's tool names are checked against them at start, and a reload that
// drops a name a graph uses is refused). Immutable once published: a configuration reload
// publishes a new catalog (GraphExecutor::SetCatalog), runs that started before keep theirs to
// the end.
struct RunCatalog {
  std::shared_ptr<ModelRegistry> models;  // never null
  std::vector<config::ToolSpec> tools;
  // Tools of MCP servers (null = none): a graph's tool name not in `tools` is looked up in its
  // snapshot when the run starts; a name it does not offer then (server down, not listed) is
  // not offered to the model for that run.
  std::shared_ptr<ToolSource> external;
};

class GraphExecutor {
 public:
  GraphExecutor(storage::CheckpointStore& checkpoints, std::shared_ptr<const RunCatalog> catalog,
                HttpTransport& http);
  // A fixed catalog of `models` (not owned: must outlive the executor) and `tools`.
  GraphExecutor(storage::CheckpointStore& checkpoints, ModelRegistry& models,
                HttpTransport& http, std::vector<config::ToolSpec> tools = {});

  // Runs that start from now on use `catalog`; thread-safe.
  void SetCatalog(std::shared_ptr<const RunCatalog> catalog) { catalog_.Set(std::move(catalog)); }
  std::shared_ptr<const RunCatalog> catalog() const { return catalog_.Get(); }
  boost::asio::awaitable<RunOutcome> Run(const GraphInfo& graph, RunRequest request,
                                         RunEventSink& events);

  // updateState (agent-protocol.md 6.4): applies `values` through the reducers as though
  // `as_node` (or the node that ran last) had returned them, writes one checkpoint (source
  // "update"), and returns it. kInvalidArgument for an unknown/ambiguous node.
  struct UpdateResult {
    std::string checkpoint_id;
    boost::json::value values;
    boost::json::array next;
  };
  boost::asio::awaitable<Result<UpdateResult>> UpdateState(
      const GraphInfo& graph, std::string thread_id, boost::json::value values,
      std::optional<std::string> as_node, std::optional<std::string> checkpoint_id);

  const StateCache& state_cache() const { return cache_; }

 private:
  storage::CheckpointStore& checkpoints_;
  Snapshot<const RunCatalog> catalog_;
  HttpTransport& http_;
  StateCache cache_;  // the last run's folded messages per hot thread (state_cache.hpp)
};

}  // namespace agentd::runtime
