#include "runtime/checkpoint_writer.hpp"

#include "common/time.hpp"
#include "common/uuid.hpp"
#include "storage/storage.hpp"

namespace agentd::runtime {

namespace json = boost::json;

namespace {

json::object Ref(const std::string& thread_id, const std::string& checkpoint_id) {
  return {{"thread_id", thread_id},
          {"checkpoint_id", checkpoint_id},
          {"checkpoint_ns", ""},
          {"checkpoint_map", nullptr}};
}

// The run config as the stream shows it: configurable gains checkpoint_ns and checkpoint_id.
json::object ConfigFor(const RunRequest& request, const std::string& checkpoint_id) {
  json::object config = request.config;
  json::object configurable{{"checkpoint_ns", ""}};
  if (const auto* c = request.config.if_contains("configurable"); c && c->is_object()) {
    for (const auto& [k, v] : c->get_object()) configurable[k] = v;
  }
  configurable["checkpoint_id"] = checkpoint_id;
  config["configurable"] = std::move(configurable);
  if (!config.contains("recursion_limit")) config["recursion_limit"] = request.recursion_limit;
  if (!config.contains("tags")) config["tags"] = json::array{};
  return config;
}

}  // namespace

json::object CheckpointMetadataBase(const RunRequest& request) {
  json::object meta;
  if (const auto* c = request.config.if_contains("configurable"); c && c->is_object()) {
    for (const auto& [k, v] : c->get_object()) {
      if (k == "checkpoint_id" || k == "checkpoint_ns" || k == "checkpoint_map") continue;
      meta[k] = v;
    }
  }
  for (const auto& [k, v] : request.metadata) meta[k] = v;
  if (!request.run_id.empty()) meta["run_id"] = request.run_id;
  if (!request.graph_id.empty()) meta["graph_id"] = request.graph_id;
  if (!request.assistant_id.empty()) meta["assistant_id"] = request.assistant_id;
  meta["thread_id"] = request.thread_id;
  return meta;
}

std::string CheckpointWriter::TaskIdFor(const std::string& node) const {
  auto it = task_ids_.find(node);
  return it != task_ids_.end() ? it->second : NewUuid4();
}

boost::asio::awaitable<Result<std::string>> CheckpointWriter::Write(
    Step step, const GraphState& state, const json::object& metadata_base, RunContext* ctx) {
  model::Checkpoint cp;
  cp.thread_id = thread_id_;
  cp.checkpoint_id = NewUuid7();
  cp.parent_checkpoint_id = parent_id_;
  cp.run_id = ctx != nullptr ? ctx->request.run_id : std::string();
  cp.metadata = metadata_base;
  cp.metadata["source"] = step.source;
  cp.metadata["step"] = step.step;
  cp.metadata["parents"] = json::object{};
  cp.metadata["writes"] = step.writes;
  std::map<std::string, std::string> task_ids;
  json::array stream_tasks;
  for (const auto& node : step.next) {
    auto paused = step.interrupts.find(node);
    const std::string id = paused != step.interrupts.end() ? paused->second.first : NewUuid4();
    const json::array interrupts = paused != step.interrupts.end() ? paused->second.second : json::array{};
    task_ids[node] = id;
    json::array path{"__pregel_pull", json::value(node)};
    cp.next.push_back(json::value(node));
    cp.tasks.push_back(json::object{{"id", id},
                                    {"name", node},
                                    {"path", path},
                                    {"error", nullptr},
                                    {"interrupts", interrupts},
                                    {"checkpoint", nullptr},
                                    {"state", nullptr},
                                    {"result", nullptr}});
    stream_tasks.push_back(
        json::object{{"id", id}, {"name", node}, {"path", path}, {"interrupts", interrupts}});
  }
  cp.channels = state.channels;
  cp.appended_messages = std::move(step.message_writes);
  cp.message_count = static_cast<std::int64_t>(state.messages.size());
  cp.created_at = NowMs();
  auto put = co_await store_.Put(cp);
  if (!put) co_return put.error();

  if (ctx != nullptr &&
      (ctx->Wants(StreamMode::kCheckpoints) || ctx->Wants(StreamMode::kDebug))) {
    json::object event{
        {"config", ConfigFor(ctx->request, cp.checkpoint_id)},
        {"values", state.Values()},
        {"metadata",
         json::object{{"source", step.source}, {"step", step.step}, {"parents", json::object{}}}},
        {"next", cp.next},
        {"tasks", std::move(stream_tasks)},
        {"checkpoint", Ref(thread_id_, cp.checkpoint_id)},
        {"parent_checkpoint", parent_id_ ? json::value(Ref(thread_id_, *parent_id_)) : nullptr},
    };
    if (parent_id_) event["parent_config"] = ConfigFor(ctx->request, *parent_id_);
    if (ctx->Wants(StreamMode::kCheckpoints)) ctx->Emit("checkpoints", event);
    if (ctx->Wants(StreamMode::kDebug)) {
      ctx->Emit("debug", DebugEvent(step.step, "checkpoint", std::move(event)));
    }
  }
  task_ids_ = std::move(task_ids);
  parent_id_ = cp.checkpoint_id;
  written_.push_back(cp.checkpoint_id);
  co_return cp.checkpoint_id;
}

}  // namespace agentd::runtime
