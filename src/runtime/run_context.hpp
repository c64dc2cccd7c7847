#pragma once
// What the executor's nodes share during one run: the request, the graph, the event sink and
// the services (models, HTTP; the tool specs are the graph's), plus the builders of the wire shapes every node
// emits (agent-protocol.md 4.3, 7.4, 7.5). Lives on the Run() coroutine frame; nodes hold
// references to it only while they run. Single event loop: no locking.

#include <set>
#include <string>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "config/config.hpp"
#include "runtime/executor.hpp"
#include "runtime/run_events.hpp"

namespace agentd::runtime {

namespace json = boost::json;

// One node execution within a superstep.
struct TaskInfo {
  std::string id;    // uuid; "<node>:<id>" is its checkpoint namespace
  std::string node;
  int step = 0;      // the superstep's step number (checkpoint metadata.step it produces)
};

struct RunContext {
  const GraphInfo& graph;
  const RunRequest& request;
  RunEventSink& sink;
  ModelRegistry& models;
  HttpTransport& http;
  // The graph's tools (GraphSpec::tools, in order) resolved against the run's catalog: what the
  // model is offered and what the tools node runs. They point into the run's RunCatalog, which
  // the run holds to its end.
  const std::vector<const config::ToolSpec*>& tools;
  // config.metadata-like keys copied onto every message/task metadata: the run's metadata,
  // graph_id, assistant_id, thread_id, run_id.
  json::object run_metadata;
  std::set<std::string> completed_ids;  // legacy messages/complete: each id once per run
  TokenUsage usage;                     // summed over the run's model calls

  bool Wants(StreamMode mode) const { return sink.Wants(mode); }
  void Emit(std::string_view event, json::value data) { sink.Emit(event, std::move(data)); }
};

// The messages-tuple metadata of a task (7.4): tags, run metadata, langgraph_* keys.
json::object TaskMessageMetadata(const RunContext& ctx, const TaskInfo& task);

// A message a node produced whole (tool result, echo reply): one `messages` tuple event with
// tags ["graph:step:N"] and name = node.
void EmitWholeMessage(RunContext& ctx, const TaskInfo& task, const json::value& message);

// Legacy mode: messages/complete for the messages of `messages` not completed before.
void EmitCompleted(RunContext& ctx, const json::array& messages);

// tasks/debug "task" start and "task_result" finish payloads.
json::object TaskStartPayload(const RunContext& ctx, const TaskInfo& task, json::object input);
json::object TaskResultPayload(const TaskInfo& task, const json::value& result,
                               const json::value& error);

// {step, type, timestamp, payload} for the debug mode.
json::object DebugEvent(int step, std::string_view type, json::value payload);

// `events` mode records (LangChain astream_events v2, agent-protocol.md 4.3), shaped like the
// reference server's (tests/unit/executor/testdata/*_messages_events.jsonl): a run is one
// graph-level chain (name = graph id, run_id = the run's id, run metadata only), each task a
// chain named after its node (tags ["graph:step:N"], run_id = task id), and inside a task the
// chat model, routing lambda and tool records (tags [], parent = the task).
// `parent_ids` is not in the reference's records (its JS runtime omits it); LangChain's Python
// v2 and the protocol have it, and clients ignore it, so we send it: outermost first.
json::object GraphEvent(const RunContext& ctx, std::string_view event, json::object data);
json::object ChainEvent(const RunContext& ctx, const TaskInfo& task, std::string_view event,
                        std::string_view name, std::string_view run_id, json::object data);
// A record inside task `task` (chat model, RunnableLambda, tool): `integration` is the
// metadata's ls_integration ("langchain_chat_model" for models, "langgraph" otherwise).
json::object ChildEvent(const RunContext& ctx, const TaskInfo& task, std::string_view event,
                        std::string_view name, std::string_view run_id,
                        std::string_view integration, json::object data);

}  // namespace agentd::runtime
