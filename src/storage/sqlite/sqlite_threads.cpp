#include <algorithm>

#include <fmt/format.h>

#include "common/json.hpp"
#include "storage/query.hpp"
#include "storage/sqlite/rows.hpp"
#include "storage/sqlite/sqlite_stores.hpp"

namespace agentd::storage::sqlite {
namespace {

// Tenant, status and ids filter in SQL; metadata/values containment is tested here in sort
// order, so `total` is exact and pagination follows the filter. Only page rows are decoded.
Result<Page<model::Thread>> SearchOn(Db& db, const ThreadQuery& q, bool collect,
                                     TimestampMs now) {
  const char* dir = q.sort_order == model::SortOrder::kAsc ? "ASC" : "DESC";
  std::string sql = fmt::format(
      "SELECT {} FROM threads WHERE tenant = ?1 AND (?2 IS NULL OR status = ?2) "
      "AND (?3 IS NULL OR thread_id IN (SELECT value FROM json_each(?3))) "
      "AND (expires_at = 0 OR expires_at > ?4) "
      "ORDER BY {} {}, rowid {}",
      kThreadCols, ThreadSortColumn(q.sort_by), dir, dir);
  auto stmt = db.Prepare(sql);
  if (!stmt) return stmt.error();
  std::optional<std::string> status;
  if (q.status) status = std::string(model::ToString(*q.status));
  std::optional<std::string> ids;
  if (q.ids) {
    json::array list;
    for (const auto& id : *q.ids) list.emplace_back(id);
    ids = ToJson(list);
  }
  stmt->BindAll(q.tenant, status, ids, now);
  Page<model::Thread> page;
  while (true) {
    auto row = stmt->Step();
    if (!row) return row.error();
    if (!*row) break;
    if (q.metadata && !JsonContains(ParseObject(stmt->Text(3)), *q.metadata)) continue;
    if (q.values && !JsonContains(ParseValue(stmt->Text(5)), *q.values)) continue;
    std::int64_t index = page.total++;
    if (collect && index >= q.offset && index < q.offset + q.limit) {
      page.items.push_back(ReadThread(*stmt));
    }
  }
  return page;
}

// LoadThread, except that an expired thread reads as missing (with the reason).
Result<model::Thread> LoadLive(Db& db, const std::string& tenant, const std::string& id,
                               TimestampMs now) {
  auto t = LoadThread(db, tenant, id);
  if (t && IsExpired(t->expires_at, now)) return ExpiredError("Thread", id, t->expires_at);
  return t;
}

}  // namespace

Task<Result<model::Thread>> SqliteThreads::Create(model::Thread t, IfExists if_exists) {
  return RunJob<model::Thread>(
      ctx_.worker,
      [t = std::move(t), if_exists, clock = ctx_.clock](Db& db) mutable -> Result<model::Thread> {
        static const std::string select =
            fmt::format("SELECT {} FROM threads WHERE thread_id = ?1", kThreadCols);
        {
          auto stmt = db.Prepare(select);
          if (!stmt) return stmt.error();
          stmt->BindAll(t.thread_id);
          auto row = stmt->Step();
          if (!row) return row.error();
          if (*row) {
            model::Thread existing = ReadThread(*stmt);
            if (if_exists == IfExists::kDoNothing && existing.tenant == t.tenant) {
              if (IsExpired(existing.expires_at, clock())) {
                return ExpiredError("Thread", t.thread_id, existing.expires_at);
              }
              return existing;
            }
            return MakeError(Errc::kConflict, "thread " + t.thread_id + " exists");
          }
        }
        t.created_at = t.updated_at = t.state_updated_at = clock();
        if (Status st = InsertThread(db, t); !st) return st.error();
        return t;
      });
}

Task<Result<model::Thread>> SqliteThreads::Get(std::string tenant, std::string thread_id) {
  return RunJob<model::Thread>(
      ctx_.worker, [tenant, thread_id, clock = ctx_.clock](Db& db) {
        return LoadLive(db, tenant, thread_id, clock());
      });
}

Task<Result<model::Thread>> SqliteThreads::Update(std::string tenant, std::string thread_id,
                                                  ThreadPatch patch) {
  return RunJob<model::Thread>(
      ctx_.worker, [tenant, thread_id, patch = std::move(patch),
                    clock = ctx_.clock](Db& db) -> Result<model::Thread> {
        auto t = LoadThread(db, tenant, thread_id);
        if (!t) return t.error();
        ApplyPatch(*t, patch, clock());
        if (Status st = WriteThread(db, *t, patch.values.has_value()); !st) return st.error();
        return t;
      });
}

Task<Status> SqliteThreads::Delete(std::string tenant, std::string thread_id) {
  return RunStatusJob(ctx_.worker, [tenant, thread_id](Db& db) -> Status {
    auto t = LoadThread(db, tenant, thread_id);
    if (!t) return t.error();
    return DeleteThreadRows(db, thread_id);
  });
}

Task<Result<Page<model::Thread>>> SqliteThreads::Search(ThreadQuery query) {
  return RunJob<Page<model::Thread>>(
      ctx_.worker, [query = std::move(query), clock = ctx_.clock](Db& db) {
        return SearchOn(db, query, true, clock());
      });
}

Task<Result<std::int64_t>> SqliteThreads::Count(ThreadQuery query) {
  return RunJob<std::int64_t>(ctx_.worker,
                              [query = std::move(query),
                               clock = ctx_.clock](Db& db) -> Result<std::int64_t> {
                                auto page = SearchOn(db, query, false, clock());
                                if (!page) return page.error();
                                return page->total;
                              });
}

Task<Result<model::Thread>> SqliteThreads::Copy(std::string tenant, std::string source_thread_id,
                                                std::string new_thread_id,
                                                json::object extra_metadata) {
  return RunJob<model::Thread>(
      ctx_.worker, [tenant, source_thread_id, new_thread_id,
                    extra_metadata = std::move(extra_metadata),
                    clock = ctx_.clock](Db& db) -> Result<model::Thread> {
        auto src = LoadLive(db, tenant, source_thread_id, clock());
        if (!src) return src.error();
        model::Thread t;
        t.tenant = tenant;
        t.thread_id = new_thread_id;
        t.metadata = src->metadata;
        MergeShallow(t.metadata, extra_metadata);
        t.config = src->config;
        t.values = src->values;
        t.status = model::ThreadStatus::kIdle;
        t.created_at = t.updated_at = t.state_updated_at = clock();
        // The insert fails with kConflict (primary key) when the new id is taken; the job's
        // savepoint then undoes nothing else because nothing else was written yet.
        if (Status st = InsertThread(db, t); !st) return st.error();
        static const std::string copy_checkpoints = fmt::format(
            "INSERT INTO checkpoints ({0}) SELECT ?2, checkpoint_ns, checkpoint_id, "
            "parent_checkpoint_id, run_id, metadata, next, tasks, channels, message_count, "
            "created_at FROM checkpoints WHERE thread_id = ?1",
            kCheckpointCols);
        if (Status st = db.Run(copy_checkpoints, source_thread_id, new_thread_id); !st) {
          return st.error();
        }
        Status st = db.Run(
            "INSERT INTO checkpoint_messages (thread_id, checkpoint_id, idx, message) "
            "SELECT ?2, checkpoint_id, idx, message FROM checkpoint_messages WHERE thread_id = ?1",
            source_thread_id, new_thread_id);
        if (!st) return st.error();
        return t;
      });
}

Task<Result<std::vector<model::Thread>>> SqliteThreads::ListExpired(TimestampMs now,
                                                                    std::int64_t limit) {
  return RunJob<std::vector<model::Thread>>(
      ctx_.worker, [now, limit](Db& db) -> Result<std::vector<model::Thread>> {
        static const std::string sql = fmt::format(
            "SELECT {} FROM threads WHERE expires_at <> 0 AND expires_at <= ?1 "
            "ORDER BY expires_at ASC, rowid ASC LIMIT ?2",
            kThreadCols);
        auto stmt = db.Prepare(sql);
        if (!stmt) return stmt.error();
        stmt->BindAll(now, std::max<std::int64_t>(limit, 0));
        std::vector<model::Thread> out;
        while (true) {
          auto row = stmt->Step();
          if (!row) return row.error();
          if (!*row) break;
          out.push_back(ReadThread(*stmt));
        }
        return out;
      });
}

}  // namespace agentd::storage::sqlite
