#pragma once
// RunObserver: what the executor reports about one run while it executes, for a tracer
// (runtime/run_trace.hpp, the console's run inspector). The executor calls it through
// RunRequest::observer when set; nothing is built for it otherwise. Calls come on the run's
// executor, in execution order, and must not block or throw.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "common/error.hpp"
#include "runtime/chat_model.hpp"
#include "runtime/tools.hpp"

namespace agentd::runtime {

struct TaskInfo;  // run_context.hpp

// One ChatModel::Complete call as the model node saw it.
struct ModelCallInfo {
  std::string model;                 // the configured model name
  std::size_t prompt_messages = 0;   // messages sent (system prompt included)
  std::size_t prompt_chars = 0;      // their text, in bytes
  std::size_t tools_offered = 0;
  std::chrono::steady_clock::time_point started;
  std::chrono::microseconds latency{0};             // call start -> result
  std::optional<std::chrono::microseconds> ttft;    // call start -> first output delta
  // Times the reply restarted after the response stream had begun (a new reply id before any
  // output). Retries of refused attempts (429/5xx) happen before that and are counted only in
  // agentd_llm_retries_total.
  int restarts = 0;
  bool reply_begun = false;  // a reply id arrived (NoteModelDelta's bookkeeping)
  std::optional<std::int64_t> input_tokens;   // from the reply's usage, when reported
  std::optional<std::int64_t> output_tokens;
  std::string finish_reason;
  std::size_t tool_calls = 0;
  std::optional<Error> error;
};

// One tool call of the tools node.
struct ToolCallInfo {
  std::string name;
  std::string call_id;
  boost::json::value args;
  std::string result;  // the tool message's content
  bool ok = true;
  std::chrono::steady_clock::time_point started;
  std::chrono::microseconds duration{0};
};

class RunObserver {
 public:
  virtual ~RunObserver() = default;
  virtual void NodeStarted(const TaskInfo& task) = 0;
  // `error` is null when the node succeeded.
  virtual void NodeFinished(const TaskInfo& task, const Error* error) = 0;
  virtual void ModelCalled(const TaskInfo& task, const ModelCallInfo& call) = 0;
  virtual void ToolCalled(const TaskInfo& task, const ToolCallInfo& call) = 0;
  virtual void CheckpointWritten(std::string_view checkpoint_id, std::string_view source,
                                 int step) = 0;
};

}  // namespace agentd::runtime

// Helpers the model node uses to fill a ModelCallInfo around ChatModel::Complete (only when
// the run is observed): run_observer.cpp.
namespace agentd::runtime {

// What is known before the call: model, prompt size, tools offered; starts the clock.
ModelCallInfo BeginModelCall(std::string model, const ChatRequest& request);
// Each delta as it arrives: first output (TTFT), restarts.
void NoteModelDelta(ModelCallInfo& call, const providers::StreamDelta& delta);
// The result: latency, tokens, finish reason, tool calls, or the error.
void EndModelCall(ModelCallInfo& call, const Result<providers::ChatResult>& result);

// Helpers the tools node uses (only when the run is observed): when each call ran, and the
// ToolCallInfo of call `index` of the last ai message's `calls`, given its tool `message`.
struct ToolTiming {
  std::chrono::steady_clock::time_point started;
  std::chrono::steady_clock::time_point ended;
};
boost::asio::awaitable<ToolOutcome> TimedTool(boost::asio::awaitable<ToolOutcome> work,
                                              std::shared_ptr<ToolTiming> timing);
ToolCallInfo ToolCallFor(const std::shared_ptr<ToolTiming>& timing, std::string name,
                         std::string call_id, const boost::json::array& calls, std::size_t index,
                         const boost::json::object& message);

}  // namespace agentd::runtime
