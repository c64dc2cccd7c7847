#include <fmt/format.h>

#include "common/json.hpp"
#include "storage/postgres/pg_rows.hpp"
#include "storage/postgres/pg_stores.hpp"

namespace agentd::storage::postgres {
namespace {

// Decodes up to `limit` checkpoint rows that pass the metadata filter (query.hpp semantics),
// then attaches each one's own message rows (one query for all of them).
Task<Result<std::vector<model::Checkpoint>>> ReadCheckpoints(
    PgConn& c, const PgResult& rows, const std::optional<json::object>& metadata,
    std::int64_t limit) {
  std::vector<model::Checkpoint> out;
  for (int row = 0; row < rows.rows() && static_cast<std::int64_t>(out.size()) < limit; ++row) {
    model::Checkpoint k = ReadCheckpoint(rows, row);
    if (metadata && !JsonContains(k.metadata, *metadata)) continue;
    out.push_back(std::move(k));
  }
  if (out.empty()) co_return out;
  std::vector<std::string> ids;
  for (const auto& k : out) ids.push_back(k.checkpoint_id);
  auto r = co_await c.Query(
      "SELECT checkpoint_id, message FROM checkpoint_messages WHERE thread_id = $1 "
      "AND checkpoint_id = ANY($2::text[]) ORDER BY checkpoint_id, idx",
      P(out.front().thread_id, TextArray(ids)));
  if (!r) co_return r.error();
  for (int row = 0; row < r->rows(); ++row) {
    std::string_view id = r->Text(row, 0);
    for (auto& k : out) {
      if (k.checkpoint_id == id) {
        k.appended_messages.push_back(ParseValue(r->Text(row, 1)));
        break;
      }
    }
  }
  co_return out;
}

}  // namespace

Task<Status> PgCheckpoints::Put(model::Checkpoint checkpoint) {
  return InTx<void>(ctx_.pool, [k = std::move(checkpoint),
                                clock = ctx_.clock](PgConn& c) -> Task<Status> {
    TimestampMs created_at = k.created_at != 0 ? k.created_at : clock();
    static const std::string sql = fmt::format(
        "INSERT INTO checkpoints ({}) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10, "
        "$11)",
        kCheckpointCols);
    auto r = co_await c.Query(sql, P(k.thread_id, k.checkpoint_ns, k.checkpoint_id,
                                     k.parent_checkpoint_id, k.run_id, ToJson(k.metadata),
                                     ToJson(k.next), ToJson(k.tasks), ToJson(k.channels),
                                     k.message_count, created_at));
    if (!r) {
      if (r.error().code == Errc::kConflict) {
        co_return MakeError(Errc::kConflict, "checkpoint " + k.checkpoint_id + " exists");
      }
      co_return r.error();
    }
    if (k.appended_messages.empty()) co_return Status{};
    // Only this step's delta, one row per appended message, in one statement. json (not
    // jsonb) elements keep each message's text exactly as written.
    r = co_await c.Query(
        "INSERT INTO checkpoint_messages (thread_id, checkpoint_id, idx, message) "
        "SELECT $1, $2, m.ord - 1, m.value::text "
        "FROM json_array_elements($3::json) WITH ORDINALITY AS m(value, ord)",
        P(k.thread_id, k.checkpoint_id, ToJson(k.appended_messages)));
    if (!r) co_return r.error();
    co_return Status{};
  });
}

Task<Result<std::optional<model::Checkpoint>>> PgCheckpoints::Latest(std::string thread_id,
                                                                     std::string checkpoint_ns) {
  return WithConn<std::optional<model::Checkpoint>>(
      ctx_.pool,
      [thread_id, checkpoint_ns](PgConn& c) -> Task<Result<std::optional<model::Checkpoint>>> {
        static const std::string sql = fmt::format(
            "SELECT {} FROM checkpoints WHERE thread_id = $1 AND checkpoint_ns = $2 "
            "ORDER BY checkpoint_id DESC LIMIT 1",
            kCheckpointCols);
        auto r = co_await c.Query(sql, P(thread_id, checkpoint_ns));
        if (!r) co_return r.error();
        auto rows = co_await ReadCheckpoints(c, *r, std::nullopt, 1);
        if (!rows) co_return rows.error();
        if (rows->empty()) co_return std::optional<model::Checkpoint>();
        co_return std::optional<model::Checkpoint>(std::move(rows->front()));
      });
}

Task<Result<model::Checkpoint>> PgCheckpoints::Get(std::string thread_id,
                                                   std::string checkpoint_id) {
  return WithConn<model::Checkpoint>(
      ctx_.pool, [thread_id, checkpoint_id](PgConn& c) -> Task<Result<model::Checkpoint>> {
        static const std::string sql = fmt::format(
            "SELECT {} FROM checkpoints WHERE thread_id = $1 AND checkpoint_id = $2",
            kCheckpointCols);
        auto r = co_await c.Query(sql, P(thread_id, checkpoint_id));
        if (!r) co_return r.error();
        auto rows = co_await ReadCheckpoints(c, *r, std::nullopt, 1);
        if (!rows) co_return rows.error();
        if (rows->empty()) co_return MakeError(Errc::kNotFound, "checkpoint " + checkpoint_id);
        co_return std::move(rows->front());
      });
}

Task<Result<std::vector<model::Checkpoint>>> PgCheckpoints::List(HistoryQuery query) {
  return WithConn<std::vector<model::Checkpoint>>(
      ctx_.pool,
      [query = std::move(query)](PgConn& c) -> Task<Result<std::vector<model::Checkpoint>>> {
        // The metadata filter: jsonb containment in SQL narrows the rows, query.hpp decides.
        // Without it the limit goes to SQL as well.
        bool filtered = query.metadata && !query.metadata->empty();
        static const std::string sql = fmt::format(
            "SELECT {} FROM checkpoints WHERE thread_id = $1 AND checkpoint_ns = $2 "
            "AND ($3::text IS NULL OR checkpoint_id < $3) "
            "AND ($4::jsonb IS NULL OR metadata @> $4::jsonb) "
            "ORDER BY checkpoint_id DESC LIMIT $5",
            kCheckpointCols);
        std::optional<std::string> metadata;
        if (filtered) metadata = ToJson(*query.metadata);
        std::optional<std::int64_t> limit;
        if (!filtered) limit = std::max<std::int64_t>(query.limit, 0);
        auto r = co_await c.Query(
            sql, P(query.thread_id, query.checkpoint_ns, query.before, metadata, limit));
        if (!r) co_return r.error();
        co_return co_await ReadCheckpoints(c, *r, query.metadata, query.limit);
      });
}

Task<Result<json::array>> PgCheckpoints::MessageWrites(std::string thread_id,
                                                       std::string checkpoint_id) {
  return WithConn<json::array>(
      ctx_.pool, [thread_id, checkpoint_id](PgConn& c) -> Task<Result<json::array>> {
        auto exists = co_await c.Query(
            "SELECT 1 FROM checkpoints WHERE thread_id = $1 AND checkpoint_id = $2",
            P(thread_id, checkpoint_id));
        if (!exists) co_return exists.error();
        if (exists->rows() == 0) {
          co_return MakeError(Errc::kNotFound, "checkpoint " + checkpoint_id);
        }
        // Walk the parent chain up to the root, then read the message rows root first. The
        // depth bound stops a corrupt parent cycle.
        auto r = co_await c.Query(
            "WITH RECURSIVE chain(checkpoint_id, parent_id, depth) AS ("
            "  SELECT checkpoint_id, parent_checkpoint_id, 0 FROM checkpoints"
            "   WHERE thread_id = $1 AND checkpoint_id = $2"
            "  UNION ALL"
            "  SELECT c.checkpoint_id, c.parent_checkpoint_id, chain.depth + 1"
            "    FROM checkpoints c JOIN chain ON c.checkpoint_id = chain.parent_id"
            "   WHERE c.thread_id = $1 AND chain.depth < 1000000)"
            " SELECT m.message FROM chain JOIN checkpoint_messages m"
            "   ON m.thread_id = $1 AND m.checkpoint_id = chain.checkpoint_id"
            " ORDER BY chain.depth DESC, m.idx ASC",
            P(thread_id, checkpoint_id));
        if (!r) co_return r.error();
        json::array out;
        for (int row = 0; row < r->rows(); ++row) out.push_back(ParseValue(r->Text(row, 0)));
        co_return out;
      });
}

Task<Status> PgCheckpoints::Remove(std::string thread_id,
                                   std::vector<std::string> checkpoint_ids) {
  return WithConn<void>(ctx_.pool, [thread_id,
                                    ids = std::move(checkpoint_ids)](PgConn& c) -> Task<Status> {
    // Message rows go with their checkpoints (ON DELETE CASCADE).
    auto r = co_await c.Query(
        "DELETE FROM checkpoints WHERE thread_id = $1 AND checkpoint_id = ANY($2::text[])",
        P(thread_id, TextArray(ids)));
    if (!r) co_return r.error();
    co_return Status{};
  });
}

}  // namespace agentd::storage::postgres
