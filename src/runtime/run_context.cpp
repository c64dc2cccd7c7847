#include "runtime/run_context.hpp"

#include <fmt/format.h>

#include "common/time.hpp"

namespace agentd::runtime {

json::object TaskMessageMetadata(const RunContext& ctx, const TaskInfo& task) {
  json::object meta;
  meta["tags"] = json::array{};
  for (const auto& [key, value] : ctx.run_metadata) meta[key] = value;
  meta["langgraph_step"] = task.step;
  meta["langgraph_node"] = task.node;
  meta["langgraph_triggers"] = json::array{json::value("branch:to:" + task.node)};
  meta["langgraph_path"] = json::array{"__pregel_pull", json::value(task.node)};
  const std::string ns = ctx.ns_prefix + task.node + ":" + task.id;
  meta["langgraph_checkpoint_ns"] = ns;
  meta["checkpoint_ns"] = ns;
  return meta;
}

void EmitWholeMessage(RunContext& ctx, const TaskInfo& task, const json::value& message) {
  if (!ctx.Wants(StreamMode::kMessagesTuple)) return;
  json::object meta = TaskMessageMetadata(ctx, task);
  meta["tags"] = json::array{json::value(fmt::format("graph:step:{}", task.step))};
  meta["name"] = task.node;
  ctx.Emit("messages", json::array{message, std::move(meta)});
}

void EmitCompleted(RunContext& ctx, const json::array& messages) {
  if (!ctx.Wants(StreamMode::kMessages)) return;
  json::array fresh;
  for (const auto& m : messages) {
    const auto* id = m.is_object() ? m.get_object().if_contains("id") : nullptr;
    if (id == nullptr || !id->is_string()) continue;
    if (ctx.completed_ids.insert(std::string(id->get_string())).second) fresh.push_back(m);
  }
  if (!fresh.empty()) ctx.Emit("messages/complete", std::move(fresh));
}

json::object TaskStartPayload(const RunContext& ctx, const TaskInfo& task, json::object input) {
  json::object meta = ctx.run_metadata;
  meta.erase("thread_id");
  return {
      {"id", task.id},
      {"name", task.node},
      {"input", std::move(input)},
      {"triggers", json::array{json::value("branch:to:" + task.node)}},
      {"interrupts", json::array{}},
      {"metadata", std::move(meta)},
  };
}

json::object TaskResultPayload(const TaskInfo& task, const json::value& result,
                               const json::value& error) {
  return {
      {"id", task.id},
      {"name", task.node},
      {"result", result},
      {"interrupts", json::array{}},
      {"error", error},
  };
}

json::object DebugEvent(int step, std::string_view type, json::value payload) {
  return {
      {"step", step},
      {"type", type},
      {"timestamp", FormatIso8601(NowMs())},
      {"payload", std::move(payload)},
  };
}

json::object GraphEvent(const RunContext& ctx, std::string_view event, json::object data) {
  json::object meta = ctx.run_metadata;
  meta["ls_integration"] = "langgraph";
  return {
      {"event", event},
      {"name", ctx.request.graph_id.empty() ? ctx.graph.graph_id : ctx.request.graph_id},
      {"run_id", ctx.request.run_id},
      {"parent_ids", json::array{}},
      {"tags", json::array{}},
      {"metadata", std::move(meta)},
      {"data", std::move(data)},
  };
}

json::object ChainEvent(const RunContext& ctx, const TaskInfo& task, std::string_view event,
                        std::string_view name, std::string_view run_id, json::object data) {
  json::object meta = TaskMessageMetadata(ctx, task);
  meta.erase("tags");  // the record's own tags carry them
  meta["ls_integration"] = "langgraph";
  return {
      {"event", event},
      {"name", name},
      {"run_id", run_id},
      {"parent_ids", json::array{json::value(ctx.request.run_id)}},
      {"tags", json::array{json::value(fmt::format("graph:step:{}", task.step))}},
      {"metadata", std::move(meta)},
      {"data", std::move(data)},
  };
}

json::object ChildEvent(const RunContext& ctx, const TaskInfo& task, std::string_view event,
                        std::string_view name, std::string_view run_id,
                        std::string_view integration, json::object data) {
  json::object record = ChainEvent(ctx, task, event, name, run_id, std::move(data));
  record["parent_ids"] = json::array{json::value(ctx.request.run_id), json::value(task.id)};
  record["tags"] = json::array{};
  record["metadata"].as_object()["ls_integration"] = integration;
  return record;
}

}  // namespace agentd::runtime
