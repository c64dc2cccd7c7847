#include <fmt/format.h>

#include "common/json.hpp"
#include "storage/postgres/pg_rows.hpp"
#include "storage/postgres/pg_stores.hpp"

namespace agentd::storage::postgres {
namespace {

// Decodes up to `limit` checkpoint rows that pass the metadata filter (query.hpp semantics),
// then attaches each one's own message rows (one query for all of them). History pages use
// it; single checkpoints read their messages in the same statement (kMessagesColumn).
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

// One checkpoint's message rows as one more column of its row (Latest, Get: one round trip
// instead of two): a JSON array of the stored texts in idx order, NULL when there are none.
constexpr std::string_view kMessagesColumn =
    "(SELECT '[' || string_agg(m.message, ',' ORDER BY m.idx) || ']' FROM checkpoint_messages m "
    "WHERE m.thread_id = c.thread_id AND m.checkpoint_id = c.checkpoint_id)";

// Row 0 of a `SELECT kCheckpointCols, kMessagesColumn`.
model::Checkpoint ReadWithMessages(const PgResult& r) {
  model::Checkpoint k = ReadCheckpoint(r, 0);
  if (!r.IsNull(0, 11)) k.appended_messages = ParseArray(r.Text(0, 11));
  return k;
}

}  // namespace

Task<Status> PgCheckpoints::Put(model::Checkpoint checkpoint) {
  return WithConn<void>(ctx_.pool, [k = std::move(checkpoint), clock = ctx_.clock,
                                    me = ctx_.instance_id](PgConn& c) -> Task<Status> {
    TimestampMs created_at = k.created_at != 0 ? k.created_at : clock();
    // One statement, so one round trip and atomic without BEGIN/COMMIT: the checkpoint row,
    // then only this step's delta of message rows, inserted only when the row was. The fence:
    // no row when the run is leased to another owner (an instance paused past its lease must
    // not write into a run another instance adopted); a checkpoint without a run (update_state)
    // or of a run nobody leases (owner NULL: not cluster mode, or already finished) passes.
    // The run row is read FOR SHARE: a plain read would let this insert commit after an
    // adopter's UPDATE of `owner` committed and after the adopter read the thread's latest
    // checkpoint, so the adopter would resume from an older step and the step would run twice
    // (seen as duplicated messages in ClusterMultitaskTest under load). Locked, the two are
    // ordered: the adopter's SKIP LOCKED passes this run by until the insert commits (and then
    // sees it), or the insert waits for the adoption and re-reads `owner`, and writes nothing.
    // json (not jsonb) elements keep each message's text exactly as written.
    static const std::string sql = fmt::format(
        "WITH k AS (INSERT INTO checkpoints ({}) "
        "  SELECT $1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10::bigint, $11::bigint "
        "  WHERE $13::text = '' "
        "    OR NOT EXISTS (SELECT 1 FROM runs WHERE run_id = $5) "
        "    OR EXISTS (SELECT 1 FROM runs WHERE run_id = $5 "
        "      AND (owner IS NULL OR owner = $13) FOR SHARE) "
        "  RETURNING thread_id, checkpoint_id), "
        "m AS (INSERT INTO checkpoint_messages (thread_id, checkpoint_id, idx, message) "
        "  SELECT k.thread_id, k.checkpoint_id, e.ord - 1, e.value::text "
        "  FROM k, json_array_elements($12::json) WITH ORDINALITY AS e(value, ord)) "
        "SELECT count(*) FROM k",
        kCheckpointCols);
    auto r = co_await c.Query(
        sql, P(k.thread_id, k.checkpoint_ns, k.checkpoint_id, k.parent_checkpoint_id, k.run_id,
               ToJson(k.metadata), ToJson(k.next), ToJson(k.tasks), ToJson(k.channels),
               k.message_count, created_at, ToJson(k.appended_messages), me));
    if (!r) {
      if (r.error().code == Errc::kConflict) {
        co_return MakeError(Errc::kConflict, "checkpoint " + k.checkpoint_id + " exists");
      }
      co_return r.error();
    }
    if (r->Int(0, 0) == 0) {
      co_return MakeError(Errc::kConflict, fmt::format("run {} is leased to another instance; "
                                                       "checkpoint not written",
                                                       k.run_id));
    }
    co_return Status{};
  });
}

Task<Result<std::optional<model::Checkpoint>>> PgCheckpoints::Latest(std::string thread_id,
                                                                     std::string checkpoint_ns) {
  return WithConn<std::optional<model::Checkpoint>>(
      ctx_.pool,
      [thread_id, checkpoint_ns](PgConn& c) -> Task<Result<std::optional<model::Checkpoint>>> {
        static const std::string sql = fmt::format(
            "SELECT {}, {} FROM checkpoints c WHERE thread_id = $1 AND checkpoint_ns = $2 "
            "ORDER BY checkpoint_id DESC LIMIT 1",
            kCheckpointCols, kMessagesColumn);
        auto r = co_await c.Query(sql, P(thread_id, checkpoint_ns));
        if (!r) co_return r.error();
        if (r->rows() == 0) co_return std::optional<model::Checkpoint>();
        co_return std::optional<model::Checkpoint>(ReadWithMessages(*r));
      });
}

Task<Result<model::Checkpoint>> PgCheckpoints::Get(std::string thread_id,
                                                   std::string checkpoint_id) {
  return WithConn<model::Checkpoint>(
      ctx_.pool, [thread_id, checkpoint_id](PgConn& c) -> Task<Result<model::Checkpoint>> {
        static const std::string sql = fmt::format(
            "SELECT {}, {} FROM checkpoints c WHERE thread_id = $1 AND checkpoint_id = $2",
            kCheckpointCols, kMessagesColumn);
        auto r = co_await c.Query(sql, P(thread_id, checkpoint_id));
        if (!r) co_return r.error();
        if (r->rows() == 0) co_return MakeError(Errc::kNotFound, "checkpoint " + checkpoint_id);
        co_return ReadWithMessages(*r);
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
