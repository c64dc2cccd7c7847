#include <algorithm>

#include <fmt/format.h>

#include "common/json.hpp"
#include "storage/postgres/pg_rows.hpp"
#include "storage/postgres/pg_stores.hpp"
#include "storage/query.hpp"

namespace agentd::storage::postgres {
namespace {

// Tenant, graph_id, name and metadata containment (metadata @> $4, served by the GIN index)
// filter in SQL; query.hpp's JsonContains then re-checks metadata row by row in sort order,
// because jsonb containment is looser than the protocol's (arrays match as subsets), so
// `total` counts exactly the matches. Only rows inside the page are decoded in full.
Task<Result<Page<model::Assistant>>> SearchOn(PgConn& c, const AssistantQuery& q, bool collect,
                                              TimestampMs now) {
  const char* dir = q.sort_order == model::SortOrder::kAsc ? "ASC" : "DESC";
  std::string sql = fmt::format(
      "SELECT {} FROM assistants WHERE tenant = $1 AND ($2::text IS NULL OR graph_id = $2) "
      "AND ($3::text IS NULL OR strpos(lower(name), lower($3)) > 0) "
      "AND ($4::jsonb IS NULL OR metadata @> $4::jsonb) "
      "AND (expires_at = 0 OR expires_at > $5) ORDER BY {} {}, seq {}",
      kAssistantCols, AssistantSortColumn(q.sort_by), dir, dir);
  std::optional<std::string> metadata;
  if (q.metadata && !q.metadata->empty()) metadata = ToJson(*q.metadata);
  auto r = co_await c.Query(sql, P(q.tenant, q.graph_id, q.name, metadata, now));
  if (!r) co_return r.error();
  Page<model::Assistant> page;
  for (int row = 0; row < r->rows(); ++row) {
    if (q.metadata && !JsonContains(ParseObject(r->Text(row, 7)), *q.metadata)) continue;
    std::int64_t index = page.total++;
    if (collect && index >= q.offset && index < q.offset + q.limit) {
      page.items.push_back(ReadAssistant(*r, row));
    }
  }
  co_return page;
}

// LoadAssistant, except that an expired assistant reads as missing (with the reason).
Task<Result<model::Assistant>> LoadLive(PgConn& c, std::string tenant, std::string id,
                                        TimestampMs now, bool for_update = false) {
  auto a = co_await LoadAssistant(c, tenant, id, for_update);
  if (a && IsExpired(a->expires_at, now)) co_return ExpiredError("Assistant", id, a->expires_at);
  co_return a;
}

}  // namespace

Task<Result<model::Assistant>> PgAssistants::Create(model::Assistant a, IfExists if_exists) {
  return InTx<model::Assistant>(
      ctx_.pool, [a = std::move(a), if_exists,
                  clock = ctx_.clock](PgConn& c) mutable -> Task<Result<model::Assistant>> {
        a.version = 1;
        a.created_at = a.updated_at = clock();
        static const std::string insert = fmt::format(
            "INSERT INTO assistants ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, "
            "$11, $12) ON CONFLICT (assistant_id) DO NOTHING",
            kAssistantCols);
        auto r = co_await c.Query(insert, P(a.assistant_id, a.tenant, a.graph_id, a.name,
                                            a.description, ToJson(a.config), ToJson(a.context),
                                            ToJson(a.metadata), a.version, a.created_at,
                                            a.updated_at, a.expires_at));
        if (!r) co_return r.error();
        if (r->affected() == 0) {
          // Another tenant's id is a conflict too, but its row is never handed out.
          auto existing = co_await LoadAssistant(c, a.tenant, a.assistant_id);
          if (if_exists == IfExists::kDoNothing && existing) {
            if (IsExpired(existing->expires_at, clock())) {
              co_return ExpiredError("Assistant", a.assistant_id, existing->expires_at);
            }
            co_return existing;
          }
          co_return MakeError(Errc::kConflict, "assistant " + a.assistant_id + " exists");
        }
        if (Status st = co_await InsertVersion(c, SnapshotOf(a, a.created_at)); !st) {
          co_return st.error();
        }
        co_return a;
      });
}

Task<Result<model::Assistant>> PgAssistants::Get(std::string tenant, std::string assistant_id) {
  return WithConn<model::Assistant>(ctx_.pool,
                                    [tenant, assistant_id, clock = ctx_.clock](PgConn& c) {
                                      return LoadLive(c, tenant, assistant_id, clock());
                                    });
}

Task<Result<model::Assistant>> PgAssistants::Update(std::string tenant, std::string assistant_id,
                                                    AssistantPatch patch) {
  return InTx<model::Assistant>(
      ctx_.pool, [tenant, assistant_id, patch = std::move(patch),
                  clock = ctx_.clock](PgConn& c) -> Task<Result<model::Assistant>> {
        // FOR UPDATE: concurrent updates take version numbers one after the other.
        auto a = co_await LoadLive(c, tenant, assistant_id, clock(), true);
        if (!a) co_return a.error();
        auto r = co_await c.Query(
            "SELECT coalesce(max(version), 0) FROM assistant_versions WHERE assistant_id = $1",
            P(assistant_id));
        if (!r) co_return r.error();
        ApplyPatch(*a, patch);
        a->version = r->Int(0, 0) + 1;
        a->updated_at = clock();
        if (Status st = co_await WriteAssistant(c, *a); !st) co_return st.error();
        if (Status st = co_await InsertVersion(c, SnapshotOf(*a, a->updated_at)); !st) {
          co_return st.error();
        }
        co_return a;
      });
}

Task<Status> PgAssistants::Delete(std::string tenant, std::string assistant_id,
                                  bool delete_threads) {
  return InTx<void>(ctx_.pool, [tenant, assistant_id,
                                delete_threads](PgConn& c) -> Task<Status> {
    auto a = co_await LoadAssistant(c, tenant, assistant_id, true);
    if (!a) co_return a.error();
    auto r = co_await c.Query("DELETE FROM runs WHERE tenant = $1 AND assistant_id = $2",
                              P(tenant, assistant_id));
    if (!r) co_return r.error();
    if (delete_threads) {
      r = co_await c.Query(
          "SELECT thread_id FROM threads WHERE tenant = $1 AND metadata ->> 'assistant_id' = $2",
          P(tenant, assistant_id));
      if (!r) co_return r.error();
      for (int row = 0; row < r->rows(); ++row) {
        if (Status st = co_await DeleteThreadRows(c, std::string(r->Text(row, 0))); !st) {
          co_return st;
        }
      }
    }
    // Versions go with the assistant (ON DELETE CASCADE).
    r = co_await c.Query("DELETE FROM assistants WHERE assistant_id = $1", P(assistant_id));
    if (!r) co_return r.error();
    co_return Status{};
  });
}

Task<Result<Page<model::Assistant>>> PgAssistants::Search(AssistantQuery query) {
  return WithConn<Page<model::Assistant>>(
      ctx_.pool, [query = std::move(query), clock = ctx_.clock](PgConn& c) {
        return SearchOn(c, query, true, clock());
      });
}

Task<Result<std::int64_t>> PgAssistants::Count(AssistantQuery query) {
  return WithConn<std::int64_t>(
      ctx_.pool,
      [query = std::move(query), clock = ctx_.clock](PgConn& c) -> Task<Result<std::int64_t>> {
        auto page = co_await SearchOn(c, query, false, clock());
        if (!page) co_return page.error();
        co_return page->total;
      });
}

Task<Result<std::vector<model::AssistantVersion>>> PgAssistants::ListVersions(
    std::string tenant, std::string assistant_id, std::optional<json::object> metadata,
    std::int64_t limit, std::int64_t offset) {
  return WithConn<std::vector<model::AssistantVersion>>(
      ctx_.pool, [tenant, assistant_id, metadata = std::move(metadata), limit, offset,
                  clock = ctx_.clock](PgConn& c)
                     -> Task<Result<std::vector<model::AssistantVersion>>> {
        auto a = co_await LoadLive(c, tenant, assistant_id, clock());
        if (!a) co_return a.error();
        static const std::string sql = fmt::format(
            "SELECT {} FROM assistant_versions WHERE assistant_id = $1 ORDER BY version DESC",
            kVersionCols);
        auto r = co_await c.Query(sql, P(assistant_id));
        if (!r) co_return r.error();
        std::vector<model::AssistantVersion> out;
        for (int row = 0; row < r->rows(); ++row) {
          model::AssistantVersion v = ReadVersion(*r, row);
          if (!metadata || JsonContains(v.metadata, *metadata)) out.push_back(std::move(v));
        }
        co_return Slice(std::move(out), offset, limit);
      });
}

Task<Result<model::Assistant>> PgAssistants::SetLatest(std::string tenant,
                                                       std::string assistant_id,
                                                       std::int64_t version) {
  return InTx<model::Assistant>(
      ctx_.pool, [tenant, assistant_id, version,
                  clock = ctx_.clock](PgConn& c) -> Task<Result<model::Assistant>> {
        auto a = co_await LoadLive(c, tenant, assistant_id, clock(), true);
        if (!a) co_return a.error();
        static const std::string sql = fmt::format(
            "SELECT {} FROM assistant_versions WHERE assistant_id = $1 AND version = $2",
            kVersionCols);
        auto r = co_await c.Query(sql, P(assistant_id, version));
        if (!r) co_return r.error();
        if (r->rows() == 0) {
          co_return MakeError(Errc::kNotFound, fmt::format("assistant version {}", version));
        }
        model::AssistantVersion v = ReadVersion(*r, 0);
        a->graph_id = v.graph_id;
        a->config = v.config;
        a->context = v.context;
        a->metadata = v.metadata;
        a->name = v.name;
        a->description = v.description;
        a->version = v.version;
        a->updated_at = clock();
        if (Status st = co_await WriteAssistant(c, *a); !st) co_return st.error();
        co_return a;
      });
}

Task<Result<std::vector<model::Assistant>>> PgAssistants::ListExpired(TimestampMs now,
                                                                      std::int64_t limit) {
  return WithConn<std::vector<model::Assistant>>(
      ctx_.pool, [now, limit](PgConn& c) -> Task<Result<std::vector<model::Assistant>>> {
        static const std::string sql = fmt::format(
            "SELECT {} FROM assistants WHERE expires_at <> 0 AND expires_at <= $1 "
            "ORDER BY expires_at ASC, seq ASC LIMIT $2",
            kAssistantCols);
        auto r = co_await c.Query(sql, P(now, std::max<std::int64_t>(limit, 0)));
        if (!r) co_return r.error();
        std::vector<model::Assistant> out;
        for (int row = 0; row < r->rows(); ++row) out.push_back(ReadAssistant(*r, row));
        co_return out;
      });
}

}  // namespace agentd::storage::postgres
