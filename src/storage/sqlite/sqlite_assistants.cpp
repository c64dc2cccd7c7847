#include <algorithm>

#include <fmt/format.h>

#include "common/json.hpp"
#include "storage/query.hpp"
#include "storage/sqlite/rows.hpp"
#include "storage/sqlite/sqlite_stores.hpp"

namespace agentd::storage::sqlite {
namespace {

// Tenant, graph_id and name filter in SQL; metadata containment is tested here, row by row
// in sort order, so `total` counts exactly the matches and pagination follows the filter.
// Only rows inside the page are decoded in full.
Result<Page<model::Assistant>> SearchOn(Db& db, const AssistantQuery& q, bool collect,
                                        TimestampMs now) {
  const char* dir = q.sort_order == model::SortOrder::kAsc ? "ASC" : "DESC";
  std::string sql = fmt::format(
      "SELECT {} FROM assistants WHERE tenant = ?1 AND (?2 IS NULL OR graph_id = ?2) "
      "AND (?3 IS NULL OR instr(lower(name), lower(?3)) > 0) "
      "AND (expires_at = 0 OR expires_at > ?4) ORDER BY {} {}, rowid {}",
      kAssistantCols, AssistantSortColumn(q.sort_by), dir, dir);
  auto stmt = db.Prepare(sql);
  if (!stmt) return stmt.error();
  stmt->BindAll(q.tenant, q.graph_id, q.name, now);
  Page<model::Assistant> page;
  while (true) {
    auto row = stmt->Step();
    if (!row) return row.error();
    if (!*row) break;
    if (q.metadata && !JsonContains(ParseObject(stmt->Text(7)), *q.metadata)) continue;
    std::int64_t index = page.total++;
    if (collect && index >= q.offset && index < q.offset + q.limit) {
      page.items.push_back(ReadAssistant(*stmt));
    }
  }
  return page;
}

// LoadAssistant, except that an expired assistant reads as missing (with the reason).
Result<model::Assistant> LoadLive(Db& db, const std::string& tenant, const std::string& id,
                                  TimestampMs now) {
  auto a = LoadAssistant(db, tenant, id);
  if (a && IsExpired(a->expires_at, now)) return ExpiredError("Assistant", id, a->expires_at);
  return a;
}

}  // namespace

Task<Result<model::Assistant>> SqliteAssistants::Create(model::Assistant a, IfExists if_exists) {
  return RunJob<model::Assistant>(
      ctx_.worker, [a = std::move(a), if_exists, clock = ctx_.clock](
                       Db& db) mutable -> Result<model::Assistant> {
        static const std::string select =
            fmt::format("SELECT {} FROM assistants WHERE assistant_id = ?1", kAssistantCols);
        auto stmt = db.Prepare(select);
        if (!stmt) return stmt.error();
        stmt->BindAll(a.assistant_id);
        auto row = stmt->Step();
        if (!row) return row.error();
        if (*row) {
          model::Assistant existing = ReadAssistant(*stmt);
          // Another tenant's id is a conflict too, but its row is never handed out.
          if (if_exists == IfExists::kDoNothing && existing.tenant == a.tenant) {
            if (IsExpired(existing.expires_at, clock())) {
              return ExpiredError("Assistant", a.assistant_id, existing.expires_at);
            }
            return existing;
          }
          return MakeError(Errc::kConflict, "assistant " + a.assistant_id + " exists");
        }
        a.version = 1;
        a.created_at = a.updated_at = clock();
        static const std::string insert = fmt::format(
            "INSERT INTO assistants ({}) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            kAssistantCols);
        Status st = db.Run(insert, a.assistant_id, a.tenant, a.graph_id, a.name, a.description,
                           ToJson(a.config), ToJson(a.context), ToJson(a.metadata), a.version,
                           a.created_at, a.updated_at, a.expires_at);
        if (!st) return st.error();
        if (st = InsertVersion(db, SnapshotOf(a, a.created_at)); !st) return st.error();
        return a;
      });
}

Task<Result<model::Assistant>> SqliteAssistants::Get(std::string tenant,
                                                     std::string assistant_id) {
  return RunJob<model::Assistant>(ctx_.worker,
                                  [tenant, assistant_id, clock = ctx_.clock](Db& db) {
                                    return LoadLive(db, tenant, assistant_id, clock());
                                  });
}

Task<Result<model::Assistant>> SqliteAssistants::Update(std::string tenant,
                                                        std::string assistant_id,
                                                        AssistantPatch patch) {
  return RunJob<model::Assistant>(
      ctx_.worker, [tenant, assistant_id, patch = std::move(patch),
                    clock = ctx_.clock](Db& db) -> Result<model::Assistant> {
        auto a = LoadLive(db, tenant, assistant_id, clock());
        if (!a) return a.error();
        auto stmt =
            db.Prepare("SELECT coalesce(max(version), 0) FROM assistant_versions "
                       "WHERE assistant_id = ?1");
        if (!stmt) return stmt.error();
        stmt->BindAll(assistant_id);
        auto row = stmt->Step();
        if (!row) return row.error();
        std::int64_t max_version = *row ? stmt->Int(0) : 0;
        ApplyPatch(*a, patch);
        a->version = max_version + 1;
        a->updated_at = clock();
        if (Status st = WriteAssistant(db, *a); !st) return st.error();
        if (Status st = InsertVersion(db, SnapshotOf(*a, a->updated_at)); !st) return st.error();
        return a;
      });
}

Task<Status> SqliteAssistants::Delete(std::string tenant, std::string assistant_id,
                                      bool delete_threads) {
  return RunStatusJob(ctx_.worker, [tenant, assistant_id, delete_threads](Db& db) -> Status {
    auto a = LoadAssistant(db, tenant, assistant_id);
    if (!a) return a.error();
    Status st = db.Run("DELETE FROM runs WHERE tenant = ?1 AND assistant_id = ?2", tenant,
                       assistant_id);
    if (!st) return st;
    if (delete_threads) {
      std::vector<std::string> doomed;
      {
        auto stmt = db.Prepare(
            "SELECT thread_id FROM threads WHERE tenant = ?1 "
            "AND json_extract(metadata, '$.assistant_id') = ?2");
        if (!stmt) return stmt.error();
        stmt->BindAll(tenant, assistant_id);
        while (true) {
          auto row = stmt->Step();
          if (!row) return row.error();
          if (!*row) break;
          doomed.emplace_back(stmt->Text(0));
        }
      }
      for (const auto& id : doomed) {
        if (st = DeleteThreadRows(db, id); !st) return st;
      }
    }
    // Versions go with the assistant (ON DELETE CASCADE).
    return db.Run("DELETE FROM assistants WHERE assistant_id = ?1", assistant_id);
  });
}

Task<Result<Page<model::Assistant>>> SqliteAssistants::Search(AssistantQuery query) {
  return RunJob<Page<model::Assistant>>(
      ctx_.worker, [query = std::move(query), clock = ctx_.clock](Db& db) {
        return SearchOn(db, query, true, clock());
      });
}

Task<Result<std::int64_t>> SqliteAssistants::Count(AssistantQuery query) {
  return RunJob<std::int64_t>(
      ctx_.worker,
      [query = std::move(query), clock = ctx_.clock](Db& db) -> Result<std::int64_t> {
        auto page = SearchOn(db, query, false, clock());
        if (!page) return page.error();
        return page->total;
      });
}

Task<Result<std::vector<model::AssistantVersion>>> SqliteAssistants::ListVersions(
    std::string tenant, std::string assistant_id, std::optional<json::object> metadata,
    std::int64_t limit, std::int64_t offset) {
  return RunJob<std::vector<model::AssistantVersion>>(
      ctx_.worker, [tenant, assistant_id, metadata = std::move(metadata), limit, offset,
                    clock = ctx_.clock](Db& db) -> Result<std::vector<model::AssistantVersion>> {
        auto a = LoadLive(db, tenant, assistant_id, clock());
        if (!a) return a.error();
        static const std::string sql = fmt::format(
            "SELECT {} FROM assistant_versions WHERE assistant_id = ?1 ORDER BY version DESC",
            kVersionCols);
        auto stmt = db.Prepare(sql);
        if (!stmt) return stmt.error();
        stmt->BindAll(assistant_id);
        std::vector<model::AssistantVersion> out;
        while (true) {
          auto row = stmt->Step();
          if (!row) return row.error();
          if (!*row) break;
          model::AssistantVersion v = ReadVersion(*stmt);
          if (!metadata || JsonContains(v.metadata, *metadata)) out.push_back(std::move(v));
        }
        return Slice(std::move(out), offset, limit);
      });
}

Task<Result<model::Assistant>> SqliteAssistants::SetLatest(std::string tenant,
                                                           std::string assistant_id,
                                                           std::int64_t version) {
  return RunJob<model::Assistant>(
      ctx_.worker,
      [tenant, assistant_id, version, clock = ctx_.clock](Db& db) -> Result<model::Assistant> {
        auto a = LoadLive(db, tenant, assistant_id, clock());
        if (!a) return a.error();
        static const std::string sql = fmt::format(
            "SELECT {} FROM assistant_versions WHERE assistant_id = ?1 AND version = ?2",
            kVersionCols);
        auto stmt = db.Prepare(sql);
        if (!stmt) return stmt.error();
        stmt->BindAll(assistant_id, version);
        auto row = stmt->Step();
        if (!row) return row.error();
        if (!*row) {
          return MakeError(Errc::kNotFound, fmt::format("assistant version {}", version));
        }
        model::AssistantVersion v = ReadVersion(*stmt);
        a->graph_id = v.graph_id;
        a->config = v.config;
        a->context = v.context;
        a->metadata = v.metadata;
        a->name = v.name;
        a->description = v.description;
        a->version = v.version;
        a->updated_at = clock();
        if (Status st = WriteAssistant(db, *a); !st) return st.error();
        return a;
      });
}

Task<Result<std::vector<model::Assistant>>> SqliteAssistants::ListExpired(TimestampMs now,
                                                                          std::int64_t limit) {
  return RunJob<std::vector<model::Assistant>>(
      ctx_.worker, [now, limit](Db& db) -> Result<std::vector<model::Assistant>> {
        static const std::string sql = fmt::format(
            "SELECT {} FROM assistants WHERE expires_at <> 0 AND expires_at <= ?1 "
            "ORDER BY expires_at ASC, rowid ASC LIMIT ?2",
            kAssistantCols);
        auto stmt = db.Prepare(sql);
        if (!stmt) return stmt.error();
        stmt->BindAll(now, std::max<std::int64_t>(limit, 0));
        std::vector<model::Assistant> out;
        while (true) {
          auto row = stmt->Step();
          if (!row) return row.error();
          if (!*row) break;
          out.push_back(ReadAssistant(*stmt));
        }
        return out;
      });
}

}  // namespace agentd::storage::sqlite
