#pragma once
// Private to postgres/: row <-> model mapping and the row operations several stores share.

#include <string>
#include <string_view>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "common/error.hpp"
#include "model/types.hpp"
#include "storage/postgres/pg_conn.hpp"

namespace agentd::storage::postgres {

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

model::Assistant ReadAssistant(const PgResult& r, int row);
model::AssistantVersion ReadVersion(const PgResult& r, int row);
model::Thread ReadThread(const PgResult& r, int row);
model::Run ReadRun(const PgResult& r, int row);
model::Checkpoint ReadCheckpoint(const PgResult& r, int row);  // without its messages
model::StoreItem ReadItem(const PgResult& r, int row);

// kNotFound when missing or owned by another tenant. `lock` adds FOR UPDATE.
Task<Result<model::Assistant>> LoadAssistant(PgConn& c, std::string tenant, std::string id,
                                             bool lock = false);
Task<Result<model::Thread>> LoadThread(PgConn& c, std::string tenant, std::string id,
                                       bool lock = false);
Task<Result<model::Run>> LoadRun(PgConn& c, std::string tenant, std::string id,
                                 bool lock = false);

Task<Status> InsertThread(PgConn& c, const model::Thread& t);  // kConflict when the id exists
Task<Status> WriteThread(PgConn& c, const model::Thread& t);   // every mutable column
Task<Status> InsertVersion(PgConn& c, const model::AssistantVersion& v);
Task<Status> WriteAssistant(PgConn& c, const model::Assistant& a);  // every mutable column
// The thread row, its runs, its checkpoints and their message rows.
Task<Status> DeleteThreadRows(PgConn& c, std::string thread_id);

}  // namespace agentd::storage::postgres
