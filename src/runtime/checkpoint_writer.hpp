#pragma once
// Builds and stores the checkpoints of one run (agent-protocol.md 6.2) and the matching
// `checkpoints` / `debug` stream payloads. Each checkpoint is the delta of its step: its
// message writes as rows, the small channels in full, the folded message count. It remembers
// the previous checkpoint (the parent of the next) and the task ids it announced in `next`,
// which the following superstep reuses.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "common/error.hpp"
#include "runtime/run_context.hpp"
#include "runtime/state.hpp"

namespace agentd::storage {
class CheckpointStore;
}

namespace agentd::runtime {

class CheckpointWriter {
 public:
  CheckpointWriter(storage::CheckpointStore& store, std::string thread_id,
                   std::optional<std::string> parent_id)
      : store_(store), thread_id_(std::move(thread_id)), parent_id_(std::move(parent_id)) {}

  struct Step {
    std::string source;  // input | loop | update
    int step = 0;
    json::value writes;  // {"<node>": update} or null
    std::vector<std::string> next;
    json::array message_writes;
    // Nodes of `next` paused by an interrupt: their task id (kept, so the thread's
    // `interrupts` and the state's `tasks` agree) and [{id, value}].
    std::map<std::string, std::pair<std::string, json::array>> interrupts;
  };
  // Writes one checkpoint with `state` as its values; emits `checkpoints` and `debug`
  // events when `ctx` is given and wants them. Returns the new checkpoint id.
  boost::asio::awaitable<Result<std::string>> Write(Step step, const GraphState& state,
                                                    const json::object& metadata_base,
                                                    RunContext* ctx);

  // The task id announced for `node` in the last checkpoint's `next` (a new one if none).
  std::string TaskIdFor(const std::string& node) const;
  const std::optional<std::string>& last_id() const { return parent_id_; }
  const std::vector<std::string>& written() const { return written_; }

 private:
  storage::CheckpointStore& store_;
  std::string thread_id_;
  std::optional<std::string> parent_id_;
  std::map<std::string, std::string> task_ids_;
  std::vector<std::string> written_;
};

// The base of checkpoint metadata: the configurable keys, the run's metadata, and the run's
// ids (run_id, graph_id, assistant_id, thread_id).
json::object CheckpointMetadataBase(const RunRequest& request);

}  // namespace agentd::runtime
