#include <algorithm>

#include <fmt/format.h>

#include "common/json.hpp"
#include "storage/postgres/pg_rows.hpp"
#include "storage/postgres/pg_stores.hpp"
#include "storage/query.hpp"

namespace agentd::storage::postgres {
namespace {

// Tenant, status, ids and JSON containment (GIN-served @> on metadata and values) filter in
// SQL; query.hpp's JsonContains re-checks the JSON filters in sort order (jsonb containment is
// looser for arrays), so `total` is exact and pagination follows the filter.
Task<Result<Page<model::Thread>>> SearchOn(PgConn& c, const ThreadQuery& q, bool collect,
                                           TimestampMs now) {
  const char* dir = q.sort_order == model::SortOrder::kAsc ? "ASC" : "DESC";
  std::string sql = fmt::format(
      "SELECT {} FROM threads WHERE tenant = $1 AND ($2::text IS NULL OR status = $2) "
      "AND ($3::text[] IS NULL OR thread_id = ANY($3::text[])) "
      "AND ($4::jsonb IS NULL OR metadata @> $4::jsonb) "
      "AND ($5::jsonb IS NULL OR thread_values @> $5::jsonb) "
      "AND (expires_at = 0 OR expires_at > $6) "
      "ORDER BY {} {}, seq {}",
      kThreadCols, ThreadSortColumn(q.sort_by), dir, dir);
  std::optional<std::string> status;
  if (q.status) status = std::string(model::ToString(*q.status));
  std::optional<std::string> ids;
  if (q.ids) ids = TextArray(*q.ids);
  std::optional<std::string> metadata;
  if (q.metadata && !q.metadata->empty()) metadata = ToJson(*q.metadata);
  std::optional<std::string> values;
  if (q.values && !q.values->empty()) values = ToJson(*q.values);
  auto r = co_await c.Query(sql, P(q.tenant, status, ids, metadata, values, now));
  if (!r) co_return r.error();
  Page<model::Thread> page;
  for (int row = 0; row < r->rows(); ++row) {
    if (q.metadata && !JsonContains(ParseObject(r->Text(row, 3)), *q.metadata)) continue;
    if (q.values && !JsonContains(ParseValue(r->Text(row, 5)), *q.values)) continue;
    std::int64_t index = page.total++;
    if (collect && index >= q.offset && index < q.offset + q.limit) {
      page.items.push_back(ReadThread(*r, row));
    }
  }
  co_return page;
}

}  // namespace

Task<Result<model::Thread>> PgThreads::Create(model::Thread t, IfExists if_exists) {
  // No transaction: the insert is one statement, and on a conflict the existing row is read
  // in a statement of its own either way (read committed), so BEGIN/COMMIT bought nothing.
  return WithConn<model::Thread>(
      ctx_.pool,
      [t = std::move(t), if_exists,
       clock = ctx_.clock](PgConn& c) mutable -> Task<Result<model::Thread>> {
        t.created_at = t.updated_at = t.state_updated_at = clock();
        static const std::string insert = fmt::format(
            "INSERT INTO threads ({}) VALUES ($1, $2, $3, $4::jsonb, $5, $6::jsonb, $7, $8, $9, "
            "$10, $11, $12) ON CONFLICT (thread_id) DO NOTHING",
            kThreadCols);
        auto r = co_await c.Query(
            insert, P(t.thread_id, t.tenant, model::ToString(t.status), ToJson(t.metadata),
                      ToJson(t.config), ToJson(t.values), ToJson(t.interrupts), ToJson(t.error),
                      t.created_at, t.updated_at, t.state_updated_at, t.expires_at));
        if (!r) co_return r.error();
        if (r->affected() == 0) {
          auto existing = co_await LoadThread(c, t.tenant, t.thread_id);
          if (if_exists == IfExists::kDoNothing && existing) {
            if (IsExpired(existing->expires_at, clock())) {
              co_return ExpiredError("Thread", t.thread_id, existing->expires_at);
            }
            co_return existing;
          }
          co_return MakeError(Errc::kConflict, "thread " + t.thread_id + " exists");
        }
        co_return t;
      });
}

Task<Result<model::Thread>> PgThreads::Get(std::string tenant, std::string thread_id) {
  return WithConn<model::Thread>(
      ctx_.pool, [tenant, thread_id, clock = ctx_.clock](PgConn& c) -> Task<Result<model::Thread>> {
        auto t = co_await LoadThread(c, tenant, thread_id);
        if (t && IsExpired(t->expires_at, clock())) {
          co_return ExpiredError("Thread", thread_id, t->expires_at);
        }
        co_return t;
      });
}

Task<Result<model::Thread>> PgThreads::Update(std::string tenant, std::string thread_id,
                                              ThreadPatch patch) {
  return InTx<model::Thread>(
      ctx_.pool, [tenant, thread_id, patch = std::move(patch),
                  clock = ctx_.clock](PgConn& c) -> Task<Result<model::Thread>> {
        // Two round trips: BEGIN goes with the locking read, COMMIT with the write.
        auto t = co_await LoadThread(c, tenant, thread_id, true);
        if (!t) co_return t.error();
        ApplyPatch(*t, patch, clock());
        c.CommitAfterNext();
        if (Status st = co_await WriteThread(c, *t); !st) co_return st.error();
        co_return t;
      });
}

Task<Status> PgThreads::Delete(std::string tenant, std::string thread_id) {
  return InTx<void>(ctx_.pool, [tenant, thread_id](PgConn& c) -> Task<Status> {
    auto t = co_await LoadThread(c, tenant, thread_id, true);
    if (!t) co_return t.error();
    co_return co_await DeleteThreadRows(c, thread_id);
  });
}

Task<Result<Page<model::Thread>>> PgThreads::Search(ThreadQuery query) {
  return WithConn<Page<model::Thread>>(
      ctx_.pool, [query = std::move(query), clock = ctx_.clock](PgConn& c) {
        return SearchOn(c, query, true, clock());
      });
}

Task<Result<std::int64_t>> PgThreads::Count(ThreadQuery query) {
  return WithConn<std::int64_t>(
      ctx_.pool,
      [query = std::move(query), clock = ctx_.clock](PgConn& c) -> Task<Result<std::int64_t>> {
        auto page = co_await SearchOn(c, query, false, clock());
        if (!page) co_return page.error();
        co_return page->total;
      });
}

Task<Result<model::Thread>> PgThreads::Copy(std::string tenant, std::string source_thread_id,
                                            std::string new_thread_id,
                                            json::object extra_metadata) {
  return InTx<model::Thread>(
      ctx_.pool, [tenant, source_thread_id, new_thread_id,
                  extra_metadata = std::move(extra_metadata),
                  clock = ctx_.clock](PgConn& c) -> Task<Result<model::Thread>> {
        auto src = co_await LoadThread(c, tenant, source_thread_id);
        if (!src) co_return src.error();
        if (IsExpired(src->expires_at, clock())) {
          co_return ExpiredError("Thread", source_thread_id, src->expires_at);
        }
        model::Thread t;
        t.tenant = tenant;
        t.thread_id = new_thread_id;
        t.metadata = src->metadata;
        MergeShallow(t.metadata, extra_metadata);
        t.config = src->config;
        t.values = src->values;
        t.status = model::ThreadStatus::kIdle;
        t.created_at = t.updated_at = t.state_updated_at = clock();
        // kConflict (23505) when the new id is taken; the transaction then rolls back.
        if (Status st = co_await InsertThread(c, t); !st) co_return st.error();
        static const std::string copy_checkpoints = fmt::format(
            "INSERT INTO checkpoints ({0}) SELECT $2, checkpoint_ns, checkpoint_id, "
            "parent_checkpoint_id, run_id, metadata, next, tasks, channels, message_count, "
            "created_at FROM checkpoints WHERE thread_id = $1",
            kCheckpointCols);
        auto r = co_await c.Query(copy_checkpoints, P(source_thread_id, new_thread_id));
        if (!r) co_return r.error();
        r = co_await c.Query(
            "INSERT INTO checkpoint_messages (thread_id, checkpoint_id, idx, message) "
            "SELECT $2, checkpoint_id, idx, message FROM checkpoint_messages WHERE thread_id = $1",
            P(source_thread_id, new_thread_id));
        if (!r) co_return r.error();
        co_return t;
      });
}

Task<Result<std::vector<model::Thread>>> PgThreads::ListExpired(TimestampMs now,
                                                                std::int64_t limit) {
  return WithConn<std::vector<model::Thread>>(
      ctx_.pool, [now, limit](PgConn& c) -> Task<Result<std::vector<model::Thread>>> {
        static const std::string sql = fmt::format(
            "SELECT {} FROM threads WHERE expires_at <> 0 AND expires_at <= $1 "
            "ORDER BY expires_at ASC, seq ASC LIMIT $2",
            kThreadCols);
        auto r = co_await c.Query(sql, P(now, std::max<std::int64_t>(limit, 0)));
        if (!r) co_return r.error();
        std::vector<model::Thread> out;
        for (int row = 0; row < r->rows(); ++row) out.push_back(ReadThread(*r, row));
        co_return out;
      });
}

}  // namespace agentd::storage::postgres
