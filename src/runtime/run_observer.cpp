#include "runtime/run_observer.hpp"

#include <variant>

namespace agentd::runtime {

namespace {

std::chrono::microseconds Since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t);
}

}  // namespace

ModelCallInfo BeginModelCall(std::string model, const ChatRequest& request) {
  ModelCallInfo call;
  call.model = std::move(model);
  call.prompt_messages = request.messages.size();
  for (const auto& m : request.messages) call.prompt_chars += m.content.size();
  call.tools_offered = request.tools.size();
  call.started = std::chrono::steady_clock::now();
  return call;
}

void NoteModelDelta(ModelCallInfo& call, const providers::StreamDelta& delta) {
  if (std::holds_alternative<providers::MessageStart>(delta)) {
    // A second reply id before any output: the provider started the reply over.
    if (call.reply_begun && !call.ttft) ++call.restarts;
    call.reply_begun = true;
    return;
  }
  if (!call.ttft && (std::holds_alternative<providers::TextDelta>(delta) ||
                     std::holds_alternative<providers::ToolCallStart>(delta))) {
    call.ttft = Since(call.started);
  }
}

void EndModelCall(ModelCallInfo& call, const Result<providers::ChatResult>& result) {
  call.latency = Since(call.started);
  if (!result) {
    call.error = result.error();
    return;
  }
  if (result->usage) {
    call.input_tokens = result->usage->prompt_tokens;
    call.output_tokens = result->usage->completion_tokens;
  }
  call.finish_reason = result->finish_reason;
  call.tool_calls = result->tool_calls.size();
}

boost::asio::awaitable<ToolOutcome> TimedTool(boost::asio::awaitable<ToolOutcome> work,
                                              std::shared_ptr<ToolTiming> timing) {
  timing->started = std::chrono::steady_clock::now();
  ToolOutcome outcome = co_await std::move(work);
  timing->ended = std::chrono::steady_clock::now();
  co_return outcome;
}

ToolCallInfo ToolCallFor(const std::shared_ptr<ToolTiming>& timing, std::string name,
                         std::string call_id, const boost::json::array& calls, std::size_t index,
                         const boost::json::object& message) {
  ToolCallInfo info;
  info.name = std::move(name);
  info.call_id = std::move(call_id);
  if (index < calls.size() && calls[index].is_object()) {
    if (const auto* args = calls[index].get_object().if_contains("args")) info.args = *args;
  }
  if (const auto* content = message.if_contains("content"); content && content->is_string()) {
    info.result = std::string(content->get_string());
  }
  const auto* status = message.if_contains("status");
  info.ok = status == nullptr || !status->is_string() || status->get_string() != "error";
  if (timing) {
    info.started = timing->started;
    if (timing->ended >= timing->started) {
      info.duration =
          std::chrono::duration_cast<std::chrono::microseconds>(timing->ended - timing->started);
    }
  }
  return info;
}

}  // namespace agentd::runtime
