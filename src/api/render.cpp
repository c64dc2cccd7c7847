#include "api/render.hpp"

#include <array>
#include <utility>

#include "common/time.hpp"

namespace agentd::api {

json::object AssistantJson(const model::Assistant& a) {
  return {
      {"assistant_id", a.assistant_id},
      {"graph_id", a.graph_id},
      {"name", a.name},
      {"description", a.description ? json::value(*a.description) : json::value(nullptr)},
      {"config", a.config},
      {"context", a.context},
      {"metadata", a.metadata},
      {"version", a.version},
      {"created_at", FormatIso8601(a.created_at)},
      {"updated_at", FormatIso8601(a.updated_at)},
  };
}

json::object AssistantVersionJson(const model::AssistantVersion& v) {
  return {
      {"assistant_id", v.assistant_id},
      {"graph_id", v.graph_id},
      {"name", v.name},
      {"description", v.description ? json::value(*v.description) : json::value(nullptr)},
      {"config", v.config},
      {"context", v.context},
      {"metadata", v.metadata},
      {"version", v.version},
      {"created_at", FormatIso8601(v.created_at)},
  };
}

json::object ThreadJson(const model::Thread& t) {
  return {
      {"thread_id", t.thread_id},
      {"created_at", FormatIso8601(t.created_at)},
      {"updated_at", FormatIso8601(t.updated_at)},
      {"state_updated_at", FormatIso8601(t.state_updated_at)},
      {"metadata", t.metadata},
      {"status", model::ToString(t.status)},
      {"config", t.config},
      {"values", t.values},
      {"interrupts", t.interrupts},
      {"error", t.error},
  };
}

json::object ItemJson(const model::StoreItem& item, bool with_score) {
  json::array ns;
  for (const auto& label : item.namespace_path) ns.emplace_back(label);
  json::object out{
      {"namespace", std::move(ns)},
      {"key", item.key},
      {"value", item.value},
      {"created_at", FormatIso8601(item.created_at)},
      {"updated_at", FormatIso8601(item.updated_at)},
  };
  if (with_score) out["score"] = nullptr;
  return out;
}

json::object CheckpointRefJson(std::string_view thread_id, std::string_view checkpoint_ns,
                               std::string_view checkpoint_id) {
  return {
      {"thread_id", thread_id},
      {"checkpoint_ns", checkpoint_ns},
      {"checkpoint_id", checkpoint_id},
      {"checkpoint_map", nullptr},
  };
}

json::object EmptyThreadState() {
  return {
      {"values", json::object{}},
      {"next", json::array{}},
      {"tasks", json::array{}},
      {"checkpoint", nullptr},
      {"parent_checkpoint", nullptr},
      {"metadata", nullptr},
      {"created_at", nullptr},
      {"interrupts", json::array{}},
  };
}

json::object ThreadStateJson(const model::Checkpoint& cp, std::optional<json::array> messages) {
  json::object values = cp.channels;
  if (messages) values["messages"] = std::move(*messages);
  // py's ThreadState.interrupts: every task's interrupts, flattened.
  json::array interrupts;
  for (const auto& task : cp.tasks) {
    const auto* list = task.is_object() ? task.get_object().if_contains("interrupts") : nullptr;
    if (list == nullptr || !list->is_array()) continue;
    for (const auto& i : list->get_array()) interrupts.push_back(i);
  }
  return {
      {"values", std::move(values)},
      {"next", cp.next},
      {"tasks", cp.tasks},
      {"checkpoint", CheckpointRefJson(cp.thread_id, cp.checkpoint_ns, cp.checkpoint_id)},
      {"parent_checkpoint",
       cp.parent_checkpoint_id
           ? json::value(CheckpointRefJson(cp.thread_id, cp.checkpoint_ns, *cp.parent_checkpoint_id))
           : json::value(nullptr)},
      {"metadata", cp.metadata},
      {"created_at", FormatIso8601(cp.created_at)},
      {"interrupts", std::move(interrupts)},
  };
}

json::object SelectFields(json::object obj, const std::optional<std::vector<std::string>>& fields) {
  if (!fields) return obj;
  json::object out;
  for (const auto& f : *fields) {
    if (auto* v = obj.if_contains(f)) out[f] = std::move(*v);
  }
  return out;
}

std::span<const std::string_view> AssistantFields() {
  static constexpr std::array<std::string_view, 10> fields = {
      "assistant_id", "graph_id", "name",    "description", "config",
      "context",      "metadata", "version", "created_at",  "updated_at"};
  return fields;
}

std::span<const std::string_view> ThreadFields() {
  static constexpr std::array<std::string_view, 10> fields = {
      "thread_id", "created_at", "updated_at", "state_updated_at", "metadata",
      "status",    "config",     "values",     "interrupts",       "error"};
  return fields;
}

}  // namespace agentd::api
