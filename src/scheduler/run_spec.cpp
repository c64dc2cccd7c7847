#include "scheduler/run_spec.hpp"

#include <cctype>
#include <utility>

#include "common/json.hpp"

namespace agentd::scheduler {

namespace json = boost::json;

std::string_view ToString(MultitaskStrategy s) {
  switch (s) {
    case MultitaskStrategy::kReject: return "reject";
    case MultitaskStrategy::kEnqueue: return "enqueue";
    case MultitaskStrategy::kInterrupt: return "interrupt";
    case MultitaskStrategy::kRollback: return "rollback";
  }
  return "reject";
}

std::optional<MultitaskStrategy> ParseMultitaskStrategy(std::string_view s) {
  if (s == "reject") return MultitaskStrategy::kReject;
  if (s == "enqueue") return MultitaskStrategy::kEnqueue;
  if (s == "interrupt") return MultitaskStrategy::kInterrupt;
  if (s == "rollback") return MultitaskStrategy::kRollback;
  return std::nullopt;
}

json::object MergeConfig(const json::object& base, const json::object& over) {
  json::object out = base;
  for (const auto& [key, value] : over) {
    auto* mine = out.if_contains(key);
    if (key == "configurable" && mine != nullptr && mine->is_object() && value.is_object()) {
      MergeShallow(mine->as_object(), value.as_object());
    } else {
      out[key] = value;
    }
  }
  return out;
}

bool HeaderReachesGraph(std::string_view name) {
  std::string lower;
  lower.reserve(name.size());
  for (char c : name) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (lower == "user-agent") return true;
  if (lower.rfind("x-", 0) != 0) return false;
  return lower != "x-api-key" && lower != "x-tenant-id" && lower != "x-service-key";
}

json::object RunConfig(const RunSpec& spec, const RunIds& ids, const model::Assistant& assistant,
                       const model::Thread& thread) {
  json::object config = MergeConfig(MergeConfig(assistant.config, thread.config), spec.config);
  json::value& slot = config["configurable"];
  if (!slot.is_object()) slot = json::object{};
  json::object& configurable = slot.as_object();
  for (const auto& [name, value] : spec.headers) configurable[name] = value;
  configurable["run_id"] = ids.run_id;
  configurable["thread_id"] = ids.thread_id;
  configurable["graph_id"] = ids.graph_id;
  configurable["assistant_id"] = ids.assistant_id;
  return config;
}

namespace {

json::array Strings(const std::vector<std::string>& items) {
  json::array out;
  for (const auto& s : items) out.emplace_back(s);
  return out;
}

json::value Breakpoints(const std::optional<std::vector<std::string>>& nodes) {
  if (nodes->size() == 1 && (*nodes)[0] == "*") return "*";
  return Strings(*nodes);
}

}  // namespace

model::Run BuildRun(const RunSpec& spec, const RunIds& ids, const std::string& tenant,
                    const model::Assistant& assistant, const model::Thread& thread,
                    bool temporary) {
  model::Run run;
  run.tenant = tenant;
  run.run_id = ids.run_id;
  run.thread_id = ids.thread_id;
  run.assistant_id = ids.assistant_id;
  run.status = model::RunStatus::kPending;
  run.metadata = assistant.metadata;
  MergeShallow(run.metadata, thread.metadata);
  MergeShallow(run.metadata, spec.metadata);
  run.multitask_strategy = std::string(ToString(spec.multitask_strategy));

  json::object config = RunConfig(spec, ids, assistant, thread);
  config["metadata"] = run.metadata;
  json::array modes;
  if (spec.stream_modes.empty()) modes.emplace_back("values");
  for (auto mode : spec.stream_modes) modes.emplace_back(runtime::StreamModeName(mode));

  json::object& kw = run.kwargs;
  kw["input"] = spec.input;
  if (spec.command) kw["command"] = *spec.command;
  kw["config"] = std::move(config);
  kw["context"] = MergeConfig(assistant.context, spec.context);
  kw["stream_mode"] = std::move(modes);
  if (spec.interrupt_before) kw["interrupt_before"] = Breakpoints(spec.interrupt_before);
  if (spec.interrupt_after) kw["interrupt_after"] = Breakpoints(spec.interrupt_after);
  if (spec.webhook) kw["webhook"] = *spec.webhook;
  if (spec.feedback_keys) kw["feedback_keys"] = *spec.feedback_keys;
  if (spec.checkpoint_id) kw["checkpoint_id"] = *spec.checkpoint_id;
  if (spec.durability) kw["durability"] = *spec.durability;
  kw["temporary"] = temporary;
  kw["subgraphs"] = spec.stream_subgraphs;
  kw["resumable"] = spec.stream_resumable;
  return run;
}

runtime::RunRequest BuildRunRequest(const RunSpec& spec, const RunIds& ids, const model::Run& run,
                                    const model::Assistant& assistant) {
  runtime::RunRequest r;
  r.thread_id = ids.thread_id;
  r.run_id = ids.run_id;
  r.assistant_id = ids.assistant_id;
  r.graph_id = ids.graph_id;
  r.input = spec.input;
  r.command = spec.command;
  if (const auto* config = run.kwargs.if_contains("config"); config && config->is_object()) {
    r.config = config->as_object();
    r.config.erase("metadata");
  }
  r.context = MergeConfig(assistant.context, spec.context);
  r.metadata = run.metadata;
  if (spec.interrupt_before) r.interrupt_before = *spec.interrupt_before;
  if (spec.interrupt_after) r.interrupt_after = *spec.interrupt_after;
  r.checkpoint_id = spec.checkpoint_id;
  if (const auto* limit = r.config.if_contains("recursion_limit"); limit && limit->is_int64()) {
    r.recursion_limit = static_cast<int>(limit->as_int64());
  }
  r.stream_subgraphs = spec.stream_subgraphs;
  return r;
}

}  // namespace agentd::scheduler
