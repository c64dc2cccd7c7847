#include "storage/sqlite/rows.hpp"

#include <fmt/format.h>

#include "common/json.hpp"
#include "storage/query.hpp"

namespace agentd::storage::sqlite {

json::value ParseValue(std::string_view text) {
  auto v = ParseJson(text);
  return v ? std::move(*v) : json::value();
}

json::object ParseObject(std::string_view text) {
  auto v = ParseValue(text);
  return v.is_object() ? std::move(v.get_object()) : json::object();
}

json::array ParseArray(std::string_view text) {
  auto v = ParseValue(text);
  return v.is_array() ? std::move(v.get_array()) : json::array();
}

model::Assistant ReadAssistant(const Stmt& s, int c) {
  model::Assistant a;
  a.assistant_id = s.Text(c + 0);
  a.tenant = s.Text(c + 1);
  a.graph_id = s.Text(c + 2);
  a.name = s.Text(c + 3);
  a.description = s.OptText(c + 4);
  a.config = ParseObject(s.Text(c + 5));
  a.context = ParseObject(s.Text(c + 6));
  a.metadata = ParseObject(s.Text(c + 7));
  a.version = s.Int(c + 8);
  a.created_at = s.Int(c + 9);
  a.updated_at = s.Int(c + 10);
  a.expires_at = s.Int(c + 11);
  return a;
}

model::AssistantVersion ReadVersion(const Stmt& s, int c) {
  model::AssistantVersion v;
  v.assistant_id = s.Text(c + 0);
  v.version = s.Int(c + 1);
  v.graph_id = s.Text(c + 2);
  v.name = s.Text(c + 3);
  v.description = s.OptText(c + 4);
  v.config = ParseObject(s.Text(c + 5));
  v.context = ParseObject(s.Text(c + 6));
  v.metadata = ParseObject(s.Text(c + 7));
  v.created_at = s.Int(c + 8);
  return v;
}

model::Thread ReadThread(const Stmt& s, int c) {
  model::Thread t;
  t.thread_id = s.Text(c + 0);
  t.tenant = s.Text(c + 1);
  t.status = model::ParseThreadStatus(s.Text(c + 2)).value_or(model::ThreadStatus::kIdle);
  t.metadata = ParseObject(s.Text(c + 3));
  t.config = ParseObject(s.Text(c + 4));
  t.values = ParseValue(s.Text(c + 5));
  t.interrupts = ParseObject(s.Text(c + 6));
  t.error = ParseValue(s.Text(c + 7));
  t.created_at = s.Int(c + 8);
  t.updated_at = s.Int(c + 9);
  t.state_updated_at = s.Int(c + 10);
  t.expires_at = s.Int(c + 11);
  return t;
}

model::Run ReadRun(const Stmt& s, int c) {
  model::Run r;
  r.run_id = s.Text(c + 0);
  r.tenant = s.Text(c + 1);
  r.thread_id = s.Text(c + 2);
  r.assistant_id = s.Text(c + 3);
  r.status = model::ParseRunStatus(s.Text(c + 4)).value_or(model::RunStatus::kPending);
  r.metadata = ParseObject(s.Text(c + 5));
  r.multitask_strategy = s.Text(c + 6);
  r.kwargs = ParseObject(s.Text(c + 7));
  r.created_at = s.Int(c + 8);
  r.updated_at = s.Int(c + 9);
  r.usage = ParseObject(s.Text(c + 10));
  return r;
}

model::Checkpoint ReadCheckpoint(const Stmt& s, int c) {
  model::Checkpoint k;
  k.thread_id = s.Text(c + 0);
  k.checkpoint_ns = s.Text(c + 1);
  k.checkpoint_id = s.Text(c + 2);
  k.parent_checkpoint_id = s.OptText(c + 3);
  k.run_id = s.Text(c + 4);
  k.metadata = ParseObject(s.Text(c + 5));
  k.next = ParseArray(s.Text(c + 6));
  k.tasks = ParseArray(s.Text(c + 7));
  k.channels = ParseObject(s.Text(c + 8));
  k.message_count = s.Int(c + 9);
  k.created_at = s.Int(c + 10);
  return k;
}

model::StoreItem ReadItem(const Stmt& s, int c) {
  model::StoreItem i;
  i.tenant = s.Text(c + 0);
  // Labels never contain '.', so splitting the joined path gives the labels back.
  i.namespace_path = SplitNamespace(s.Text(c + 1));
  i.key = s.Text(c + 2);
  i.value = ParseObject(s.Text(c + 3));
  i.created_at = s.Int(c + 4);
  i.updated_at = s.Int(c + 5);
  i.expires_at = s.Int(c + 6);
  if (!s.IsNull(c + 7)) i.ttl_minutes = s.Double(c + 7);
  return i;
}

namespace {

template <class T, class Read>
Result<T> LoadOne(Db& db, std::string_view sql, const std::string& tenant, const std::string& id,
                  std::string_view what, Read read) {
  auto stmt = db.Prepare(sql);
  if (!stmt) return stmt.error();
  stmt->BindAll(id);
  auto row = stmt->Step();
  if (!row) return row.error();
  if (!*row) return MakeError(Errc::kNotFound, fmt::format("{} {}", what, id));
  T value = read(*stmt);
  // Another tenant's object reads exactly like a missing one.
  if (value.tenant != tenant) return MakeError(Errc::kNotFound, fmt::format("{} {}", what, id));
  return value;
}

}  // namespace

Result<model::Assistant> LoadAssistant(Db& db, const std::string& tenant, const std::string& id) {
  static const std::string sql =
      fmt::format("SELECT {} FROM assistants WHERE assistant_id = ?1", kAssistantCols);
  return LoadOne<model::Assistant>(db, sql, tenant, id, "assistant",
                                   [](const Stmt& s) { return ReadAssistant(s); });
}

Result<model::Thread> LoadThread(Db& db, const std::string& tenant, const std::string& id) {
  static const std::string sql =
      fmt::format("SELECT {} FROM threads WHERE thread_id = ?1", kThreadCols);
  return LoadOne<model::Thread>(db, sql, tenant, id, "thread",
                                [](const Stmt& s) { return ReadThread(s); });
}

Result<model::Run> LoadRun(Db& db, const std::string& tenant, const std::string& id) {
  static const std::string sql = fmt::format("SELECT {} FROM runs WHERE run_id = ?1", kRunCols);
  return LoadOne<model::Run>(db, sql, tenant, id, "run", [](const Stmt& s) { return ReadRun(s); });
}

Result<json::array> LoadCheckpointMessages(Db& db, const std::string& thread_id,
                                           const std::string& checkpoint_id) {
  auto stmt = db.Prepare(
      "SELECT message FROM checkpoint_messages WHERE thread_id = ?1 AND checkpoint_id = ?2 "
      "ORDER BY idx");
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
}

Status InsertThread(Db& db, const model::Thread& t) {
  static const std::string sql = fmt::format(
      "INSERT INTO threads ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
      kThreadCols);
  return db.Run(sql, t.thread_id, t.tenant, model::ToString(t.status), ToJson(t.metadata),
                ToJson(t.config), ToJson(t.values), ToJson(t.interrupts), ToJson(t.error),
                t.created_at, t.updated_at, t.state_updated_at, t.expires_at);
}

Status WriteThread(Db& db, const model::Thread& t, bool with_values) {
  if (!with_values) {
    return db.Run(
        "UPDATE threads SET status = ?2, metadata = ?3, config = ?4, interrupts = ?5, "
        "error = ?6, updated_at = ?7, state_updated_at = ?8, expires_at = ?9 "
        "WHERE thread_id = ?1",
        t.thread_id, model::ToString(t.status), ToJson(t.metadata), ToJson(t.config),
        ToJson(t.interrupts), ToJson(t.error), t.updated_at, t.state_updated_at, t.expires_at);
  }
  return db.Run(
      "UPDATE threads SET status = ?2, metadata = ?3, config = ?4, thread_values = ?5, "
      "interrupts = ?6, error = ?7, updated_at = ?8, state_updated_at = ?9, expires_at = ?10 "
      "WHERE thread_id = ?1",
      t.thread_id, model::ToString(t.status), ToJson(t.metadata), ToJson(t.config),
      ToJson(t.values), ToJson(t.interrupts), ToJson(t.error), t.updated_at, t.state_updated_at,
      t.expires_at);
}

Status InsertVersion(Db& db, const model::AssistantVersion& v) {
  static const std::string sql = fmt::format(
      "INSERT INTO assistant_versions ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
      kVersionCols);
  return db.Run(sql, v.assistant_id, v.version, v.graph_id, v.name, v.description,
                ToJson(v.config), ToJson(v.context), ToJson(v.metadata), v.created_at);
}

Status WriteAssistant(Db& db, const model::Assistant& a) {
  return db.Run(
      "UPDATE assistants SET graph_id = ?2, name = ?3, description = ?4, config = ?5, "
      "context = ?6, metadata = ?7, version = ?8, updated_at = ?9, expires_at = ?10 "
      "WHERE assistant_id = ?1",
      a.assistant_id, a.graph_id, a.name, a.description, ToJson(a.config), ToJson(a.context),
      ToJson(a.metadata), a.version, a.updated_at, a.expires_at);
}

Status DeleteThreadRows(Db& db, const std::string& thread_id) {
  // checkpoint_messages go with their checkpoints (ON DELETE CASCADE).
  for (std::string_view sql : {"DELETE FROM runs WHERE thread_id = ?1",
                               "DELETE FROM checkpoints WHERE thread_id = ?1",
                               "DELETE FROM threads WHERE thread_id = ?1"}) {
    if (Status st = db.Run(sql, thread_id); !st) return st;
  }
  return Status{};
}

}  // namespace agentd::storage::sqlite
