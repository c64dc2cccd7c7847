#include "storage/memory/memory_storage.hpp"


#include "storage/memory/memory_state.hpp"

namespace agentd::storage {
namespace memory {
namespace {

class MemoryStorage final : public Storage {
 public:
  explicit MemoryStorage(Clock clock)
      : assistants_(state_), threads_(state_), checkpoints_(state_), runs_(state_),
        items_(state_) {
    state_.clock = OrSystemClock(std::move(clock));
  }

  AssistantStore& assistants() override { return assistants_; }
  ThreadStore& threads() override { return threads_; }
  CheckpointStore& checkpoints() override { return checkpoints_; }
  RunStore& runs() override { return runs_; }
  ItemStore& items() override { return items_; }
  std::string_view backend_name() const override { return "memory"; }

  Task<Status> Ping() override { co_return Status{}; }

  Task<Status> Truncate(TruncateOptions options) override {
    std::lock_guard lock(state_.mu);
    if (options.runs) state_.runs.clear();
    if (options.threads) state_.threads.clear();
    if (options.checkpointer) state_.checkpoints.clear();
    if (options.store) state_.items.clear();
    if (options.assistants) {
      for (auto it = state_.assistants.begin(); it != state_.assistants.end();) {
        const auto& md = it->second.value.metadata;
        auto created_by = md.find("created_by");
        bool system = created_by != md.end() && created_by->value() == "system";
        if (system) {
          ++it;
        } else {
          state_.versions.erase(it->first);
          it = state_.assistants.erase(it);
        }
      }
    }
    co_return Status{};
  }

 private:
  State state_;
  Assistants assistants_;
  Threads threads_;
  Checkpoints checkpoints_;
  Runs runs_;
  Items items_;
};

}  // namespace

void State::DeleteCheckpointsLocked(const std::string& thread_id) {
  auto it = checkpoints.lower_bound({thread_id, std::string()});
  while (it != checkpoints.end() && it->first.first == thread_id) it = checkpoints.erase(it);
}

void State::DeleteRunsOfAssistantLocked(const std::string& tenant,
                                        const std::string& assistant_id) {
  std::erase_if(runs, [&](const auto& kv) {
    return kv.second.value.tenant == tenant && kv.second.value.assistant_id == assistant_id;
  });
}

void State::DeleteThreadLocked(const std::string& thread_id) {
  threads.erase(thread_id);
  std::erase_if(runs, [&](const auto& kv) { return kv.second.value.thread_id == thread_id; });
  DeleteCheckpointsLocked(thread_id);
}

}  // namespace memory

std::unique_ptr<Storage> MakeMemoryStorage(Clock clock) {
  return std::make_unique<memory::MemoryStorage>(std::move(clock));
}

}  // namespace agentd::storage
