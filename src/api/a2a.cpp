#include "api/a2a.hpp"

#include "common/json.hpp"
#include "common/uuid.hpp"

namespace agentd::api::detail {

namespace json = boost::json;

std::optional<A2aCall> ParseA2aMethod(std::string_view name) {
  struct Entry {
    std::string_view name;
    A2aMethod method;
    A2aDialect dialect;
  };
  static constexpr Entry kMethods[] = {
      {"SendMessage", A2aMethod::kSend, A2aDialect::kV1},
      {"SendStreamingMessage", A2aMethod::kStream, A2aDialect::kV1},
      {"GetTask", A2aMethod::kGet, A2aDialect::kV1},
      {"CancelTask", A2aMethod::kCancel, A2aDialect::kV1},
      {"ListTasks", A2aMethod::kList, A2aDialect::kV1},
      {"SubscribeToTask", A2aMethod::kSubscribe, A2aDialect::kV1},
      {"message/send", A2aMethod::kSend, A2aDialect::kV03},
      {"message/stream", A2aMethod::kStream, A2aDialect::kV03},
      {"tasks/get", A2aMethod::kGet, A2aDialect::kV03},
      {"tasks/cancel", A2aMethod::kCancel, A2aDialect::kV03},
      {"tasks/list", A2aMethod::kList, A2aDialect::kV03},
      {"tasks/resubscribe", A2aMethod::kSubscribe, A2aDialect::kV03},
  };
  for (const auto& e : kMethods) {
    if (e.name == name) return A2aCall{e.method, e.dialect};
  }
  return std::nullopt;
}

std::string_view TaskStateName(TaskState state, A2aDialect dialect) {
  const bool v1 = dialect == A2aDialect::kV1;
  switch (state) {
    case TaskState::kSubmitted: return v1 ? "TASK_STATE_SUBMITTED" : "submitted";
    case TaskState::kWorking: return v1 ? "TASK_STATE_WORKING" : "working";
    case TaskState::kCompleted: return v1 ? "TASK_STATE_COMPLETED" : "completed";
    case TaskState::kFailed: return v1 ? "TASK_STATE_FAILED" : "failed";
    case TaskState::kCanceled: return v1 ? "TASK_STATE_CANCELED" : "canceled";
    case TaskState::kInputRequired: return v1 ? "TASK_STATE_INPUT_REQUIRED" : "input-required";
  }
  return "";
}

TaskState StateOfRun(model::RunStatus status, const RunAnswer* answer) {
  switch (status) {
    case model::RunStatus::kPending: return TaskState::kSubmitted;
    case model::RunStatus::kRunning: return TaskState::kWorking;
    case model::RunStatus::kError:
    case model::RunStatus::kTimeout: return TaskState::kFailed;
    case model::RunStatus::kInterrupted: return TaskState::kCanceled;
    case model::RunStatus::kSuccess: break;
  }
  if (answer != nullptr && answer->kind == RunAnswer::Kind::kInterrupted) return TaskState::kInputRequired;
  if (answer != nullptr && answer->kind == RunAnswer::Kind::kError) return TaskState::kFailed;
  return TaskState::kCompleted;
}

bool IsTerminal(TaskState state) {
  return state == TaskState::kCompleted || state == TaskState::kFailed ||
         state == TaskState::kCanceled || state == TaskState::kInputRequired;
}

json::object AgentCardJson(const model::Assistant& assistant, const runtime::GraphInfo* graph,
                           std::string_view endpoint, std::string_view version) {
  std::string description = assistant.description.value_or("");
  if (description.empty()) {
    description = "agentd assistant \"" + assistant.name + "\" (graph " + assistant.graph_id + ")";
  }
  json::array modes{"text/plain", "application/json"};
  json::object skill{{"id", assistant.graph_id},
                     {"name", assistant.name},
                     {"description", description},
                     {"tags", json::array{"agentd", assistant.graph_id}}};
  if (graph != nullptr && graph->kind.size() > 0) skill["tags"].as_array().push_back(json::value(graph->kind));
  return json::object{
      {"name", assistant.name},
      {"description", description},
      {"version", version},
      {"supportedInterfaces",
       json::array{json::object{
           {"url", endpoint}, {"protocolBinding", "JSONRPC"}, {"protocolVersion", "1.0"}}}},
      {"url", endpoint},
      {"preferredTransport", "JSONRPC"},
      {"provider", json::object{{"organization", "agentd"}, {"url", endpoint}}},
      {"capabilities",
       json::object{{"streaming", true}, {"pushNotifications", false}, {"extendedAgentCard", false}}},
      {"defaultInputModes", modes},
      {"defaultOutputModes", modes},
      {"skills", json::array{std::move(skill)}},
  };
}

Result<MessageContent> ReadMessage(const json::value& message) {
  const json::object* m = message.if_object();
  if (m == nullptr) return MakeError(Errc::kInvalidArgument, "params.message must be an object");
  const json::value* parts = m->if_contains("parts");
  if (parts == nullptr || !parts->is_array() || parts->as_array().empty()) {
    return MakeError(Errc::kInvalidArgument, "params.message.parts must be a non-empty array");
  }
  MessageContent out;
  bool any = false;
  for (const auto& part : parts->as_array()) {
    const json::object* p = part.if_object();
    if (p == nullptr) continue;
    if (const json::value* t = p->if_contains("text"); t != nullptr && t->is_string()) {
      if (any && !out.text.empty()) out.text += "\n";
      out.text += t->get_string();
      any = true;
    } else if (const json::value* d = p->if_contains("data"); d != nullptr) {
      if (!out.data && d->is_object()) out.data = d->as_object();
      any = true;
    }
  }
  if (!any) {
    return MakeError(Errc::kInvalidArgument,
                     "params.message.parts has no text or data part (files are not supported)");
  }
  return out;
}

json::object MessageInput(const runtime::GraphInfo* graph, const MessageContent& content) {
  if (graph != nullptr && IsMessageGraph(*graph)) return TextInput(content.text);
  if (content.data) return *content.data;
  return json::object{{"input", content.text}};
}

namespace {

json::object TextPart(std::string_view text, A2aDialect dialect) {
  json::object p{{"text", text}};
  if (dialect == A2aDialect::kV03) p["kind"] = "text";
  return p;
}

json::object Artifact(const RunAnswer& answer, A2aDialect dialect) {
  json::array parts{TextPart(answer.text, dialect)};
  if (answer.kind == RunAnswer::Kind::kDone && !answer.values.contains("messages")) {
    json::object data{{"data", answer.values}};
    if (dialect == A2aDialect::kV03) {
      data["kind"] = "data";
    } else {
      data["mediaType"] = "application/json";
    }
    parts.push_back(std::move(data));
  }
  return json::object{{"artifactId", "answer"}, {"name", "answer"}, {"parts", std::move(parts)}};
}

json::object Status(std::string_view task_id, std::string_view context_id, TaskState state,
                    const RunAnswer* answer, std::string_view timestamp, A2aDialect dialect) {
  json::object status{{"state", TaskStateName(state, dialect)}};
  if (answer != nullptr && IsTerminal(state)) {
    status["message"] = AgentMessage(answer->text, task_id, context_id, dialect);
  }
  if (!timestamp.empty()) status["timestamp"] = timestamp;
  return status;
}

}  // namespace

json::object AgentMessage(std::string_view text, std::string_view task_id,
                          std::string_view context_id, A2aDialect dialect) {
  json::object m{{"messageId", NewUuid4()},
                 {"role", dialect == A2aDialect::kV1 ? "ROLE_AGENT" : "agent"},
                 {"parts", json::array{TextPart(text, dialect)}},
                 {"taskId", task_id},
                 {"contextId", context_id}};
  if (dialect == A2aDialect::kV03) m["kind"] = "message";
  return m;
}

json::object TaskJson(std::string_view task_id, std::string_view context_id, TaskState state,
                      const RunAnswer* answer, std::string_view timestamp, A2aDialect dialect) {
  json::object task{{"id", task_id},
                    {"contextId", context_id},
                    {"status", Status(task_id, context_id, state, answer, timestamp, dialect)}};
  if (answer != nullptr && state == TaskState::kCompleted) {
    task["artifacts"] = json::array{Artifact(*answer, dialect)};
  }
  if (dialect == A2aDialect::kV03) task["kind"] = "task";
  return task;
}

json::object StatusUpdateJson(std::string_view task_id, std::string_view context_id,
                              TaskState state, const RunAnswer* answer, std::string_view timestamp,
                              A2aDialect dialect) {
  json::object e{{"taskId", task_id},
                 {"contextId", context_id},
                 {"status", Status(task_id, context_id, state, answer, timestamp, dialect)}};
  if (dialect == A2aDialect::kV03) {
    e["kind"] = "status-update";
    e["final"] = IsTerminal(state);
  }
  return e;
}

json::object ArtifactUpdateJson(std::string_view task_id, std::string_view context_id,
                                const RunAnswer& answer, bool last_chunk, A2aDialect dialect) {
  json::object e{{"taskId", task_id},
                 {"contextId", context_id},
                 {"artifact", Artifact(answer, dialect)},
                 {"append", false},
                 {"lastChunk", last_chunk}};
  if (dialect == A2aDialect::kV03) e["kind"] = "artifact-update";
  return e;
}

json::value StreamResult(std::string_view kind, json::object event, A2aDialect dialect) {
  if (dialect == A2aDialect::kV03) return event;
  return json::object{{kind, std::move(event)}};
}

std::optional<LogEvent> ParseLogFrame(std::string_view frame) {
  constexpr std::string_view kEvent = "event: ";
  constexpr std::string_view kData = "data: ";
  LogEvent out;
  bool have_event = false, have_data = false;
  std::size_t pos = 0;
  while (pos < frame.size()) {
    std::size_t end = frame.find('\n', pos);
    if (end == std::string_view::npos) end = frame.size();
    std::string_view line = frame.substr(pos, end - pos);
    if (line.rfind(kEvent, 0) == 0) {
      out.event = std::string(line.substr(kEvent.size()));
      have_event = true;
    } else if (line.rfind(kData, 0) == 0) {
      out.data = std::string(line.substr(kData.size()));
      have_data = true;
    }
    pos = end + 1;
  }
  if (!have_event || !have_data) return std::nullopt;
  return out;
}

}  // namespace agentd::api::detail
