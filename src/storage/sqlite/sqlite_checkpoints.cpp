#include <fmt/format.h>

#include "common/json.hpp"
#include "storage/sqlite/rows.hpp"
#include "storage/sqlite/sqlite_stores.hpp"

namespace agentd::storage::sqlite {
namespace {

// Reads every checkpoint row the statement yields (up to `limit` after the metadata
// filter), then attaches each one's own message rows.
Result<std::vector<model::Checkpoint>> ReadCheckpoints(
    Db& db, Stmt& stmt, const std::optional<json::object>& metadata, std::int64_t limit) {
  std::vector<model::Checkpoint> out;
  while (static_cast<std::int64_t>(out.size()) < limit) {
    auto row = stmt.Step();
    if (!row) return row.error();
    if (!*row) break;
    model::Checkpoint c = ReadCheckpoint(stmt);
    if (metadata && !JsonContains(c.metadata, *metadata)) continue;
    out.push_back(std::move(c));
  }
  for (auto& c : out) {
    auto messages = LoadCheckpointMessages(db, c.thread_id, c.checkpoint_id);
    if (!messages) return messages.error();
    c.appended_messages = std::move(*messages);
  }
  return out;
}

}  // namespace

Task<Status> SqliteCheckpoints::Put(model::Checkpoint checkpoint) {
  return RunStatusJob(ctx_.worker,
                      [c = std::move(checkpoint), clock = ctx_.clock](Db& db) -> Status {
    TimestampMs created_at = c.created_at != 0 ? c.created_at : clock();
    static const std::string sql = fmt::format(
        "INSERT INTO checkpoints ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        kCheckpointCols);
    Status st = db.Run(sql, c.thread_id, c.checkpoint_ns, c.checkpoint_id,
                       c.parent_checkpoint_id, c.run_id, ToJson(c.metadata), ToJson(c.next),
                       ToJson(c.tasks), ToJson(c.channels), c.message_count, created_at);
    if (!st) {
      if (st.error().code == Errc::kConflict) {
        return MakeError(Errc::kConflict, "checkpoint " + c.checkpoint_id + " exists");
      }
      return st;
    }
    // Only this step's delta: one row per appended message.
    std::int64_t idx = 0;
    for (const auto& m : c.appended_messages) {
      st = db.Run(
          "INSERT INTO checkpoint_messages (thread_id, checkpoint_id, idx, message) "
          "VALUES (?1, ?2, ?3, ?4)",
          c.thread_id, c.checkpoint_id, idx++, ToJson(m));
      if (!st) return st;
    }
    return Status{};
  });
}

Task<Result<std::optional<model::Checkpoint>>> SqliteCheckpoints::Latest(
    std::string thread_id, std::string checkpoint_ns) {
  return RunJob<std::optional<model::Checkpoint>>(
      ctx_.worker,
      [thread_id, checkpoint_ns](Db& db) -> Result<std::optional<model::Checkpoint>> {
        static const std::string sql = fmt::format(
            "SELECT {} FROM checkpoints WHERE thread_id = ?1 AND checkpoint_ns = ?2 "
            "ORDER BY checkpoint_id DESC LIMIT 1",
            kCheckpointCols);
        auto stmt = db.Prepare(sql);
        if (!stmt) return stmt.error();
        stmt->BindAll(thread_id, checkpoint_ns);
        auto rows = ReadCheckpoints(db, *stmt, std::nullopt, 1);
        if (!rows) return rows.error();
        if (rows->empty()) return std::optional<model::Checkpoint>();
        return std::optional<model::Checkpoint>(std::move(rows->front()));
      });
}

Task<Result<model::Checkpoint>> SqliteCheckpoints::Get(std::string thread_id,
                                                       std::string checkpoint_id) {
  return RunJob<model::Checkpoint>(
      ctx_.worker, [thread_id, checkpoint_id](Db& db) -> Result<model::Checkpoint> {
        static const std::string sql = fmt::format(
            "SELECT {} FROM checkpoints WHERE thread_id = ?1 AND checkpoint_id = ?2",
            kCheckpointCols);
        auto stmt = db.Prepare(sql);
        if (!stmt) return stmt.error();
        stmt->BindAll(thread_id, checkpoint_id);
        auto rows = ReadCheckpoints(db, *stmt, std::nullopt, 1);
        if (!rows) return rows.error();
        if (rows->empty()) return MakeError(Errc::kNotFound, "checkpoint " + checkpoint_id);
        return std::move(rows->front());
      });
}

Task<Result<std::vector<model::Checkpoint>>> SqliteCheckpoints::List(HistoryQuery query) {
  return RunJob<std::vector<model::Checkpoint>>(
      ctx_.worker, [query = std::move(query)](Db& db) -> Result<std::vector<model::Checkpoint>> {
        static const std::string sql = fmt::format(
            "SELECT {} FROM checkpoints WHERE thread_id = ?1 AND checkpoint_ns = ?2 "
            "AND (?3 IS NULL OR checkpoint_id < ?3) ORDER BY checkpoint_id DESC",
            kCheckpointCols);
        auto stmt = db.Prepare(sql);
        if (!stmt) return stmt.error();
        stmt->BindAll(query.thread_id, query.checkpoint_ns, query.before);
        return ReadCheckpoints(db, *stmt, query.metadata, query.limit);
      });
}

Task<Result<json::array>> SqliteCheckpoints::MessageWrites(std::string thread_id,
                                                           std::string checkpoint_id) {
  return RunJob<json::array>(
      ctx_.worker, [thread_id, checkpoint_id](Db& db) -> Result<json::array> {
        {
          auto exists = db.Prepare(
              "SELECT 1 FROM checkpoints WHERE thread_id = ?1 AND checkpoint_id = ?2");
          if (!exists) return exists.error();
          exists->BindAll(thread_id, checkpoint_id);
          auto row = exists->Step();
          if (!row) return row.error();
          if (!*row) return MakeError(Errc::kNotFound, "checkpoint " + checkpoint_id);
        }
        // Walk the parent chain up to the root, then read the message rows root first. The
        // depth bound stops a corrupt parent cycle.
        auto stmt = db.Prepare(
            "WITH RECURSIVE chain(checkpoint_id, parent_id, depth) AS ("
            "  SELECT checkpoint_id, parent_checkpoint_id, 0 FROM checkpoints"
            "   WHERE thread_id = ?1 AND checkpoint_id = ?2"
            "  UNION ALL"
            "  SELECT c.checkpoint_id, c.parent_checkpoint_id, chain.depth + 1"
            "    FROM checkpoints c JOIN chain ON c.checkpoint_id = chain.parent_id"
            "   WHERE c.thread_id = ?1 AND chain.depth < 1000000)"
            " SELECT m.message FROM chain JOIN checkpoint_messages m"
            "   ON m.thread_id = ?1 AND m.checkpoint_id = chain.checkpoint_id"
            " ORDER BY chain.depth DESC, m.idx ASC");
        if (!stmt) return stmt.error();
        stmt->BindAll(thread_id, checkpoint_id);
        json::array out;
        while (true) {
          auto row = stmt->Step();
          if (!row) return row.error();
          if (!*row) break;
          out.push_back(ParseValue(stmt->Text(0)));
        }
        return out;
      });
}

Task<Status> SqliteCheckpoints::Remove(std::string thread_id,
                                       std::vector<std::string> checkpoint_ids) {
  return RunStatusJob(ctx_.worker, [thread_id, ids = std::move(checkpoint_ids)](Db& db) -> Status {
    for (const auto& id : ids) {
      // Message rows go with the checkpoint (ON DELETE CASCADE).
      Status st = db.Run("DELETE FROM checkpoints WHERE thread_id = ?1 AND checkpoint_id = ?2",
                         thread_id, id);
      if (!st) return st;
    }
    return Status{};
  });
}

}  // namespace agentd::storage::sqlite
