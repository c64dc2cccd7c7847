#pragma once
// Cross-instance run coordination for cluster mode (storage.hpp: threading and error rules).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "common/error.hpp"
#include "model/types.hpp"
#include "storage/thread_store.hpp"
#include "storage/types.hpp"

namespace agentd::storage {

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

}  // namespace agentd::storage
