#pragma once
// Durable state behind narrow interfaces: assistants, threads, checkpoints, runs and store
// items. Two backends implement them: memory/ (the fast fake for unit tests) and sqlite/
// (embedded, durable). Callers never see rows or backend types, only model/ values and Errors.
//
// Threading: every method may be called from any event-loop thread at any time; the returned
// awaitable completes on the caller's executor. No backend blocks an event loop (sqlite/ runs
// its work on a thread it owns and posts results back).
//
// Errors every caller must handle: kNotFound (no such object for this tenant: another
// tenant's object is reported as missing, never as forbidden), kConflict (exists already),
// kUnavailable (the backend cannot be reached or is closed). Anything else is kInternal.
// Error messages are for logs; the API layer owns the protocol's wording.
//
// Test double: MakeMemoryStorage() (storage/memory/memory_storage.hpp); every backend passes
// tests/contract/storage_contract.hpp.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "common/error.hpp"
#include "model/types.hpp"

namespace agentd::storage {

namespace json = boost::json;
template <class T>
using Task = boost::asio::awaitable<T>;

enum class IfExists { kRaise, kDoNothing };

template <class T>
struct Page {
  std::vector<T> items;
  std::int64_t total = 0;  // matches before limit/offset, for X-Pagination-Total
};

// ---------------------------------------------------------------------------- assistants

struct AssistantQuery {
  std::string tenant;
  std::optional<json::object> metadata;  // containment
  std::optional<std::string> graph_id;
  std::optional<std::string> name;       // case-insensitive substring
  std::int64_t limit = 10;
  std::int64_t offset = 0;
  // One of assistant_id, graph_id, name, created_at, updated_at (validated by the API).
  std::string sort_by = "created_at";
  model::SortOrder sort_order = model::SortOrder::kDesc;
};

struct AssistantPatch {
  std::optional<std::string> graph_id;
  std::optional<json::object> config;    // replaces
  std::optional<json::object> context;   // replaces
  std::optional<json::object> metadata;  // merged (shallow) into the current metadata
  std::optional<std::string> name;
  std::optional<std::optional<std::string>> description;  // set (possibly to null)
};

class AssistantStore {
 public:
  virtual ~AssistantStore() = default;
  // Stores `a` as version 1 (created_at/updated_at set by the backend) and records the
  // version snapshot. Existing id: kConflict with kRaise, the stored assistant with kDoNothing.
  virtual Task<Result<model::Assistant>> Create(model::Assistant a, IfExists if_exists) = 0;
  virtual Task<Result<model::Assistant>> Get(std::string tenant, std::string assistant_id) = 0;
  // Applies `patch` to the latest version, stores it as version max+1 and makes it current.
  virtual Task<Result<model::Assistant>> Update(std::string tenant, std::string assistant_id,
                                                AssistantPatch patch) = 0;
  // Deletes the assistant, its versions and its runs; with `delete_threads`, also every thread
  // whose metadata.assistant_id equals the id. kNotFound when missing.
  virtual Task<Status> Delete(std::string tenant, std::string assistant_id,
                              bool delete_threads) = 0;
  virtual Task<Result<Page<model::Assistant>>> Search(AssistantQuery query) = 0;
  virtual Task<Result<std::int64_t>> Count(AssistantQuery query) = 0;
  // Newest first. kNotFound when the assistant does not exist.
  virtual Task<Result<std::vector<model::AssistantVersion>>> ListVersions(
      std::string tenant, std::string assistant_id, std::optional<json::object> metadata,
      std::int64_t limit, std::int64_t offset) = 0;
  // Makes `version` current (its graph_id, config, context, metadata, name, description).
  // kNotFound when the assistant or the version is missing.
  virtual Task<Result<model::Assistant>> SetLatest(std::string tenant, std::string assistant_id,
                                                   std::int64_t version) = 0;
};

// ------------------------------------------------------------------------------- threads

struct ThreadQuery {
  std::string tenant;
  std::optional<json::object> metadata;  // containment
  std::optional<json::object> values;    // containment on thread values
  std::optional<std::vector<std::string>> ids;
  std::optional<model::ThreadStatus> status;
  std::int64_t limit = 10;
  std::int64_t offset = 0;
  // One of thread_id, status, created_at, updated_at, state_updated_at.
  std::string sort_by = "created_at";
  model::SortOrder sort_order = model::SortOrder::kDesc;
};

struct ThreadPatch {
  std::optional<json::object> metadata;  // merged (shallow)
  std::optional<model::ThreadStatus> status;
  std::optional<json::object> config;    // replaces
  std::optional<json::value> values;     // replaces; also bumps state_updated_at
  std::optional<json::object> interrupts;
  std::optional<json::value> error;
  std::optional<TimestampMs> expires_at;
};

class ThreadStore {
 public:
  virtual ~ThreadStore() = default;
  // created_at/updated_at/state_updated_at are set by the backend. Existing id: kConflict
  // with kRaise, the stored thread with kDoNothing.
  virtual Task<Result<model::Thread>> Create(model::Thread t, IfExists if_exists) = 0;
  virtual Task<Result<model::Thread>> Get(std::string tenant, std::string thread_id) = 0;
  virtual Task<Result<model::Thread>> Update(std::string tenant, std::string thread_id,
                                             ThreadPatch patch) = 0;
  // Deletes the thread with its runs and checkpoints. kNotFound when missing.
  virtual Task<Status> Delete(std::string tenant, std::string thread_id) = 0;
  // Search and Count leave out threads whose expires_at has passed (the backend's clock): an
  // expired thread is gone for listings even before the sweeper deletes it.
  virtual Task<Result<Page<model::Thread>>> Search(ThreadQuery query) = 0;
  virtual Task<Result<std::int64_t>> Count(ThreadQuery query) = 0;
  // A new idle thread `new_thread_id` with the source's metadata (merged with
  // `extra_metadata`), config and values, and copies of all its checkpoints (ids kept).
  // kNotFound when the source is missing.
  virtual Task<Result<model::Thread>> Copy(std::string tenant, std::string source_thread_id,
                                           std::string new_thread_id,
                                           json::object extra_metadata) = 0;
  // TTL sweeping (api/thread_sweeper.hpp). Every thread of every tenant with a TTL
  // (expires_at != 0) and expires_at <= `now`, soonest expiry first, at most `limit`. Added
  // after the first backends: the default answers kUnsupported, like RunStore::ListByStatus.
  virtual Task<Result<std::vector<model::Thread>>> ListExpired(TimestampMs now,
                                                               std::int64_t limit) {
    (void)now;
    (void)limit;
    co_return MakeError(Errc::kUnsupported, "ListExpired is not supported by this backend");
  }
};

// --------------------------------------------------------------------------- checkpoints

struct HistoryQuery {
  std::string thread_id;
  std::string checkpoint_ns;  // "" = root
  std::int64_t limit = 10;
  std::optional<std::string> before;     // strictly older than this checkpoint id
  std::optional<json::object> metadata;  // containment on checkpoint metadata
};

class CheckpointStore {
 public:
  virtual ~CheckpointStore() = default;
  // Appends one checkpoint with its message writes as rows. kConflict when the id exists.
  virtual Task<Status> Put(model::Checkpoint checkpoint) = 0;
  // The newest checkpoint of the namespace (by checkpoint id), or nullopt when there is none.
  virtual Task<Result<std::optional<model::Checkpoint>>> Latest(std::string thread_id,
                                                                std::string checkpoint_ns) = 0;
  virtual Task<Result<model::Checkpoint>> Get(std::string thread_id,
                                              std::string checkpoint_id) = 0;
  // Newest first.
  virtual Task<Result<std::vector<model::Checkpoint>>> List(HistoryQuery query) = 0;
  // Every message write of the checkpoint's ancestor chain (root first, this one last), in
  // order: folding them with the messages reducer gives the channel's value there.
  virtual Task<Result<json::array>> MessageWrites(std::string thread_id,
                                                  std::string checkpoint_id) = 0;
  // Removes the given checkpoints and their message rows (rollback).
  virtual Task<Status> Remove(std::string thread_id, std::vector<std::string> checkpoint_ids) = 0;
};

// ---------------------------------------------------------------------------------- runs

struct RunQuery {
  std::string tenant;
  std::string thread_id;
  std::optional<model::RunStatus> status;
  std::int64_t limit = 10;
  std::int64_t offset = 0;
};

class RunStore {
 public:
  virtual ~RunStore() = default;
  // created_at/updated_at set by the backend. kConflict on an existing run id.
  virtual Task<Result<model::Run>> Create(model::Run run) = 0;
  virtual Task<Result<model::Run>> Get(std::string tenant, std::string run_id) = 0;
  // Newest first. kNotFound when the thread does not exist.
  virtual Task<Result<std::vector<model::Run>>> List(RunQuery query) = 0;
  virtual Task<Result<model::Run>> SetStatus(std::string tenant, std::string run_id,
                                             model::RunStatus status) = 0;
  virtual Task<Status> Delete(std::string tenant, std::string run_id) = 0;

