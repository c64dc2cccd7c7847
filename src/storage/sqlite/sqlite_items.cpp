#include <fmt/format.h>

#include "common/json.hpp"
#include "storage/query.hpp"
#include "storage/sqlite/rows.hpp"
#include "storage/sqlite/sqlite_stores.hpp"

namespace agentd::storage::sqlite {
namespace {

Status RefreshTtl(Db& db, const model::StoreItem& item) {
  return db.Run(
      "UPDATE store_items SET expires_at = ?4 WHERE tenant = ?1 AND ns_path = ?2 AND key = ?3",
      item.tenant, JoinNamespace(item.namespace_path), item.key, item.expires_at);
}

}  // namespace

Task<Status> SqliteItems::Put(model::StoreItem item) {
  return RunStatusJob(ctx_.worker, [item = std::move(item), clock = ctx_.clock](Db& db) -> Status {
    TimestampMs now = clock();
    std::string path = JoinNamespace(item.namespace_path);
    // An expired item is absent: drop it so this put creates the item afresh.
    Status st = db.Run(
        "DELETE FROM store_items WHERE tenant = ?1 AND ns_path = ?2 AND key = ?3 "
        "AND expires_at <> 0 AND expires_at <= ?4",
        item.tenant, path, item.key, now);
    if (!st) return st;
    return db.Run(
        "INSERT INTO store_items (tenant, ns_path, ns_depth, key, value, created_at, updated_at, "
        "expires_at, ttl_minutes) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?8) "
        "ON CONFLICT (tenant, ns_path, key) DO UPDATE SET value = excluded.value, "
        "updated_at = excluded.updated_at, expires_at = excluded.expires_at, "
        "ttl_minutes = excluded.ttl_minutes",
        item.tenant, path, static_cast<std::int64_t>(item.namespace_path.size()), item.key,
        ToJson(item.value), now, ExpiryFromTtl(item.ttl_minutes, now), item.ttl_minutes);
  });
}

Task<Result<std::optional<model::StoreItem>>> SqliteItems::Get(std::string tenant,
                                                               std::vector<std::string> ns,
                                                               std::string key,
                                                               bool refresh_ttl) {
  return RunJob<std::optional<model::StoreItem>>(
      ctx_.worker, [tenant, path = JoinNamespace(ns), key, refresh_ttl,
                    clock = ctx_.clock](Db& db) -> Result<std::optional<model::StoreItem>> {
        TimestampMs now = clock();
        static const std::string sql = fmt::format(
            "SELECT {} FROM store_items WHERE tenant = ?1 AND ns_path = ?2 AND key = ?3",
            kItemCols);
        std::optional<model::StoreItem> item;
        {
          auto stmt = db.Prepare(sql);
          if (!stmt) return stmt.error();
          stmt->BindAll(tenant, path, key);
          auto row = stmt->Step();
          if (!row) return row.error();
          if (*row) item = ReadItem(*stmt);
        }
        if (!item || IsExpired(item->expires_at, now)) return std::optional<model::StoreItem>();
        if (refresh_ttl && item->ttl_minutes) {
          item->expires_at = ExpiryFromTtl(item->ttl_minutes, now);
          if (Status st = RefreshTtl(db, *item); !st) return st.error();
        }
        return item;
      });
}

Task<Status> SqliteItems::Delete(std::string tenant, std::vector<std::string> ns,
                                 std::string key) {
  return RunStatusJob(ctx_.worker, [tenant, path = JoinNamespace(ns), key](Db& db) {
    return db.Run("DELETE FROM store_items WHERE tenant = ?1 AND ns_path = ?2 AND key = ?3",
                  tenant, path, key);
  });
}

Task<Result<std::vector<model::StoreItem>>> SqliteItems::Search(ItemSearch query) {
  return RunJob<std::vector<model::StoreItem>>(
      ctx_.worker, [query = std::move(query),
                    clock = ctx_.clock](Db& db) -> Result<std::vector<model::StoreItem>> {
        TimestampMs now = clock();
        std::string prefix = JoinNamespace(query.namespace_prefix);
        static const std::string sql = fmt::format(
            "SELECT {} FROM store_items WHERE tenant = ?1 AND (expires_at = 0 OR expires_at > ?2) "
            "AND (?3 = '' OR ns_path = ?3 OR substr(ns_path, 1, length(?4)) = ?4) "
            "ORDER BY updated_at DESC, rowid DESC",
            kItemCols);
        std::vector<model::StoreItem> out;
        {
          auto stmt = db.Prepare(sql);
          if (!stmt) return stmt.error();
          stmt->BindAll(query.tenant, now, prefix, prefix + ".");
          std::int64_t index = 0;
          while (index < query.offset + query.limit) {
            auto row = stmt->Step();
            if (!row) return row.error();
            if (!*row) break;
            if (query.filter && !MatchesItemFilter(ParseObject(stmt->Text(3)), *query.filter)) {
              continue;
            }
            if (index++ >= query.offset) out.push_back(ReadItem(*stmt));
          }
        }
        if (query.refresh_ttl) {
          for (auto& item : out) {
            if (!item.ttl_minutes) continue;
            item.expires_at = ExpiryFromTtl(item.ttl_minutes, now);
            if (Status st = RefreshTtl(db, item); !st) return st.error();
          }
        }
        return out;
      });
}

Task<Result<std::vector<std::vector<std::string>>>> SqliteItems::ListNamespaces(
    NamespaceQuery query) {
  return RunJob<std::vector<std::vector<std::string>>>(
      ctx_.worker, [query = std::move(query), clock = ctx_.clock](
                       Db& db) -> Result<std::vector<std::vector<std::string>>> {
        auto stmt = db.Prepare(
            "SELECT DISTINCT ns_path FROM store_items WHERE tenant = ?1 "
            "AND (expires_at = 0 OR expires_at > ?2)");
        if (!stmt) return stmt.error();
        stmt->BindAll(query.tenant, clock());
        std::vector<std::vector<std::string>> all;
        while (true) {
          auto row = stmt->Step();
          if (!row) return row.error();
          if (!*row) break;
          all.push_back(SplitNamespace(stmt->Text(0)));
        }
        return SelectNamespaces(std::move(all), query);
      });
}

}  // namespace agentd::storage::sqlite
