// RunLeases on PostgreSQL: the cross-instance run queue (storage.hpp). Every decision that two
// instances could race on is one statement or one transaction holding the thread's row lock;
// the unique index runs_one_running_per_thread (migration 0004) backs "one running run per
// thread" even if a statement here were wrong.
#include <algorithm>

#include <fmt/format.h>

#include "common/json.hpp"
#include "storage/postgres/pg_rows.hpp"
#include "storage/postgres/pg_stores.hpp"
#include "storage/query.hpp"

namespace agentd::storage::postgres {

namespace {

constexpr std::string_view kActive = "status IN ('pending', 'running')";

std::string LeaseMs(std::chrono::milliseconds lease) { return std::to_string(lease.count()); }

}  // namespace

Task<Result<EnqueueResult>> PgLeases::Enqueue(model::Run run, std::string strategy,
                                              std::string owner, std::chrono::milliseconds lease) {
  return InTx<EnqueueResult>(
      ctx_.pool, [run = std::move(run), strategy = std::move(strategy), owner = std::move(owner),
                  lease, clock = ctx_.clock](PgConn& c) mutable -> Task<Result<EnqueueResult>> {
        // The thread's row lock serializes every admission decision on this thread,
        // cluster-wide. The active runs are read by a second statement of the same pipeline
        // (one round trip with the BEGIN): it starts, and takes its snapshot, only once the
        // lock is held, so it sees every run committed by the previous holder. One statement
        // joining both would read the runs with a snapshot from before the lock wait.
        static const std::string active_sql = fmt::format(
            "SELECT run_id FROM runs WHERE thread_id = $1 AND {} ORDER BY run_id", kActive);
        std::vector<Statement> lock_then_read;
        lock_then_read.push_back(
            Statement{"SELECT 1 FROM threads WHERE thread_id = $1 AND tenant = $2 FOR UPDATE",
                      P(run.thread_id, run.tenant)});
        lock_then_read.push_back(Statement{active_sql, P(run.thread_id)});
        auto read = co_await c.Pipeline(std::move(lock_then_read));
        if (!read) co_return read.error();
        if ((*read)[0].rows() == 0) co_return MakeError(Errc::kNotFound, "thread " + run.thread_id);
        const PgResult* active = &(*read)[1];
        EnqueueResult out;
        if (active->rows() > 0) {
          if (strategy == "reject") {
            co_return MakeError(Errc::kUnprocessable, "thread is busy");
          }
          if (strategy == "interrupt" || strategy == "rollback") {
            static const std::string cancel_sql = fmt::format(
                "UPDATE runs SET cancel_action = $2 "
                "WHERE thread_id = $1 AND {} AND cancel_action IS NULL RETURNING run_id",
                kActive);
            auto marked = co_await c.Query(cancel_sql, P(run.thread_id, strategy));
            if (!marked) co_return marked.error();
            for (int row = 0; row < marked->rows(); ++row) {
              out.cancelled_run_ids.emplace_back(marked->Text(row, 0));
            }
          }
        }
        // A new run always starts pending (its turn comes from ClaimTurn): a caller's status
        // here would otherwise insert a `running` run that no claim granted.
        run.status = model::RunStatus::kPending;
        run.created_at = run.updated_at = clock();
        static const std::string insert_sql = fmt::format(
            "INSERT INTO runs ({}, owner, lease_expires_at) VALUES ($1, $2, $3, $4, $5, $6::jsonb, "
            "$7, $8, $9, $10, $11::jsonb, $12, now() + $13::bigint * interval '1 millisecond')",
            kRunCols);
        c.CommitAfterNext();
        auto inserted = co_await c.Query(
            insert_sql, P(run.run_id, run.tenant, run.thread_id, run.assistant_id,
                          model::ToString(run.status), ToJson(run.metadata), run.multitask_strategy,
                          ToJson(run.kwargs), run.created_at, run.updated_at, ToJson(run.usage),
                          owner, LeaseMs(lease)));
        if (!inserted) co_return inserted.error();
        out.run = std::move(run);
        co_return out;
      });
}

Task<Result<TurnClaim>> PgLeases::ClaimTurn(std::string run_id, std::string owner) {
  return InTx<TurnClaim>(
      ctx_.pool, [run_id = std::move(run_id), owner = std::move(owner),
                  clock = ctx_.clock](PgConn& c) -> Task<Result<TurnClaim>> {
        TurnClaim claim;
        auto me = co_await c.Query(
            "SELECT thread_id, status, owner, cancel_action FROM runs WHERE run_id = $1 FOR UPDATE",
            P(run_id));
        if (!me) co_return me.error();
        if (me->rows() == 0 || me->OptText(0, 2) != owner) {
          claim.kind = TurnClaim::Kind::kLost;
          co_return claim;
        }
        std::string status(me->Text(0, 1));
        if (status != "pending" && status != "running") {
          claim.kind = TurnClaim::Kind::kLost;
          co_return claim;
        }
        if (auto action = me->OptText(0, 3)) {
          claim.kind = TurnClaim::Kind::kCancelled;
          claim.cancel_action = std::move(*action);
          co_return claim;
        }
        if (status == "running") {
          claim.kind = TurnClaim::Kind::kGranted;  // adopted mid-run: it keeps its turn
          co_return claim;
        }
        std::string thread_id(me->Text(0, 0));
        c.CommitAfterNext();
        auto granted = co_await c.Query(
            "UPDATE runs SET status = 'running', updated_at = $3 WHERE run_id = $1 AND NOT EXISTS "
            "(SELECT 1 FROM runs o WHERE o.thread_id = $2 AND o.run_id <> $1 AND "
            "(o.status = 'running' OR (o.status = 'pending' AND o.run_id < $1)))",
            P(run_id, thread_id, clock()));
        if (!granted) {
          // Another instance's claim on this thread won the unique index: not our turn yet.
          if (granted.error().code == Errc::kConflict) co_return claim;
          co_return granted.error();
        }
        claim.kind = granted->affected() == 1 ? TurnClaim::Kind::kGranted : TurnClaim::Kind::kNotYet;
        co_return claim;
      });
}

Task<Result<std::vector<LeaseState>>> PgLeases::Renew(std::string owner,
                                                      std::vector<std::string> run_ids,
                                                      std::chrono::milliseconds lease) {
  return WithConn<std::vector<LeaseState>>(
      ctx_.pool, [owner = std::move(owner), run_ids = std::move(run_ids),
                  lease](PgConn& c) -> Task<Result<std::vector<LeaseState>>> {
        std::vector<LeaseState> out;
        if (run_ids.empty()) co_return out;
        static const std::string sql = fmt::format(
            "UPDATE runs SET lease_expires_at = now() + $3::bigint * interval '1 millisecond' "
            "WHERE owner = $1 AND run_id = ANY($2::text[]) AND {} RETURNING run_id, cancel_action",
            kActive);
        auto r = co_await c.Query(sql, P(owner, TextArray(run_ids), LeaseMs(lease)));
        if (!r) co_return r.error();
        out.reserve(static_cast<std::size_t>(r->rows()));
        for (int row = 0; row < r->rows(); ++row) {
          out.push_back(LeaseState{std::string(r->Text(row, 0)), r->OptText(row, 1).value_or("")});
        }
        co_return out;
      });
}

Task<Result<std::vector<model::Run>>> PgLeases::AdoptExpired(std::string owner,
                                                             std::chrono::milliseconds lease,
                                                             std::int64_t limit) {
  return WithConn<std::vector<model::Run>>(
      ctx_.pool, [owner = std::move(owner), lease,
                  limit](PgConn& c) -> Task<Result<std::vector<model::Run>>> {
        // SKIP LOCKED: instances adopting at the same moment split the orphans between them.
        static const std::string sql = fmt::format(
            "UPDATE runs SET owner = $1, lease_expires_at = now() + $2::bigint * interval "
            "'1 millisecond' WHERE run_id IN (SELECT run_id FROM runs WHERE {} AND "
            "(lease_expires_at IS NULL OR lease_expires_at < now()) ORDER BY run_id LIMIT $3 "
            "FOR UPDATE SKIP LOCKED) RETURNING {}",
            kActive, kRunCols);
        auto r = co_await c.Query(sql, P(owner, LeaseMs(lease), std::max<std::int64_t>(limit, 0)));
        if (!r) co_return r.error();
        std::vector<model::Run> out;
        for (int row = 0; row < r->rows(); ++row) out.push_back(ReadRun(*r, row));
        // Oldest first, so each thread's runs resume in their order.
        std::sort(out.begin(), out.end(),
                  [](const model::Run& a, const model::Run& b) { return a.run_id < b.run_id; });
        co_return out;
      });
}

Task<Result<RunLeases::Finished>> PgLeases::Finish(std::string tenant, std::string thread_id,
                                                   std::string run_id, std::string owner,
                                                   Ending ending) {
  return InTx<Finished>(
      ctx_.pool, [tenant = std::move(tenant), thread_id = std::move(thread_id),
                  run_id = std::move(run_id), owner = std::move(owner),
                  ending = std::move(ending),
                  clock = ctx_.clock](PgConn& c) -> Task<Result<Finished>> {
        Finished out;
        // The thread's row lock first (Enqueue's order: thread, then runs), so that a run being
        // enqueued on this thread either commits before the others_active check below and is
        // counted, or waits for this commit and then finds the turn free. Without it a run
        // enqueued between that check and this commit read "not yet" (this run still looked
        // running) while others_active said false: a lost wakeup, the run never resumed.
        auto thread = co_await LoadThread(c, tenant, thread_id, /*lock=*/true);
        if (!thread && thread.error().code != Errc::kNotFound) co_return thread.error();
        // The thread's other active runs come back with the update (its snapshot still shows
        // this run active, hence run_id <>): no statement can change them meanwhile, as every
        // status change of a thread's runs holds the thread's row lock.
        static const std::string sql = fmt::format(
            "UPDATE runs SET status = $3, updated_at = $4, owner = NULL, lease_expires_at = NULL, "
            "usage = COALESCE($5::jsonb, usage) "
            "WHERE run_id = $1 AND owner = $2 AND {0} "
            "RETURNING EXISTS (SELECT 1 FROM runs o WHERE o.thread_id = runs.thread_id "
            "AND o.run_id <> $1 AND o.{0})",
            kActive);
        std::optional<std::string> usage;
        if (ending.usage) usage = ToJson(*ending.usage);
        auto r = co_await c.Query(sql, P(run_id, owner, model::ToString(ending.status), clock(), usage));
        if (!r) co_return r.error();
        if (r->rows() == 0) co_return out;
        out.owned = true;
        out.others_active = r->Text(0, 0) == "t";
        // Same transaction as the fence: a reader never sees the run ended with the thread's
        // values from before it (a /join answered on another instance reads both).
        if (ending.thread && thread) {
          ThreadPatch patch = *ending.thread;
          if (patch.status == model::ThreadStatus::kIdle && out.others_active) {
            patch.status = model::ThreadStatus::kBusy;
          }
          ApplyPatch(*thread, patch, clock());
          c.CommitAfterNext();
          if (Status st = co_await WriteThread(c, *thread); !st) co_return st.error();
        }
        co_return out;
      });
}

Task<Result<std::string>> PgLeases::RequestCancel(std::string tenant, std::string run_id,
                                                  std::string action) {
  return WithConn<std::string>(
      ctx_.pool, [tenant = std::move(tenant), run_id = std::move(run_id),
                  action = std::move(action)](PgConn& c) -> Task<Result<std::string>> {
        static const std::string sql = fmt::format(
            "UPDATE runs SET cancel_action = COALESCE(cancel_action, $3) WHERE run_id = $1 AND "
            "tenant = $2 AND {} RETURNING thread_id",
            kActive);
        auto r = co_await c.Query(sql, P(run_id, tenant, action));
        if (!r) co_return r.error();
        if (r->rows() == 0) co_return MakeError(Errc::kNotFound, "run " + run_id + " is not active");
        co_return std::string(r->Text(0, 0));
      });
}

Task<Result<std::vector<std::string>>> PgLeases::RequestThreadCancel(std::string tenant,
                                                                     std::string thread_id,
                                                                     std::string action) {
  return WithConn<std::vector<std::string>>(
      ctx_.pool, [tenant = std::move(tenant), thread_id = std::move(thread_id),
                  action = std::move(action)](PgConn& c) -> Task<Result<std::vector<std::string>>> {
        static const std::string sql = fmt::format(
            "UPDATE runs SET cancel_action = $3 WHERE thread_id = $1 AND tenant = $2 AND {} "
            "AND cancel_action IS NULL RETURNING run_id",
            kActive);
        auto r = co_await c.Query(sql, P(thread_id, tenant, action));
        if (!r) co_return r.error();
        std::vector<std::string> ids;
        for (int row = 0; row < r->rows(); ++row) ids.emplace_back(r->Text(row, 0));
        co_return ids;
      });
}

Task<Result<std::vector<std::string>>> PgLeases::ActiveAmong(std::vector<std::string> run_ids) {
  return WithConn<std::vector<std::string>>(
      ctx_.pool, [run_ids = std::move(run_ids)](PgConn& c) -> Task<Result<std::vector<std::string>>> {
        std::vector<std::string> out;
        if (run_ids.empty()) co_return out;
        static const std::string sql = fmt::format(
            "SELECT run_id FROM runs WHERE run_id = ANY($1::text[]) AND {}", kActive);
        auto r = co_await c.Query(sql, P(TextArray(run_ids)));
        if (!r) co_return r.error();
        for (int row = 0; row < r->rows(); ++row) out.emplace_back(r->Text(row, 0));
        co_return out;
      });
}

Task<Result<bool>> PgLeases::IsActive(std::string tenant, std::string run_id) {
  return WithConn<bool>(ctx_.pool, [tenant = std::move(tenant),
                                    run_id = std::move(run_id)](PgConn& c) -> Task<Result<bool>> {
    static const std::string sql = fmt::format(
        "SELECT EXISTS (SELECT 1 FROM runs WHERE run_id = $1 AND tenant = $2 AND {})", kActive);
    auto r = co_await c.Query(sql, P(run_id, tenant));
    if (!r) co_return r.error();
    co_return r->Text(0, 0) == "t";
  });
}

Task<Result<bool>> PgLeases::ThreadHasActiveRuns(std::string tenant, std::string thread_id) {
  return WithConn<bool>(ctx_.pool, [tenant = std::move(tenant), thread_id = std::move(
                                                                    thread_id)](PgConn& c)
                                       -> Task<Result<bool>> {
    static const std::string sql = fmt::format(
        "SELECT EXISTS (SELECT 1 FROM runs WHERE thread_id = $1 AND tenant = $2 AND {})", kActive);
    auto r = co_await c.Query(sql, P(thread_id, tenant));
    if (!r) co_return r.error();
    co_return r->Text(0, 0) == "t";
  });
}

Task<Status> PgLeases::ExpireAll(std::string owner) {
  return WithConn<void>(ctx_.pool, [owner = std::move(owner)](PgConn& c) -> Task<Status> {
    static const std::string sql = fmt::format(
        "UPDATE runs SET lease_expires_at = now() WHERE owner = $1 AND {}", kActive);
    auto r = co_await c.Query(sql, P(owner));
    if (!r) co_return r.error();
    co_return Status{};
  });
}

}  // namespace agentd::storage::postgres
