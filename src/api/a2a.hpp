#pragma once
// Private to api/: the pure pieces of agentd as an A2A agent (POST /a2a/{assistant_id},
// a2a_handlers.cpp, docs/interop.md): agent cards, tasks (a task is a run, its contextId the
// run's thread), messages and stream events, in the JSON of A2A v1.0 (what @a2a-js/sdk 1.x
// sends: SendMessage, GetTask...) or of v0.3 (message/send, tasks/get..., what LangGraph's
// /a2a and v0.3 clients speak). No I/O. Tests: tests/unit/api/interop_test.cpp.

#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "api/run_answer.hpp"
#include "model/types.hpp"
#include "runtime/graph_registry.hpp"

namespace agentd::api::detail {

enum class A2aDialect { kV1, kV03 };

// The JSON-RPC methods, by dialect; nullopt for a method agentd does not serve.
enum class A2aMethod { kSend, kStream, kGet, kCancel, kList, kSubscribe };
struct A2aCall {
  A2aMethod method;
  A2aDialect dialect;
};
std::optional<A2aCall> ParseA2aMethod(std::string_view name);

// A2A error codes (A2A 1.0 section 9.5 / JSON-RPC).
inline constexpr int kA2aTaskNotFound = -32001;
inline constexpr int kA2aTaskNotCancelable = -32002;
inline constexpr int kA2aUnsupportedOperation = -32004;

// The A2A task states agentd reports (names differ per dialect).
enum class TaskState { kSubmitted, kWorking, kCompleted, kFailed, kCanceled, kInputRequired };
std::string_view TaskStateName(TaskState state, A2aDialect dialect);
// A run's stored status; a finished run's answer refines success (an interrupt waits for input).
TaskState StateOfRun(model::RunStatus status, const RunAnswer* answer);
bool IsTerminal(TaskState state);

// The agent card of one assistant: v1.0 (supportedInterfaces: JSONRPC 1.0 at `endpoint`), with
// the v0.3 fields `url` and `preferredTransport` too, so v0.3 clients find the endpoint.
boost::json::object AgentCardJson(const model::Assistant& assistant,
                                  const runtime::GraphInfo* graph, std::string_view endpoint,
                                  std::string_view version);

// The text and the data of a message's parts (v1.0 {text} / {data}, v0.3 {kind, text|data}).
struct MessageContent {
  std::string text;                    // text parts joined with "\n"
  std::optional<boost::json::object> data;  // the first data part that is an object
};
// kInvalidArgument naming the problem: no message, no parts, no text or data part.
Result<MessageContent> ReadMessage(const boost::json::value& message);

// The run input of a message: {"messages": [user text]} for message graphs, else the data part
// (or {"input": text} without one).
boost::json::object MessageInput(const runtime::GraphInfo* graph, const MessageContent& content);

// A message from the agent (the answer, or a failure's reason).
boost::json::object AgentMessage(std::string_view text, std::string_view task_id,
                                 std::string_view context_id, A2aDialect dialect);

// The task of a run. `answer` (a finished run's) adds the `answer` artifact and the status
// message; `timestamp` is ISO 8601.
boost::json::object TaskJson(std::string_view task_id, std::string_view context_id,
                             TaskState state, const RunAnswer* answer, std::string_view timestamp,
                             A2aDialect dialect);
boost::json::object StatusUpdateJson(std::string_view task_id, std::string_view context_id,
                                     TaskState state, const RunAnswer* answer,
                                     std::string_view timestamp, A2aDialect dialect);
// The `answer` artifact (one text part; a data part with the values for non-message graphs).
boost::json::object ArtifactUpdateJson(std::string_view task_id, std::string_view context_id,
                                       const RunAnswer& answer, bool last_chunk,
                                       A2aDialect dialect);
// A stream's result: v1.0 wraps each kind in {"task"|"statusUpdate"|"artifactUpdate": ...};
// v0.3 sends the object itself (it carries `kind`).
boost::json::value StreamResult(std::string_view kind, boost::json::object event,
                                A2aDialect dialect);

// One SSE frame of the event log ("event: <name>\ndata: <json>\nid: <n>\n\n"): its name and
// data, or nullopt for a comment or a frame it cannot read.
struct LogEvent {
  std::string event;
  std::string data;
};
std::optional<LogEvent> ParseLogFrame(std::string_view frame);

}  // namespace agentd::api::detail
