#include <fmt/format.h>

#include "common/json.hpp"
#include "storage/postgres/pg_rows.hpp"
#include "storage/postgres/pg_stores.hpp"
#include "storage/query.hpp"

namespace agentd::storage::postgres {
namespace {

Task<Status> RefreshTtl(PgConn& c, const model::StoreItem& item) {
  auto r = co_await c.Query(
      "UPDATE store_items SET expires_at = $4 WHERE tenant = $1 AND ns_path = $2 AND key = $3",
      P(item.tenant, JoinNamespace(item.namespace_path), item.key, item.expires_at));
  if (!r) co_return r.error();
  co_return Status{};
}

}  // namespace

Task<Status> PgItems::Put(model::StoreItem item) {
  return InTx<void>(ctx_.pool, [item = std::move(item),
                                clock = ctx_.clock](PgConn& c) -> Task<Status> {
    TimestampMs now = clock();
    std::string path = JoinNamespace(item.namespace_path);
    // An expired item is absent: drop it so this put creates the item afresh.
    auto r = co_await c.Query(
        "DELETE FROM store_items WHERE tenant = $1 AND ns_path = $2 AND key = $3 "
        "AND expires_at <> 0 AND expires_at <= $4",
        P(item.tenant, path, item.key, now));
    if (!r) co_return r.error();
    r = co_await c.Query(
        "INSERT INTO store_items (tenant, ns_path, ns_depth, key, value, created_at, updated_at, "
        "expires_at, ttl_minutes) VALUES ($1, $2, $3, $4, $5::jsonb, $6, $6, $7, $8) "
        "ON CONFLICT (tenant, ns_path, key) DO UPDATE SET value = excluded.value, "
        "updated_at = excluded.updated_at, expires_at = excluded.expires_at, "
        "ttl_minutes = excluded.ttl_minutes",
        P(item.tenant, path, static_cast<std::int64_t>(item.namespace_path.size()), item.key,
          ToJson(item.value), now, ExpiryFromTtl(item.ttl_minutes, now), item.ttl_minutes));
    if (!r) co_return r.error();
    co_return Status{};
  });
}

Task<Result<std::optional<model::StoreItem>>> PgItems::Get(std::string tenant,
                                                           std::vector<std::string> ns,
                                                           std::string key, bool refresh_ttl) {
  return WithConn<std::optional<model::StoreItem>>(
      ctx_.pool, [tenant, path = JoinNamespace(ns), key, refresh_ttl, clock = ctx_.clock](
                     PgConn& c) -> Task<Result<std::optional<model::StoreItem>>> {
        TimestampMs now = clock();
        static const std::string sql = fmt::format(
            "SELECT {} FROM store_items WHERE tenant = $1 AND ns_path = $2 AND key = $3",
            kItemCols);
        auto r = co_await c.Query(sql, P(tenant, path, key));
        if (!r) co_return r.error();
        if (r->rows() == 0) co_return std::optional<model::StoreItem>();
        model::StoreItem item = ReadItem(*r, 0);
        if (IsExpired(item.expires_at, now)) co_return std::optional<model::StoreItem>();
        if (refresh_ttl && item.ttl_minutes) {
          item.expires_at = ExpiryFromTtl(item.ttl_minutes, now);
          if (Status st = co_await RefreshTtl(c, item); !st) co_return st.error();
        }
        co_return std::optional<model::StoreItem>(std::move(item));
      });
}

Task<Status> PgItems::Delete(std::string tenant, std::vector<std::string> ns, std::string key) {
  return WithConn<void>(ctx_.pool,
                        [tenant, path = JoinNamespace(ns), key](PgConn& c) -> Task<Status> {
                          auto r = co_await c.Query(
                              "DELETE FROM store_items WHERE tenant = $1 AND ns_path = $2 "
                              "AND key = $3",
                              P(tenant, path, key));
                          if (!r) co_return r.error();
                          co_return Status{};
                        });
}

Task<Result<std::vector<model::StoreItem>>> PgItems::Search(ItemSearch query) {
  return WithConn<std::vector<model::StoreItem>>(
      ctx_.pool, [query = std::move(query),
                  clock = ctx_.clock](PgConn& c) -> Task<Result<std::vector<model::StoreItem>>> {
        TimestampMs now = clock();
        std::string prefix = JoinNamespace(query.namespace_prefix);
        // The prefix is a btree range on the "C"-collated path: "a.b" itself, or anything in
        // ["a.b.", "a.b/") ('/' is the byte after '.'). The value filter's operators are
        // query.hpp's, applied here in sort order.
        static const std::string sql = fmt::format(
            "SELECT {} FROM store_items WHERE tenant = $1 AND (expires_at = 0 OR expires_at > $2) "
            "AND ($3 = '' OR ns_path = $3 OR (ns_path >= $4 AND ns_path < $5)) "
            "ORDER BY updated_at DESC, seq DESC",
            kItemCols);
        auto r = co_await c.Query(sql, P(query.tenant, now, prefix, prefix + ".", prefix + "/"));
        if (!r) co_return r.error();
        std::vector<model::StoreItem> out;
        std::int64_t index = 0;
        for (int row = 0; row < r->rows() && index < query.offset + query.limit; ++row) {
          if (query.filter && !MatchesItemFilter(ParseObject(r->Text(row, 3)), *query.filter)) {
            continue;
          }
          if (index++ >= query.offset) out.push_back(ReadItem(*r, row));
        }
        if (query.refresh_ttl) {
          for (auto& item : out) {
            if (!item.ttl_minutes) continue;
            item.expires_at = ExpiryFromTtl(item.ttl_minutes, now);
            if (Status st = co_await RefreshTtl(c, item); !st) co_return st.error();
          }
        }
        co_return out;
      });
}

Task<Result<std::vector<std::vector<std::string>>>> PgItems::ListNamespaces(
    NamespaceQuery query) {
  return WithConn<std::vector<std::vector<std::string>>>(
      ctx_.pool, [query = std::move(query), clock = ctx_.clock](
                     PgConn& c) -> Task<Result<std::vector<std::vector<std::string>>>> {
        auto r = co_await c.Query(
            "SELECT DISTINCT ns_path FROM store_items WHERE tenant = $1 "
            "AND (expires_at = 0 OR expires_at > $2)",
            P(query.tenant, clock()));
        if (!r) co_return r.error();
        std::vector<std::vector<std::string>> all;
        for (int row = 0; row < r->rows(); ++row) all.push_back(SplitNamespace(r->Text(row, 0)));
        co_return SelectNamespaces(std::move(all), query);
      });
}

}  // namespace agentd::storage::postgres
