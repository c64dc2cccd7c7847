#include <algorithm>

#include <fmt/format.h>

#include "common/json.hpp"
#include "storage/postgres/pg_rows.hpp"
#include "storage/postgres/pg_stores.hpp"

namespace agentd::storage::postgres {

Task<Result<model::Run>> PgRuns::Create(model::Run run) {
  return WithConn<model::Run>(
      ctx_.pool,
      [run = std::move(run), clock = ctx_.clock](PgConn& c) mutable -> Task<Result<model::Run>> {
        run.created_at = run.updated_at = clock();
        static const std::string sql = fmt::format(
            "INSERT INTO runs ({}) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10, "
            "$11::jsonb)",
            kRunCols);
        auto r = co_await c.Query(
            sql, P(run.run_id, run.tenant, run.thread_id, run.assistant_id,
                   model::ToString(run.status), ToJson(run.metadata), run.multitask_strategy,
                   ToJson(run.kwargs), run.created_at, run.updated_at, ToJson(run.usage)));
        if (!r) {
          if (r.error().code == Errc::kConflict) {
            co_return MakeError(Errc::kConflict, "run " + run.run_id + " exists");
          }
          co_return r.error();
        }
        co_return run;
      });
}

Task<Result<model::Run>> PgRuns::Get(std::string tenant, std::string run_id) {
  return WithConn<model::Run>(ctx_.pool,
                              [tenant, run_id](PgConn& c) { return LoadRun(c, tenant, run_id); });
}

Task<Result<std::vector<model::Run>>> PgRuns::List(RunQuery query) {
  return WithConn<std::vector<model::Run>>(
      ctx_.pool, [query = std::move(query)](PgConn& c) -> Task<Result<std::vector<model::Run>>> {
        auto thread = co_await LoadThread(c, query.tenant, query.thread_id);
        if (!thread) co_return thread.error();
        static const std::string sql = fmt::format(
            "SELECT {} FROM runs WHERE tenant = $1 AND thread_id = $2 "
            "AND ($3::text IS NULL OR status = $3) ORDER BY created_at DESC, seq DESC "
            "LIMIT $4 OFFSET $5",
            kRunCols);
        std::optional<std::string> status;
        if (query.status) status = std::string(model::ToString(*query.status));
        auto r = co_await c.Query(
            sql, P(query.tenant, query.thread_id, status, std::max<std::int64_t>(query.limit, 0),
                   std::max<std::int64_t>(query.offset, 0)));
        if (!r) co_return r.error();
        std::vector<model::Run> out;
        for (int row = 0; row < r->rows(); ++row) out.push_back(ReadRun(*r, row));
        co_return out;
      });
}

Task<Result<model::Run>> PgRuns::SetStatus(std::string tenant, std::string run_id,
                                           model::RunStatus status) {
  return WithConn<model::Run>(
      ctx_.pool,
      [tenant, run_id, status, clock = ctx_.clock](PgConn& c) -> Task<Result<model::Run>> {
        // One statement: the tenant check and the write cannot interleave with another writer.
        static const std::string sql = fmt::format(
            "UPDATE runs SET status = $3, updated_at = $4 WHERE run_id = $1 AND tenant = $2 "
            "RETURNING {}",
            kRunCols);
        auto r = co_await c.Query(sql, P(run_id, tenant, model::ToString(status), clock()));
        if (!r) co_return r.error();
        if (r->rows() == 0) co_return MakeError(Errc::kNotFound, "run " + run_id);
        co_return ReadRun(*r, 0);
      });
}

Task<Status> PgRuns::Delete(std::string tenant, std::string run_id) {
  return WithConn<void>(ctx_.pool, [tenant, run_id](PgConn& c) -> Task<Status> {
    auto r = co_await c.Query("DELETE FROM runs WHERE run_id = $1 AND tenant = $2",
                              P(run_id, tenant));
    if (!r) co_return r.error();
    if (r->affected() == 0) co_return MakeError(Errc::kNotFound, "run " + run_id);
    co_return Status{};
  });
}

Task<Status> PgRuns::SetUsage(std::string tenant, std::string run_id, json::object usage) {
  return WithConn<void>(
      ctx_.pool,
      [tenant, run_id, usage = std::move(usage)](PgConn& c) -> Task<Status> {
        auto r = co_await c.Query(
            "UPDATE runs SET usage = $3::jsonb WHERE run_id = $1 AND tenant = $2",
            P(run_id, tenant, ToJson(usage)));
        if (!r) co_return r.error();
        if (r->affected() == 0) co_return MakeError(Errc::kNotFound, "run " + run_id);
        co_return Status{};
      });
}

Task<Status> PgRuns::SetTrace(std::string tenant, std::string run_id, std::string trace) {
  return WithConn<void>(
      ctx_.pool, [tenant, run_id, trace = std::move(trace)](PgConn& c) -> Task<Status> {
        auto r = co_await c.Query("UPDATE runs SET trace = $3 WHERE run_id = $1 AND tenant = $2",
                                  P(run_id, tenant, trace));
        if (!r) co_return r.error();
        if (r->affected() == 0) co_return MakeError(Errc::kNotFound, "run " + run_id);
        co_return Status{};
      });
}

Task<Result<std::optional<std::string>>> PgRuns::GetTrace(std::string tenant,
                                                          std::string thread_id,
                                                          std::string run_id) {
  return WithConn<std::optional<std::string>>(
      ctx_.pool,
      [tenant, thread_id, run_id](PgConn& c) -> Task<Result<std::optional<std::string>>> {
        auto r = co_await c.Query(
            "SELECT trace FROM runs WHERE run_id = $1 AND tenant = $2 AND thread_id = $3",
            P(run_id, tenant, thread_id));
        if (!r) co_return r.error();
        if (r->rows() == 0) co_return MakeError(Errc::kNotFound, "run " + run_id);
        co_return r->OptText(0, 0);
      });
}

Task<Result<std::vector<model::Run>>> PgRuns::ListByStatus(std::vector<model::RunStatus> statuses,
                                                           std::int64_t limit) {
  return WithConn<std::vector<model::Run>>(
      ctx_.pool, [statuses = std::move(statuses),
                  limit](PgConn& c) -> Task<Result<std::vector<model::Run>>> {
        std::vector<model::Run> out;
        if (statuses.empty()) co_return out;
        std::vector<std::string> names;
        for (auto s : statuses) names.emplace_back(model::ToString(s));
        static const std::string sql = fmt::format(
            "SELECT {} FROM runs WHERE status = ANY($1::text[]) ORDER BY created_at ASC, seq ASC "
            "LIMIT $2",
            kRunCols);
        auto r = co_await c.Query(sql, P(TextArray(names), std::max<std::int64_t>(limit, 0)));
        if (!r) co_return r.error();
        for (int row = 0; row < r->rows(); ++row) out.push_back(ReadRun(*r, row));
        co_return out;
      });
}

Task<Result<std::int64_t>> PgRuns::NextAttempt(std::string tenant, std::string run_id) {
  return WithConn<std::int64_t>(
      ctx_.pool, [tenant, run_id](PgConn& c) -> Task<Result<std::int64_t>> {
        auto r = co_await c.Query(
            "UPDATE runs SET attempt = attempt + 1 WHERE run_id = $1 AND tenant = $2 "
            "RETURNING attempt",
            P(run_id, tenant));
        if (!r) co_return r.error();
        if (r->rows() == 0) co_return MakeError(Errc::kNotFound, "run " + run_id + " not found");
        co_return r->Int(0, 0);
      });
}

}  // namespace agentd::storage::postgres
