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

#include <chrono>
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
  std::optional<TimestampMs> expires_at;                  // the TTL (0 clears it); not versioned
};

class AssistantStore {
 public:
  virtual ~AssistantStore() = default;
  // Stores `a` as version 1 (created_at/updated_at set by the backend) and records the
  // version snapshot. Existing id: kConflict with kRaise, the stored assistant with kDoNothing.
  virtual Task<Result<model::Assistant>> Create(model::Assistant a, IfExists if_exists) = 0;
  virtual Task<Result<model::Assistant>> Get(std::string tenant, std::string assistant_id) = 0;
  // Applies `patch` to the latest version, stores it as version max+1 and makes it current.
  //
  // TTL: once expires_at has passed (the backend's clock), the assistant reads as missing:
  // Get, Update, ListVersions, SetLatest and Create(kDoNothing) answer kNotFound with
  // ExpiredError's text (query.hpp: "Assistant <id> expired at <ISO time>", kept by the API as
  // the 404 reason); Search and Count leave it out; Delete still deletes it (the sweeper).
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
  // TTL sweeping (api/thread_expiry.hpp). Every assistant of every tenant with a TTL
  // (expires_at != 0) and expires_at <= `now`, soonest expiry first, at most `limit`. Added
  // after the first backends: the default answers kUnsupported.
  virtual Task<Result<std::vector<model::Assistant>>> ListExpired(TimestampMs now,
                                                                  std::int64_t limit) {
    (void)now;
    (void)limit;
    co_return MakeError(Errc::kUnsupported, "ListExpired is not supported by this backend");
  }
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
  // TTL: once expires_at has passed (the backend's clock), Get, Copy (its source) and
  // Create(kDoNothing) answer kNotFound with ExpiredError's text (query.hpp: "Thread <id>
  // expired at <ISO time>", kept by the API as the 404 reason), and Search and Count leave the
  // thread out: it is gone for readers even before the sweeper deletes it. Update still
  // applies (a run that was active when the TTL passed writes its final state) and Delete
  // still deletes it.
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
  // The run's trace (runtime/run_trace.hpp, docs/console.md "Run traces"): the JSON text the
  // trace endpoint answers, replacing what was stored; its size is bounded by the caller
  // (trace_max_bytes). It is deleted with the run; updated_at is left alone. kNotFound when
  // the run is missing. The defaults keep out-of-tree RunStores compiling.
  virtual Task<Status> SetTrace(std::string tenant, std::string run_id, std::string trace) {
    (void)tenant;
    (void)run_id;
    (void)trace;
    co_return MakeError(Errc::kUnsupported, "SetTrace is not supported by this backend");
  }
  // The stored trace of run `run_id` on thread `thread_id`; nullopt when the run has none (it
  // never executed, or has not ended yet). kNotFound when the run is missing or is another
  // thread's or tenant's.
  virtual Task<Result<std::optional<std::string>>> GetTrace(std::string tenant,
                                                            std::string thread_id,
                                                            std::string run_id) {
    (void)tenant;
    (void)thread_id;
    (void)run_id;
    co_return MakeError(Errc::kUnsupported, "GetTrace is not supported by this backend");
  }
};

// ------------------------------------------------------------------------------ run leases

// What RunLeases::Enqueue decided.
struct EnqueueResult {
  model::Run run;  // as stored
  // Active runs of the thread that the strategy (interrupt / rollback) newly marked for
  // cancellation (a run marked before keeps its first action and is not listed again);
  // their owners are told to stop them (pub/sub now, their lease renewal at the latest).
  std::vector<std::string> cancelled_run_ids;
};

// How ClaimTurn went.
struct TurnClaim {
  enum class Kind {
    kGranted,    // the run is now `running` (or already was, owned by this instance)
    kNotYet,     // an older run of its thread is still active: wait for a wakeup, try again
    kCancelled,  // a cancel was requested (`cancel_action` says which); it must not run
    kLost,       // the run is gone, ended, or owned by another instance now: drop it, write nothing
  } kind = Kind::kNotYet;
  std::string cancel_action;  // kCancelled: "interrupt" or "rollback"
};

// One leased run as renewal sees it.
struct LeaseState {
  std::string run_id;
  std::string cancel_action;  // "" unless someone requested a cancel since
};

