#pragma once
// Private to sqlite/: row <-> model mapping and the small row operations several stores share
// (load one object, write one object, delete a thread's rows). All run on the storage thread
// inside a job.

#include <string>
#include <string_view>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "common/error.hpp"
#include "model/types.hpp"
#include "storage/sqlite/db.hpp"

namespace agentd::storage::sqlite {

namespace json = boost::json;

// Column lists, in the order the Read* functions expect.
inline constexpr std::string_view kAssistantCols =
    "assistant_id, tenant, graph_id, name, description, config, context, metadata, version, "
    "created_at, updated_at, expires_at";
inline constexpr std::string_view kVersionCols =
    "assistant_id, version, graph_id, name, description, config, context, metadata, created_at";
inline constexpr std::string_view kThreadCols =
    "thread_id, tenant, status, metadata, config, thread_values, interrupts, error, created_at, "
    "updated_at, state_updated_at, expires_at";
inline constexpr std::string_view kRunCols =
    "run_id, tenant, thread_id, assistant_id, status, metadata, multitask_strategy, kwargs, "
    "created_at, updated_at, usage";
inline constexpr std::string_view kCheckpointCols =
    "thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, run_id, metadata, next, "
    "tasks, channels, message_count, created_at";
inline constexpr std::string_view kItemCols =
    "tenant, ns_path, key, value, created_at, updated_at, expires_at, ttl_minutes";

// Stored JSON is written by us, so a parse failure means corruption: it reads as empty.
json::value ParseValue(std::string_view text);
json::object ParseObject(std::string_view text);
json::array ParseArray(std::string_view text);

model::Assistant ReadAssistant(const Stmt& s, int first = 0);
model::AssistantVersion ReadVersion(const Stmt& s, int first = 0);
model::Thread ReadThread(const Stmt& s, int first = 0);
model::Run ReadRun(const Stmt& s, int first = 0);
model::Checkpoint ReadCheckpoint(const Stmt& s, int first = 0);  // without its messages
model::StoreItem ReadItem(const Stmt& s, int first = 0);

// kNotFound when missing or owned by another tenant.
Result<model::Assistant> LoadAssistant(Db& db, const std::string& tenant, const std::string& id);
Result<model::Thread> LoadThread(Db& db, const std::string& tenant, const std::string& id);
Result<model::Run> LoadRun(Db& db, const std::string& tenant, const std::string& id);
// The checkpoint's own message rows, in order.
Result<json::array> LoadCheckpointMessages(Db& db, const std::string& thread_id,
                                           const std::string& checkpoint_id);

Status InsertThread(Db& db, const model::Thread& t);  // kConflict when the id exists
// Every mutable column; `with_values` false leaves thread_values as stored (a patch without
// values must not re-serialise and rewrite a long thread's whole state).
Status WriteThread(Db& db, const model::Thread& t, bool with_values = true);
Status InsertVersion(Db& db, const model::AssistantVersion& v);
Status WriteAssistant(Db& db, const model::Assistant& a);  // every mutable column
// The thread row, its runs, its checkpoints and their message rows.
Status DeleteThreadRows(Db& db, const std::string& thread_id);

}  // namespace agentd::storage::sqlite