  // Crash recovery (scheduler Recover at start). Added after the first backends; the defaults
  // answer kUnsupported so that a RunStore without them still compiles and says so.
  //
  // Every run of every tenant whose status is one of `statuses`, oldest first (created_at,
  // then insertion order), at most `limit`.
  virtual Task<Result<std::vector<model::Run>>> ListByStatus(
      std::vector<model::RunStatus> statuses, std::int64_t limit) {
    (void)statuses;
    (void)limit;
    co_return MakeError(Errc::kUnsupported, "ListByStatus is not supported by this backend");
  }
  // Counts one more attempt of the run (a new run is attempt 1) and returns the new number,
  // durably before it returns. kNotFound when the run is missing.
  virtual Task<Result<std::int64_t>> NextAttempt(std::string tenant, std::string run_id) {
    (void)tenant;
    (void)run_id;
    co_return MakeError(Errc::kUnsupported, "NextAttempt is not supported by this backend");
  }
  // Records the tokens a finished run spent (model::Run::usage), replacing what was there;
  // updated_at is left alone. kNotFound when the run is missing. Every shipped backend
  // implements it; the default keeps out-of-tree RunStores compiling.
  virtual Task<Status> SetUsage(std::string tenant, std::string run_id, json::object usage) {
    (void)tenant;
    (void)run_id;
    (void)usage;
    co_return MakeError(Errc::kUnsupported, "SetUsage is not supported by this backend");
  }
};

// ---------------------------------------------------------------------------- store items

struct ItemSearch {
  std::string tenant;
  std::vector<std::string> namespace_prefix;
  // Top-level keys of value: a plain value means equality; an object with $eq $ne $gt $gte
  // $lt $lte $in $nin applies those operators.
  std::optional<json::object> filter;
  std::int64_t limit = 10;
  std::int64_t offset = 0;
  bool refresh_ttl = false;
};

struct NamespaceQuery {
  std::string tenant;
  std::optional<std::vector<std::string>> prefix;  // "*" matches any one label
  std::optional<std::vector<std::string>> suffix;
  std::optional<std::int64_t> max_depth;
  std::int64_t limit = 100;
  std::int64_t offset = 0;
};

class ItemStore {
 public:
  virtual ~ItemStore() = default;
  // Upsert: a new item gets created_at = updated_at = now; an existing one keeps created_at.
  // `ttl_minutes` sets expires_at = now + ttl (cleared when absent).
  virtual Task<Status> Put(model::StoreItem item) = 0;
  // nullopt when absent or expired. `refresh_ttl` extends a TTL item from now.
  virtual Task<Result<std::optional<model::StoreItem>>> Get(std::string tenant,
                                                            std::vector<std::string> ns,
                                                            std::string key, bool refresh_ttl) = 0;
  // Succeeds whether or not the item existed.
  virtual Task<Status> Delete(std::string tenant, std::vector<std::string> ns, std::string key) = 0;
  // Newest updated_at first; expired items never appear.
  virtual Task<Result<std::vector<model::StoreItem>>> Search(ItemSearch query) = 0;
  // Distinct namespaces (cut to max_depth), sorted lexically, then paginated.
  virtual Task<Result<std::vector<std::vector<std::string>>>> ListNamespaces(
      NamespaceQuery query) = 0;
};

// ------------------------------------------------------------------------------- storage

struct TruncateOptions {
  bool runs = false;
  bool threads = false;
  bool assistants = false;  // keeps system assistants (metadata.created_by == "system")
  bool checkpointer = false;
  bool store = false;
};

class Storage {
 public:
  virtual ~Storage() = default;
  virtual AssistantStore& assistants() = 0;
  virtual ThreadStore& threads() = 0;
  virtual CheckpointStore& checkpoints() = 0;
  virtual RunStore& runs() = 0;
  virtual ItemStore& items() = 0;
  // A cheap round trip that proves the backend answers (for /ready).
  virtual Task<Status> Ping() = 0;
  virtual Task<Status> Truncate(TruncateOptions options) = 0;
  // Name for logs and /info: "memory", "sqlite".
  virtual std::string_view backend_name() const = 0;
};

}  // namespace agentd::storage
