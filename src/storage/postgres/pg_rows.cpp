#include "storage/postgres/pg_rows.hpp"

#include <fmt/format.h>

#include "common/json.hpp"
#include "storage/postgres/pg_stores.hpp"
#include "storage/query.hpp"

namespace agentd::storage::postgres {

std::optional<std::string> Param(double v) { return fmt::format("{}", v); }

std::string TextArray(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i != 0) out += ',';
    out += '"';
    for (char ch : items[i]) {
      if (ch == '"' || ch == '\\') out += '\\';
      out += ch;
    }
    out += '"';
  }
  out += '}';
  return out;
}

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

model::Assistant ReadAssistant(const PgResult& r, int row) {
  model::Assistant a;
  a.assistant_id = r.Text(row, 0);
  a.tenant = r.Text(row, 1);
  a.graph_id = r.Text(row, 2);
  a.name = r.Text(row, 3);
  a.description = r.OptText(row, 4);
  a.config = ParseObject(r.Text(row, 5));
  a.context = ParseObject(r.Text(row, 6));
  a.metadata = ParseObject(r.Text(row, 7));
  a.version = r.Int(row, 8);
  a.created_at = r.Int(row, 9);
  a.updated_at = r.Int(row, 10);
  a.expires_at = r.Int(row, 11);
  return a;
}

model::AssistantVersion ReadVersion(const PgResult& r, int row) {
  model::AssistantVersion v;
  v.assistant_id = r.Text(row, 0);
  v.version = r.Int(row, 1);
  v.graph_id = r.Text(row, 2);
  v.name = r.Text(row, 3);
  v.description = r.OptText(row, 4);
  v.config = ParseObject(r.Text(row, 5));
  v.context = ParseObject(r.Text(row, 6));
  v.metadata = ParseObject(r.Text(row, 7));
  v.created_at = r.Int(row, 8);
  return v;
}

model::Thread ReadThread(const PgResult& r, int row) {
  model::Thread t;
  t.thread_id = r.Text(row, 0);
  t.tenant = r.Text(row, 1);
  t.status = model::ParseThreadStatus(r.Text(row, 2)).value_or(model::ThreadStatus::kIdle);
  t.metadata = ParseObject(r.Text(row, 3));
  t.config = ParseObject(r.Text(row, 4));
  t.values = ParseValue(r.Text(row, 5));
  t.interrupts = ParseObject(r.Text(row, 6));
  t.error = ParseValue(r.Text(row, 7));
  t.created_at = r.Int(row, 8);
  t.updated_at = r.Int(row, 9);
  t.state_updated_at = r.Int(row, 10);
  t.expires_at = r.Int(row, 11);
  return t;
}

model::Run ReadRun(const PgResult& r, int row) {
  model::Run run;
  run.run_id = r.Text(row, 0);
  run.tenant = r.Text(row, 1);
  run.thread_id = r.Text(row, 2);
  run.assistant_id = r.Text(row, 3);
  run.status = model::ParseRunStatus(r.Text(row, 4)).value_or(model::RunStatus::kPending);
  run.metadata = ParseObject(r.Text(row, 5));
  run.multitask_strategy = r.Text(row, 6);
  run.kwargs = ParseObject(r.Text(row, 7));
  run.created_at = r.Int(row, 8);
  run.updated_at = r.Int(row, 9);
  run.usage = ParseObject(r.Text(row, 10));
  return run;
}

model::Checkpoint ReadCheckpoint(const PgResult& r, int row) {
  model::Checkpoint k;
  k.thread_id = r.Text(row, 0);
  k.checkpoint_ns = r.Text(row, 1);
  k.checkpoint_id = r.Text(row, 2);
  k.parent_checkpoint_id = r.OptText(row, 3);
  k.run_id = r.Text(row, 4);
  k.metadata = ParseObject(r.Text(row, 5));
  k.next = ParseArray(r.Text(row, 6));
  k.tasks = ParseArray(r.Text(row, 7));
  k.channels = ParseObject(r.Text(row, 8));
  k.message_count = r.Int(row, 9);
  k.created_at = r.Int(row, 10);
  return k;
}

model::StoreItem ReadItem(const PgResult& r, int row) {
  model::StoreItem i;
  i.tenant = r.Text(row, 0);
  // Labels never contain '.', so splitting the joined path gives the labels back.
  i.namespace_path = SplitNamespace(r.Text(row, 1));
  i.key = r.Text(row, 2);
  i.value = ParseObject(r.Text(row, 3));
  i.created_at = r.Int(row, 4);
  i.updated_at = r.Int(row, 5);
  i.expires_at = r.Int(row, 6);
  if (!r.IsNull(row, 7)) i.ttl_minutes = r.Double(row, 7);
  return i;
}

