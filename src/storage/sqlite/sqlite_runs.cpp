#include <fmt/format.h>

#include "common/json.hpp"
#include "storage/sqlite/rows.hpp"
#include "storage/sqlite/sqlite_stores.hpp"

namespace agentd::storage::sqlite {

Task<Result<model::Run>> SqliteRuns::Create(model::Run run) {
  return RunJob<model::Run>(
      ctx_.worker, [run = std::move(run), clock = ctx_.clock](Db& db) mutable -> Result<model::Run> {
        run.created_at = run.updated_at = clock();
        static const std::string sql = fmt::format(
            "INSERT INTO runs ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            kRunCols);
        Status st = db.Run(sql, run.run_id, run.tenant, run.thread_id, run.assistant_id,
                           model::ToString(run.status), ToJson(run.metadata),
                           run.multitask_strategy, ToJson(run.kwargs), run.created_at,
                           run.updated_at, ToJson(run.usage));
        if (!st) {
          if (st.error().code == Errc::kConflict) {
            return MakeError(Errc::kConflict, "run " + run.run_id + " exists");
          }
          return st.error();
        }
        return run;
      });
}

Task<Result<model::Run>> SqliteRuns::Get(std::string tenant, std::string run_id) {
  return RunJob<model::Run>(ctx_.worker,
                            [tenant, run_id](Db& db) { return LoadRun(db, tenant, run_id); });
}

Task<Result<std::vector<model::Run>>> SqliteRuns::List(RunQuery query) {
  return RunJob<std::vector<model::Run>>(
      ctx_.worker, [query = std::move(query)](Db& db) -> Result<std::vector<model::Run>> {
        auto thread = LoadThread(db, query.tenant, query.thread_id);
        if (!thread) return thread.error();
        static const std::string sql = fmt::format(
            "SELECT {} FROM runs WHERE tenant = ?1 AND thread_id = ?2 "
            "AND (?3 IS NULL OR status = ?3) ORDER BY created_at DESC, rowid DESC "
            "LIMIT ?4 OFFSET ?5",
            kRunCols);
        auto stmt = db.Prepare(sql);
        if (!stmt) return stmt.error();
        std::optional<std::string> status;
        if (query.status) status = std::string(model::ToString(*query.status));
        stmt->BindAll(query.tenant, query.thread_id, status, std::max<std::int64_t>(query.limit, 0),
                      std::max<std::int64_t>(query.offset, 0));
        std::vector<model::Run> out;
        while (true) {
          auto row = stmt->Step();
          if (!row) return row.error();
          if (!*row) break;
          out.push_back(ReadRun(*stmt));
        }
        return out;
      });
}

Task<Result<model::Run>> SqliteRuns::SetStatus(std::string tenant, std::string run_id,
                                               model::RunStatus status) {
  return RunJob<model::Run>(
      ctx_.worker, [tenant, run_id, status, clock = ctx_.clock](Db& db) -> Result<model::Run> {
        auto run = LoadRun(db, tenant, run_id);
        if (!run) return run.error();
        run->status = status;
        run->updated_at = clock();
        Status st = db.Run("UPDATE runs SET status = ?2, updated_at = ?3 WHERE run_id = ?1",
                           run_id, model::ToString(status), run->updated_at);
        if (!st) return st.error();
        return run;
      });
}

Task<Status> SqliteRuns::Delete(std::string tenant, std::string run_id) {
  return RunStatusJob(ctx_.worker, [tenant, run_id](Db& db) -> Status {
    auto run = LoadRun(db, tenant, run_id);
    if (!run) return run.error();
    return db.Run("DELETE FROM runs WHERE run_id = ?1", run_id);
  });
}

Task<Status> SqliteRuns::SetUsage(std::string tenant, std::string run_id, json::object usage) {
  return RunStatusJob(ctx_.worker, [tenant, run_id, usage = std::move(usage)](Db& db) -> Status {
    auto run = LoadRun(db, tenant, run_id);
    if (!run) return run.error();
    return db.Run("UPDATE runs SET usage = ?2 WHERE run_id = ?1", run_id, ToJson(usage));
  });
}

Task<Status> SqliteRuns::SetTrace(std::string tenant, std::string run_id, std::string trace) {
  return RunStatusJob(ctx_.worker,
                      [tenant, run_id, trace = std::move(trace)](Db& db) -> Status {
                        auto run = LoadRun(db, tenant, run_id);
                        if (!run) return run.error();
                        return db.Run("UPDATE runs SET trace = ?2 WHERE run_id = ?1", run_id,
                                      trace);
                      });
}

Task<Result<std::optional<std::string>>> SqliteRuns::GetTrace(std::string tenant,
                                                              std::string thread_id,
                                                              std::string run_id) {
  return RunJob<std::optional<std::string>>(
      ctx_.worker, [tenant, thread_id, run_id](Db& db) -> Result<std::optional<std::string>> {
        auto stmt = db.Prepare(
            "SELECT trace FROM runs WHERE run_id = ?1 AND tenant = ?2 AND thread_id = ?3");
        if (!stmt) return stmt.error();
        stmt->BindAll(run_id, tenant, thread_id);
        auto row = stmt->Step();
        if (!row) return row.error();
        if (!*row) return MakeError(Errc::kNotFound, "run " + run_id);
        return stmt->OptText(0);
      });
}

}  // namespace agentd::storage::sqlite
