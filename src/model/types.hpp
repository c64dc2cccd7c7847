#pragma once
// The domain's value types, shared by storage, runtime and api. Plain structs: no behaviour,
// no I/O. JSON-shaped fields (config, metadata, values ...) are Boost.JSON values exactly as
// clients sent them; timestamps are ms since the epoch (common/time.hpp).
//
// Every object carries `tenant`: the owner derived from auth. Until auth lands every request
// has the empty tenant; storage already filters by it so isolation is a query property.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "common/time.hpp"

namespace agentd::model {

namespace json = boost::json;

enum class ThreadStatus { kIdle, kBusy, kInterrupted, kError };
std::string_view ToString(ThreadStatus s);
std::optional<ThreadStatus> ParseThreadStatus(std::string_view s);

enum class RunStatus { kPending, kRunning, kSuccess, kError, kTimeout, kInterrupted };
std::string_view ToString(RunStatus s);
std::optional<RunStatus> ParseRunStatus(std::string_view s);

enum class SortOrder { kAsc, kDesc };

struct Assistant {
  std::string tenant;
  std::string assistant_id;
  std::string graph_id;
  std::string name = "Untitled";
  std::optional<std::string> description;
  json::object config;
  json::object context;
  json::object metadata;
  std::int64_t version = 1;
  TimestampMs created_at = 0;
  TimestampMs updated_at = 0;
  TimestampMs expires_at = 0;  // 0 = no TTL; not versioned (a property of the assistant row)
};

// A snapshot recorded at create and at every update (the protocol's "version object").
struct AssistantVersion {
  std::string assistant_id;
  std::string graph_id;
  std::string name;
  std::optional<std::string> description;
  json::object config;
  json::object context;
  json::object metadata;
  std::int64_t version = 1;
  TimestampMs created_at = 0;
};

struct Thread {
  std::string tenant;
  std::string thread_id;
  TimestampMs created_at = 0;
  TimestampMs updated_at = 0;
  TimestampMs state_updated_at = 0;
  json::object metadata;
  ThreadStatus status = ThreadStatus::kIdle;
  json::object config;
  json::value values;        // null until the first checkpoint
  json::object interrupts;   // {task_id: [Interrupt...]}
  json::value error;         // null unless the last run failed
  // Optional explicit expiry (thread TTL); 0 = never. Expired threads are reported, not hidden.
  TimestampMs expires_at = 0;
};

struct Run {
  std::string tenant;
  std::string run_id;
  std::string thread_id;
  std::string assistant_id;
  RunStatus status = RunStatus::kPending;
  json::object metadata;
  std::string multitask_strategy = "reject";
  json::object kwargs;
  TimestampMs created_at = 0;
  TimestampMs updated_at = 0;
  // LLM tokens the run spent: {} until it ends, then {"input_tokens", "output_tokens",
  // "total_tokens"} (RunStore::SetUsage).
  json::object usage;
};

// One checkpoint: the thread's state after a step, stored as the delta of that step.
// `appended_messages` are the messages this step added (rows, not a re-written list);
// `channels` holds the small channels (everything but the append-only message log) in full.
struct Checkpoint {
  std::string thread_id;
  std::string checkpoint_ns;  // "" for the root graph
  std::string checkpoint_id;  // uuid7: sorts by creation time
  std::optional<std::string> parent_checkpoint_id;
  std::string run_id;         // "" when written by a state update
  json::object metadata;      // source, step, parents, writes ...
  json::array next;
  json::array tasks;
  json::object channels;
  // The message log at this checkpoint is every message appended by this checkpoint and its
  // ancestors, in order; `message_count` is its length (for bounded reads).
  json::array appended_messages;
  std::int64_t message_count = 0;
  TimestampMs created_at = 0;
};

struct StoreItem {
  std::string tenant;
  std::vector<std::string> namespace_path;
  std::string key;
  json::object value;
  TimestampMs created_at = 0;
  TimestampMs updated_at = 0;
  TimestampMs expires_at = 0;      // 0 = no TTL
  std::optional<double> ttl_minutes;  // kept so refresh_ttl can extend from now
};

}  // namespace agentd::model
