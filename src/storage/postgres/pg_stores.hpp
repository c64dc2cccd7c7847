#pragma once
// Private to postgres/: the five stores and the helpers they share. Each public method is a
// plain function that builds a coroutine lambda over by-value copies of its arguments and
// hands it to WithConn/InTx, which keep the lambda alive in their frame while it runs (GCC 12
// mishandles init-captures of coroutine parameters in lambdas built inside a coroutine body).

#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "storage/clock.hpp"
#include "storage/postgres/pg_conn.hpp"
#include "storage/postgres/pg_pool.hpp"
#include "storage/storage.hpp"

namespace agentd::storage::postgres {

// What every store needs: the pool and the clock; the checkpoint fence's lease owner name
// (PostgresOptions::instance_id).
struct Context {
  PgPool& pool;
  storage::Clock clock;
  std::string instance_id = {};
};

// ------------------------------------------------------------------ parameters

inline std::optional<std::string> Param(std::string v) { return v; }
inline std::optional<std::string> Param(std::string_view v) { return std::string(v); }
inline std::optional<std::string> Param(const char* v) { return std::string(v); }
inline std::optional<std::string> Param(std::int64_t v) { return std::to_string(v); }
inline std::optional<std::string> Param(int v) { return std::to_string(v); }
std::optional<std::string> Param(double v);
template <class T>
std::optional<std::string> Param(const std::optional<T>& v) {
  if (!v) return std::nullopt;
  return Param(*v);
}
template <class... Args>
Params P(const Args&... args) {
  Params out;
  out.reserve(sizeof...(args));
  (out.push_back(Param(args)), ...);
  return out;
}
// A text[] literal: {"a","b"} with quotes and backslashes escaped.
std::string TextArray(const std::vector<std::string>& items);

// ------------------------------------------------------------------ running

// Runs `f(PgConn&) -> Task<Result<T>>` on a pooled connection.
template <class T, class F>
Task<Result<T>> WithConn(PgPool& pool, F f) {
  auto lease = co_await pool.Acquire();
  if (!lease) co_return lease.error();
  co_return co_await f(**lease);
}

// Same, inside BEGIN ... COMMIT; an error result rolls back. BEGIN costs no round trip of its
// own: it goes out in the pipeline of f's first statement. f may end with CommitAfterNext()
// before its last statement to save the COMMIT's round trip too. A connection left
// mid-transaction (the ROLLBACK failed too) is not reusable, so the pool drops it.
template <class T, class F>
Task<Result<T>> InTx(PgPool& pool, F f) {
  auto lease = co_await pool.Acquire();
  if (!lease) co_return lease.error();
  PgConn& c = **lease;
  c.DeferBegin();
  Result<T> r = co_await f(c);
  c.DropCommitAfterNext();
  if (c.DropDeferredBegin()) co_return r;  // f sent nothing: no transaction was opened
  if (!c.InTransaction()) co_return r;     // committed with f's last statement
  if (r) {
    // On a transaction aborted by a statement f chose to ignore, COMMIT rolls back.
    if (Status st = co_await c.Exec("COMMIT"); !st) co_return st.error();
  } else {
    (void)co_await c.Exec("ROLLBACK");
  }
  co_return r;
}

// BEGIN, `statements` and COMMIT in one round trip, for a transaction whose statements do not
// depend on each other's results. Returns each statement's result, in order, or the first
// failing statement's error; then the server has skipped the rest and the transaction is
// rolled back (a second round trip, on that path only).
Task<Result<std::vector<PgResult>>> TxPipeline(PgPool& pool, std::vector<Statement> statements);

// ------------------------------------------------------------------ stores

class PgAssistants final : public AssistantStore {
 public:
  explicit PgAssistants(Context ctx) : ctx_(std::move(ctx)) {}
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

class PgThreads final : public ThreadStore {
 public:
  explicit PgThreads(Context ctx) : ctx_(std::move(ctx)) {}
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

class PgCheckpoints final : public CheckpointStore {
 public:
  explicit PgCheckpoints(Context ctx) : ctx_(std::move(ctx)) {}
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

class PgRuns final : public RunStore {
 public:
  explicit PgRuns(Context ctx) : ctx_(std::move(ctx)) {}
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
  Context ctx_;
};

class PgLeases final : public RunLeases {
 public:
  explicit PgLeases(Context ctx) : ctx_(std::move(ctx)) {}
  Task<Result<EnqueueResult>> Enqueue(model::Run run, std::string strategy, std::string owner,
                                      std::chrono::milliseconds lease) override;
  Task<Result<TurnClaim>> ClaimTurn(std::string run_id, std::string owner) override;
  Task<Result<std::vector<LeaseState>>> Renew(std::string owner, std::vector<std::string> run_ids,
                                              std::chrono::milliseconds lease) override;
  Task<Result<std::vector<model::Run>>> AdoptExpired(std::string owner,
                                                     std::chrono::milliseconds lease,
                                                     std::int64_t limit) override;
  Task<Result<Finished>> Finish(std::string tenant, std::string thread_id, std::string run_id,
                                std::string owner, Ending ending) override;
  Task<Result<std::string>> RequestCancel(std::string tenant, std::string run_id,
                                          std::string action) override;
  Task<Result<std::vector<std::string>>> RequestThreadCancel(std::string tenant,
                                                             std::string thread_id,
                                                             std::string action) override;
  Task<Result<std::vector<std::string>>> ActiveAmong(std::vector<std::string> run_ids) override;
  Task<Result<bool>> IsActive(std::string tenant, std::string run_id) override;
  Task<Result<bool>> ThreadHasActiveRuns(std::string tenant, std::string thread_id) override;
  Task<Status> ExpireAll(std::string owner) override;

 private:
  Context ctx_;
};

class PgItems final : public ItemStore {
 public:
  explicit PgItems(Context ctx) : ctx_(std::move(ctx)) {}
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

}  // namespace agentd::storage::postgres
