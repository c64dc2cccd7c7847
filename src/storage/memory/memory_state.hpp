#pragma once
// Private to memory/: the shared state and the five store classes over it. One mutex guards
// everything, so cross-store operations (thread delete cascades, truncate) are atomic.

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "storage/clock.hpp"
#include "storage/storage.hpp"

namespace agentd::storage::memory {

// `seq` is the insertion order: the tie-break SQLite's rowid gives, so both backends agree.
template <class T>
struct Row {
  T value;
  std::int64_t seq = 0;
  std::string trace;  // runs only: RunStore::SetTrace's text ("" = none); dies with the row
};

struct State {
  std::mutex mu;
  Clock clock;
  std::int64_t next_seq = 1;
  std::map<std::string, Row<model::Assistant>> assistants;
  std::map<std::string, std::vector<model::AssistantVersion>> versions;  // oldest first
  std::map<std::string, Row<model::Thread>> threads;
  std::map<std::string, Row<model::Run>> runs;
  // (thread_id, checkpoint_id); ids are uuid7, so map order is creation order per thread.
  std::map<std::pair<std::string, std::string>, model::Checkpoint> checkpoints;
  std::map<std::tuple<std::string, std::string, std::string>, Row<model::StoreItem>> items;

  TimestampMs Now() const { return clock(); }
  // Callers hold mu.
  void DeleteThreadLocked(const std::string& thread_id);
  void DeleteCheckpointsLocked(const std::string& thread_id);
  void DeleteRunsOfAssistantLocked(const std::string& tenant, const std::string& assistant_id);
};

class Assistants final : public AssistantStore {
 public:
  explicit Assistants(State& s) : s_(s) {}
  Task<Result<model::Assistant>> Create(model::Assistant a, IfExists if_exists) override;
  Task<Result<model::Assistant>> Get(std::string tenant, std::string assistant_id) override;
  Task<Result<model::Assistant>> Update(std::string tenant, std::string assistant_id,
                                        AssistantPatch patch) override;
  Task<Status> Delete(std::string tenant, std::string assistant_id, bool delete_threads) override;
  Task<Result<Page<model::Assistant>>> Search(AssistantQuery query) override;
  Task<Result<std::int64_t>> Count(AssistantQuery query) override;
  Task<Result<std::vector<model::AssistantVersion>>> ListVersions(
      std::string tenant, std::string assistant_id, std::optional<json::object> metadata,
      std::int64_t limit, std::int64_t offset) override;
  Task<Result<model::Assistant>> SetLatest(std::string tenant, std::string assistant_id,
                                           std::int64_t version) override;
  Task<Result<std::vector<model::Assistant>>> ListExpired(TimestampMs now,
                                                          std::int64_t limit) override;

 private:
  std::vector<model::Assistant> MatchingLocked(const AssistantQuery& q);
  State& s_;
};

class Threads final : public ThreadStore {
 public:
  explicit Threads(State& s) : s_(s) {}
  Task<Result<model::Thread>> Create(model::Thread t, IfExists if_exists) override;
  Task<Result<model::Thread>> Get(std::string tenant, std::string thread_id) override;
  Task<Result<model::Thread>> Update(std::string tenant, std::string thread_id,
                                     ThreadPatch patch) override;
  Task<Status> Delete(std::string tenant, std::string thread_id) override;
  Task<Result<Page<model::Thread>>> Search(ThreadQuery query) override;
  Task<Result<std::int64_t>> Count(ThreadQuery query) override;
  Task<Result<model::Thread>> Copy(std::string tenant, std::string source_thread_id,
                                   std::string new_thread_id,
                                   json::object extra_metadata) override;
  Task<Result<std::vector<model::Thread>>> ListExpired(TimestampMs now,
                                                       std::int64_t limit) override;

 private:
  std::vector<model::Thread> MatchingLocked(const ThreadQuery& q);
  State& s_;
};

class Checkpoints final : public CheckpointStore {
 public:
  explicit Checkpoints(State& s) : s_(s) {}
  Task<Status> Put(model::Checkpoint checkpoint) override;
  Task<Result<std::optional<model::Checkpoint>>> Latest(std::string thread_id,
                                                        std::string checkpoint_ns) override;
  Task<Result<model::Checkpoint>> Get(std::string thread_id, std::string checkpoint_id) override;
  Task<Result<std::vector<model::Checkpoint>>> List(HistoryQuery query) override;
  Task<Result<json::array>> MessageWrites(std::string thread_id,
                                          std::string checkpoint_id) override;
  Task<Status> Remove(std::string thread_id, std::vector<std::string> checkpoint_ids) override;

 private:
  State& s_;
};

class Runs final : public RunStore {
 public:
  explicit Runs(State& s) : s_(s) {}
  Task<Result<model::Run>> Create(model::Run run) override;
  Task<Result<model::Run>> Get(std::string tenant, std::string run_id) override;
  Task<Result<std::vector<model::Run>>> List(RunQuery query) override;
  Task<Result<model::Run>> SetStatus(std::string tenant, std::string run_id,
                                     model::RunStatus status) override;
  Task<Status> Delete(std::string tenant, std::string run_id) override;
  Task<Status> SetUsage(std::string tenant, std::string run_id, json::object usage) override;
  Task<Status> SetTrace(std::string tenant, std::string run_id, std::string trace) override;
  Task<Result<std::optional<std::string>>> GetTrace(std::string tenant, std::string thread_id,
                                                    std::string run_id) override;
  Task<Result<std::vector<model::Run>>> ListByStatus(std::vector<model::RunStatus> statuses,
                                                     std::int64_t limit) override;
  Task<Result<std::int64_t>> NextAttempt(std::string tenant, std::string run_id) override;

 private:
  State& s_;
  std::map<std::string, std::int64_t> attempts_;  // run_id -> attempts beyond the first; s_.mu
};

class Items final : public ItemStore {
 public:
  explicit Items(State& s) : s_(s) {}
  Task<Status> Put(model::StoreItem item) override;
  Task<Result<std::optional<model::StoreItem>>> Get(std::string tenant,
                                                    std::vector<std::string> ns, std::string key,
                                                    bool refresh_ttl) override;
  Task<Status> Delete(std::string tenant, std::vector<std::string> ns, std::string key) override;
  Task<Result<std::vector<model::StoreItem>>> Search(ItemSearch query) override;
  Task<Result<std::vector<std::vector<std::string>>>> ListNamespaces(
      NamespaceQuery query) override;

 private:
  State& s_;
};

}  // namespace agentd::storage::memory