namespace {

template <class T, class Read>
Task<Result<T>> LoadOne(PgConn& c, std::string sql, std::string tenant, std::string id,
                        std::string_view what, Read read) {
  auto r = co_await c.Query(sql, P(id));
  if (!r) co_return r.error();
  if (r->rows() == 0) co_return MakeError(Errc::kNotFound, fmt::format("{} {}", what, id));
  T value = read(*r, 0);
  // Another tenant's object reads exactly like a missing one.
  if (value.tenant != tenant) {
    co_return MakeError(Errc::kNotFound, fmt::format("{} {}", what, id));
  }
  co_return value;
}

}  // namespace

Task<Result<model::Assistant>> LoadAssistant(PgConn& c, std::string tenant, std::string id,
                                             bool lock) {
  return LoadOne<model::Assistant>(
      c, fmt::format("SELECT {} FROM assistants WHERE assistant_id = $1{}", kAssistantCols,
                     lock ? " FOR UPDATE" : ""),
      std::move(tenant), std::move(id), "assistant", ReadAssistant);
}

Task<Result<model::Thread>> LoadThread(PgConn& c, std::string tenant, std::string id,
                                       bool lock) {
  return LoadOne<model::Thread>(c,
                                fmt::format("SELECT {} FROM threads WHERE thread_id = $1{}",
                                            kThreadCols, lock ? " FOR UPDATE" : ""),
                                std::move(tenant), std::move(id), "thread", ReadThread);
}

Task<Result<model::Run>> LoadRun(PgConn& c, std::string tenant, std::string id, bool lock) {
  return LoadOne<model::Run>(c,
                             fmt::format("SELECT {} FROM runs WHERE run_id = $1{}", kRunCols,
                                         lock ? " FOR UPDATE" : ""),
                             std::move(tenant), std::move(id), "run", ReadRun);
}

namespace {

Task<Status> Done(Task<Result<PgResult>> query) {
  auto r = co_await std::move(query);
  if (!r) co_return r.error();
  co_return Status{};
}

}  // namespace

Task<Status> InsertThread(PgConn& c, const model::Thread& t) {
  static const std::string sql = fmt::format(
      "INSERT INTO threads ({}) VALUES ($1, $2, $3, $4::jsonb, $5, $6::jsonb, $7, $8, $9, $10, "
      "$11, $12)",
      kThreadCols);
  return Done(c.Query(sql, P(t.thread_id, t.tenant, model::ToString(t.status),
                             ToJson(t.metadata), ToJson(t.config), ToJson(t.values),
                             ToJson(t.interrupts), ToJson(t.error), t.created_at, t.updated_at,
                             t.state_updated_at, t.expires_at)));
}

Task<Status> WriteThread(PgConn& c, const model::Thread& t) {
  return Done(c.Query(
      "UPDATE threads SET status = $2, metadata = $3::jsonb, config = $4, "
      "thread_values = $5::jsonb, interrupts = $6, error = $7, updated_at = $8, "
      "state_updated_at = $9, expires_at = $10 WHERE thread_id = $1",
      P(t.thread_id, model::ToString(t.status), ToJson(t.metadata), ToJson(t.config),
        ToJson(t.values), ToJson(t.interrupts), ToJson(t.error), t.updated_at,
        t.state_updated_at, t.expires_at)));
}

Task<Status> InsertVersion(PgConn& c, const model::AssistantVersion& v) {
  static const std::string sql = fmt::format(
      "INSERT INTO assistant_versions ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9)",
      kVersionCols);
  return Done(c.Query(sql, P(v.assistant_id, v.version, v.graph_id, v.name, v.description,
                             ToJson(v.config), ToJson(v.context), ToJson(v.metadata),
                             v.created_at)));
}

Task<Status> WriteAssistant(PgConn& c, const model::Assistant& a) {
  return Done(c.Query(
      "UPDATE assistants SET graph_id = $2, name = $3, description = $4, config = $5, "
      "context = $6, metadata = $7::jsonb, version = $8, updated_at = $9, expires_at = $10 "
      "WHERE assistant_id = $1",
      P(a.assistant_id, a.graph_id, a.name, a.description, ToJson(a.config), ToJson(a.context),
        ToJson(a.metadata), a.version, a.updated_at, a.expires_at)));
}

Task<Status> DeleteThreadRows(PgConn& c, std::string thread_id) {
  // checkpoint_messages go with their checkpoints (ON DELETE CASCADE).
  for (std::string_view sql : {"DELETE FROM runs WHERE thread_id = $1",
                               "DELETE FROM checkpoints WHERE thread_id = $1",
                               "DELETE FROM threads WHERE thread_id = $1"}) {
    auto r = co_await c.Query(sql, P(thread_id));
    if (!r) co_return r.error();
  }
  co_return Status{};
}

}  // namespace agentd::storage::postgres
