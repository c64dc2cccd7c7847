// RunStore's crash-recovery queries (storage.hpp): ListByStatus and NextAttempt.
#include <fmt/format.h>

#include "storage/sqlite/rows.hpp"
#include "storage/sqlite/sqlite_stores.hpp"

namespace agentd::storage::sqlite {

Task<Result<std::vector<model::Run>>> SqliteRuns::ListByStatus(
    std::vector<model::RunStatus> statuses, std::int64_t limit) {
  return RunJob<std::vector<model::Run>>(
      ctx_.worker,
      [statuses = std::move(statuses), limit](Db& db) -> Result<std::vector<model::Run>> {
        std::vector<model::Run> out;
        if (statuses.empty()) return out;
        std::string marks;
        for (std::size_t i = 0; i < statuses.size(); ++i) {
          marks += fmt::format("{}?{}", i == 0 ? "" : ", ", i + 2);
        }
        std::string sql = fmt::format(
            "SELECT {} FROM runs WHERE status IN ({}) ORDER BY created_at ASC, rowid ASC LIMIT ?1",
            kRunCols, marks);
        auto stmt = db.Prepare(sql);
        if (!stmt) return stmt.error();
        stmt->Bind(1, std::max<std::int64_t>(limit, 0));
        for (std::size_t i = 0; i < statuses.size(); ++i) {
          stmt->Bind(static_cast<int>(i + 2), model::ToString(statuses[i]));
        }
        while (true) {
          auto row = stmt->Step();
          if (!row) return row.error();
          if (!*row) break;
          out.push_back(ReadRun(*stmt));
        }
        return out;
      });
}

Task<Result<std::int64_t>> SqliteRuns::NextAttempt(std::string tenant, std::string run_id) {
  return RunJob<std::int64_t>(ctx_.worker, [tenant, run_id](Db& db) -> Result<std::int64_t> {
    auto run = LoadRun(db, tenant, run_id);
    if (!run) return run.error();
    Status st = db.Run("UPDATE runs SET attempt = attempt + 1 WHERE run_id = ?1", run_id);
    if (!st) return st.error();
    auto stmt = db.Prepare("SELECT attempt FROM runs WHERE run_id = ?1");
    if (!stmt) return stmt.error();
    stmt->BindAll(run_id);
    auto row = stmt->Step();
    if (!row) return row.error();
    if (!*row) return MakeError(Errc::kNotFound, "run " + run_id + " not found");
    return stmt->Int(0);
  });
}

}  // namespace agentd::storage::sqlite
