#pragma once
// Private to sqlite/: the five stores. Each method builds a job (a lambda over by-value
// copies of its arguments and a shared_ptr for its result), runs it on the Worker, and
// returns the result once the batch holding the job has committed.

#include <memory>
#include <optional>

#include "storage/clock.hpp"
#include "storage/sqlite/worker.hpp"
#include "storage/storage.hpp"

namespace agentd::storage::sqlite {

// What every store needs: the worker to run jobs on, and the clock.
struct Context {
  Worker& worker;
  Clock clock;
};

template <class T>
Task<Result<T>> AwaitJob(Worker& worker, JobFn job,
                         std::shared_ptr<std::optional<Result<T>>> out) {
  Status st = co_await worker.Run(std::move(job));
  // A failed COMMIT fails the job even though it succeeded inside the transaction.
  if (!st) co_return st.error();
  co_return std::move(**out);
}

// Runs `fn(Db&) -> Result<T>` as a job and returns its result. Deliberately not a coroutine
// itself: the job lambda is built here, outside any coroutine body (GCC 12 mishandles
// init-captures of coroutine parameters inside lambdas in the body).
template <class T, class Fn>
Task<Result<T>> RunJob(Worker& worker, Fn fn) {
  auto out = std::make_shared<std::optional<Result<T>>>();
  JobFn job = [out, fn = std::move(fn)](Db& db) mutable -> Status {
    out->emplace(fn(db));
    if (!out->value()) return out->value().error();
    return Status{};
  };
  return AwaitJob<T>(worker, std::move(job), std::move(out));
}

template <class Fn>
Task<Status> RunStatusJob(Worker& worker, Fn fn) {
  return worker.Run(JobFn(std::move(fn)));
}

class SqliteAssistants final : public AssistantStore {
 public:
  explicit SqliteAssistants(Context ctx) : ctx_(std::move(ctx)) {}
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
  Context ctx_;
};

class SqliteThreads final : public ThreadStore {
 public:
  explicit SqliteThreads(Context ctx) : ctx_(std::move(ctx)) {}
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
  Context ctx_;
};

class SqliteCheckpoints final : public CheckpointStore {
 public:
  explicit SqliteCheckpoints(Context ctx) : ctx_(std::move(ctx)) {}
  Task<Status> Put(model::Checkpoint checkpoint) override;
  Task<Result<std::optional<model::Checkpoint>>> Latest(std::string thread_id,
                                                        std::string checkpoint_ns) override;
  Task<Result<model::Checkpoint>> Get(std::string thread_id, std::string checkpoint_id) override;
  Task<Result<std::vector<model::Checkpoint>>> List(HistoryQuery query) override;
  Task<Result<json::array>> MessageWrites(std::string thread_id,
                                          std::string checkpoint_id) override;
  Task<Status> Remove(std::string thread_id, std::vector<std::string> checkpoint_ids) override;

 private:
  Context ctx_;
};

class SqliteRuns final : public RunStore {
 public:
  explicit SqliteRuns(Context ctx) : ctx_(std::move(ctx)) {}
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
  // sqlite_run_recovery.cpp
  Task<Result<std::vector<model::Run>>> ListByStatus(std::vector<model::RunStatus> statuses,
                                                     std::int64_t limit) override;
  Task<Result<std::int64_t>> NextAttempt(std::string tenant, std::string run_id) override;

 private:
  Context ctx_;
};

class SqliteItems final : public ItemStore {
 public:
  explicit SqliteItems(Context ctx) : ctx_(std::move(ctx)) {}
  Task<Status> Put(model::StoreItem item) override;
  Task<Result<std::optional<model::StoreItem>>> Get(std::string tenant,
                                                    std::vector<std::string> ns, std::string key,
                                                    bool refresh_ttl) override;
  Task<Status> Delete(std::string tenant, std::vector<std::string> ns, std::string key) override;
  Task<Result<std::vector<model::StoreItem>>> Search(ItemSearch query) override;
  Task<Result<std::vector<std::vector<std::string>>>> ListNamespaces(
      NamespaceQuery query) override;

 private:
  Context ctx_;
};

}  // namespace agentd::storage::sqlite