// Cross-instance run coordination (cluster mode: N agentd instances on one database). Every
// pending or running run is owned by one instance under a lease that the instance renews; an
// instance that dies stops renewing, and another adopts its runs once the lease expired. The
// database, not any process, decides the multitask strategy and whose turn it is, so per-thread
// serialization holds across instances: at most one `running` run per thread is a unique index.
// Lease times are the database's clock, so instance clocks may disagree.
class RunLeases {
 public:
  virtual ~RunLeases() = default;
  // Under the thread's row lock: applies `strategy` ("reject" | "enqueue" | "interrupt" |
  // "rollback") to the thread's active runs, then inserts `run` pending, owned by `owner` for
  // `lease`. reject with any active run: kUnprocessable, nothing written. interrupt/rollback:
  // the active runs not marked before get cancel_action set and are listed. kNotFound when the thread is gone.
  virtual Task<Result<EnqueueResult>> Enqueue(model::Run run, std::string strategy,
                                              std::string owner, std::chrono::milliseconds lease) = 0;
  // Makes the run `running` if it is its thread's oldest active run and no other run of the
  // thread runs. See TurnClaim.
  virtual Task<Result<TurnClaim>> ClaimTurn(std::string run_id, std::string owner) = 0;
  // Extends the leases of the listed runs that `owner` still holds; returns those (with any
  // cancel requested meanwhile). A listed run missing from the answer is no longer this
  // owner's to run.
  virtual Task<Result<std::vector<LeaseState>>> Renew(std::string owner,
                                                      std::vector<std::string> run_ids,
                                                      std::chrono::milliseconds lease) = 0;
  // Takes over (FOR UPDATE SKIP LOCKED) up to `limit` active runs whose lease expired, oldest
  // first, owned by `owner` for `lease` from now. The caller resumes them.
  virtual Task<Result<std::vector<model::Run>>> AdoptExpired(std::string owner,
                                                             std::chrono::milliseconds lease,
                                                             std::int64_t limit) = 0;
  // How a run ended, written in one transaction by Finish.
  struct Ending {
    model::RunStatus status = model::RunStatus::kSuccess;
    std::optional<json::object> usage;  // stored with the status when set
    // The thread's end state, applied under the same fence, so anyone who sees the run ended
    // also sees the thread's final values. A status of kIdle is stored as kBusy while the
    // thread has other active runs. Skipped when the thread is gone.
    std::optional<ThreadPatch> thread;
  };
  // The run's end, written only while `owner` still holds it (a fence against an instance that
  // lost its lease while paused): `owned` is false when it no longer does (nothing written).
  // `others_active`: the thread has other active runs.
  struct Finished {
    bool owned = false;
    bool others_active = false;
  };
  virtual Task<Result<Finished>> Finish(std::string tenant, std::string thread_id,
                                        std::string run_id, std::string owner, Ending ending) = 0;
  // Requests a cancel of an active run wherever it runs. Returns its thread id, or kNotFound
  // when the run is not active (ended, unknown, another tenant's).
  virtual Task<Result<std::string>> RequestCancel(std::string tenant, std::string run_id,
                                                  std::string action) = 0;
  // Requests a cancel of every active run of the thread (a thread being deleted), wherever
  // they run; returns the ids of those not marked before.
  virtual Task<Result<std::vector<std::string>>> RequestThreadCancel(std::string tenant,
                                                                     std::string thread_id,
                                                                     std::string action) = 0;
  // Which of `run_ids` are still pending or running (any instance, any owner).
  virtual Task<Result<std::vector<std::string>>> ActiveAmong(std::vector<std::string> run_ids) = 0;
  // Whether the run is still pending or running (any instance).
  virtual Task<Result<bool>> IsActive(std::string tenant, std::string run_id) = 0;
  // Whether any run of the thread is pending or running (any instance).
  virtual Task<Result<bool>> ThreadHasActiveRuns(std::string tenant, std::string thread_id) = 0;
  // Lets others adopt this owner's active runs at once (a draining instance hands them over).
  virtual Task<Status> ExpireAll(std::string owner) = 0;
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
  // Whether writes work now (for /ready): false, with `why` naming the problem, while the
  // backend knows they fail or refuses them (SQLite: disk full or I/O errors, until space is
  // back; its database file deleted or replaced under the server, until restart). A flag the
  // backend keeps current by itself: cheap, thread-safe, never blocks. Backends that cannot
  // tell answer true.
  virtual bool Writable(std::string* why) const {
    (void)why;
    return true;
  }
  virtual Task<Status> Truncate(TruncateOptions options) = 0;
  // Name for logs and /info: "memory", "sqlite".
  virtual std::string_view backend_name() const = 0;
  // Cross-instance run coordination; nullptr for single-process backends (memory, SQLite),
  // which run in embedded mode only.
  virtual RunLeases* leases() { return nullptr; }
};

}  // namespace agentd::storage
