#pragma once
// RunManager: admission, per-thread serialization, execution and cancellation of runs
// (agent-protocol.md 5), embedded mode: the queue lives in this process, run records are
// persisted through storage.runs().
//
// Invariant: at most one run per thread is *running*, always. Every run that is pending or
// running ("active") sits in its thread's slot, in creation order. Admission (the
// multitask_strategy decision), starting the next run and removing a finished one all happen
// under one manager-wide mutex whose critical sections are a few map operations and never
// wait; storage is called outside it. So 100 requests on different event loops for one thread
// are decided one after another, in the order they take the lock, and the in-memory slots are
// the truth about whether a thread is busy (IsThreadActive), not the stored thread status.
// Run ids are uuid7 drawn under that lock, so id order is admission order.
//
// Execution: each run is one coroutine, co_spawned on an event loop chosen at creation. It
// waits for its turn, appends `metadata` (event 0), runs the executor under a cancellation
// signal the manager owns, then finishes in one step: run status, thread status/values/
// interrupts/error (and for a rollback: the run and its checkpoints deleted) are written
// BEFORE the slot is released and the event log is closed. A client that sees a stream end can
// start a `reject` run at once.
//
// Thread safety: every public method may be called from any thread.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/json/value.hpp>

#include "bus/event_log.hpp"
#include "bus/pubsub.hpp"
#include "common/error.hpp"
#include "common/snapshot.hpp"
#include "model/types.hpp"
#include "runtime/graph_registry.hpp"
#include "config/config.hpp"
#include "model/principal.hpp"
#include "observe/metrics.hpp"
#include "runtime/http_transport.hpp"
#include "scheduler/admission.hpp"
#include "scheduler/one_shot.hpp"
#include "scheduler/run_executor.hpp"
#include "scheduler/run_permits.hpp"
#include "scheduler/run_spec.hpp"
#include "storage/storage.hpp"

namespace agentd::runtime {
class RunTrace;       // runtime/run_trace.hpp
class TraceStore;     // runtime/run_trace.hpp
class TraceExporter;  // runtime/run_trace.hpp
}  // namespace agentd::runtime

namespace agentd::scheduler {

// The busy refusal of a `reject` run (agent-protocol.md 1.7), word for word.
inline constexpr std::string_view kThreadBusyText =
    "Thread is already running a task. Wait for it to finish or choose a different multitask "
    "strategy.";

// The live state of one active run, shared by the manager, its coroutine and the API handlers
// that stream, wait for or cancel it. Accessors are thread-safe.
class RunHandle {
 public:
  const std::string& run_id() const { return run_id_; }
  const std::string& thread_id() const { return thread_id_; }
  const std::string& tenant() const { return tenant_; }
  bool stateless() const { return stateless_; }
  bool resumable() const { return resumable_; }
  const std::shared_ptr<bus::RunEventLog>& log() const { return log_; }
  // Waits until the run is finished (true) or `timeout` passed (false).
  boost::asio::awaitable<bool> WaitDone(std::chrono::steady_clock::duration timeout) {
    return done_.WaitFor(timeout);
  }
  bool done() const { return done_.is_set(); }
  // Set once the run holds an execution slot (or ended without one): a streaming client whose
  // run has not got one yet is shown `queue` events (RunManager::QueueInfo).
  boost::asio::awaitable<bool> WaitAdmitted(std::chrono::steady_clock::duration timeout) {
    return admitted_.WaitFor(timeout);
  }
  bool admitted() const { return admitted_.is_set(); }
  const std::string& tier() const { return tier_; }
  int attempt() const { return attempt_; }
  // Valid once done(): the /wait and /join body (section 5.6), and the final status.
  const boost::json::value& final_body() const { return final_body_; }
  model::RunStatus final_status() const { return final_status_; }

 private:
  friend class RunManager;
  enum class State { kAdmitted, kQueued, kStarting, kRunning, kDone };

  std::string run_id_;
  std::string thread_id_;
  std::string tenant_;
  std::string tier_;
  int attempt_ = 1;  // 2+ for a run resumed after a restart
  Ticket ticket_;    // its claim on the global budget (admission.hpp)
  bool stateless_ = false;
  bool resumable_ = false;
  std::shared_ptr<bus::RunEventLog> log_;
  boost::asio::any_io_executor executor_;

  // Set at creation, read by the run's coroutine.
  model::Run run_;
  RunSpec spec_;
  runtime::RunRequest request_;
  // The graph version the run started with (a reload does not change it under the run).
  std::shared_ptr<const runtime::GraphInfo> graph_;

  // Guarded by RunManager::mutex_.
  State state_ = State::kAdmitted;
  std::optional<CancelAction> cancel_;
  // Drain: the run stops without writing a final status, so the next start resumes it.
  bool abandon_ = false;

  // Only touched on executor_.
  boost::asio::cancellation_signal signal_;
  bool executing_ = false;
  bool timed_out_ = false;  // run_timeout fired
  std::shared_ptr<runtime::RunTrace> trace_;  // this attempt's, once it executes (Execute)

  // Cluster mode: until when (steady clock, ns since its epoch) this instance is sure it still
  // holds the run's lease, by its own clock: the moment its last successful Enqueue, adoption
  // or renewal was *sent*, plus the lease, which is no later than the database's expiry. Past
  // it the run appends no more events (an instance paused past its lease must not write into
  // the stream the adopter continues). Embedded runs never lapse.
  std::atomic<std::int64_t> lease_deadline_ns_{std::numeric_limits<std::int64_t>::max()};
  // Cluster mode: the run holds a cluster-wide permit of its (tier, tenant) under this holder
  // name (ClusterOptions::permits). Guarded by RunManager::mutex_; given back exactly once.
  bool permit_held_ = false;
  std::string permit_holder_;

  OneShot start_;      // its turn came, or it was cancelled while pending
  OneShot cancelled_;  // a cancel was requested (wakes an after_seconds wait)
  OneShot done_;
  OneShot admitted_;
  boost::json::value final_body_;
  model::RunStatus final_status_ = model::RunStatus::kPending;
};

struct StartedRun {
  model::Run run;
  std::shared_ptr<RunHandle> handle;
};

// One active run as the console's operations view shows it (RunManager::ActiveRuns).
struct ActiveRunInfo {
  std::string run_id;
  std::string thread_id;
  std::string assistant_id;
  std::string tenant;
  std::string tier;
  // "behind_thread" (an older run of its thread is active), "queued" (waiting for an
  // execution slot; position set), "starting", "running".
  std::string state;
  std::size_t queue_position = 0;  // 1 = next; 0 unless queued
  std::int64_t estimated_wait_ms = 0;
  std::int64_t created_at_ms = 0;  // epoch ms (the run record's created_at)
  int attempt = 1;
};

// Cluster mode: N agentd instances on one PostgreSQL (storage::RunLeases) and one Redis
// (bus::PubSub, and a Redis EventBus so any instance serves any run's stream). The database
// decides the multitask strategy and whose turn it is on a thread; each instance owns the runs
// it created or adopted under leases it renews; a dead instance's runs are adopted by the
// others once their leases expire and resume from their last checkpoint. Pub/sub only makes
// things prompt (a cancel, "thread free"); the lease keeper's timer is the safety net.
struct ClusterOptions {
  storage::RunLeases* leases = nullptr;  // required
  bus::PubSub* pubsub = nullptr;         // required
  std::string instance_id;               // this process's name in leases (unique per start)
  std::chrono::milliseconds lease{10'000};
  // Control messages: "cancel <run> <action>", "free <thread>", "permit <tier> <tenant>".
  std::string channel = "agentd:runs";
  // The longest a run waits for its thread's turn before looking again without a wakeup.
  std::chrono::milliseconds turn_recheck{2'000};
  std::int64_t adopt_batch = 100;
  // A tier's max_concurrent_runs across every instance (run_permits.hpp): a run of such a tier
  // waits for a permit after its thread's turn, before its local execution slot. Null: the
  // quota holds per instance only (N instances allow N times it). Must outlive the manager.
  RunPermits* permits = nullptr;
};

struct RunManagerOptions {
  bus::EventLogOptions log_options;
  int webhook_attempts = 4;
  std::chrono::milliseconds webhook_backoff{500};  // doubled after each failed attempt
  // Base URL (http://host:port) that webhooks beginning with "/" go to.
  std::string self_base_url;
  // Admission and deadlines (admission.hpp): max_active_runs / max_queued_runs (0 = unlimited
  // here), queue_timeout (0 = none), run_timeout (0 = none), and the tiers whose quotas apply
  // per tenant (a principal's tier, else default_tier; an unknown tier is unlimited).
  config::Limits limits;
  // Where run counters, gauges and the queue-wait histogram go; may be null.
  observe::Metrics* metrics = nullptr;
  // Recover(): resume runs found pending/running at start (true), or end them `error`.
  bool resume_on_start = true;
  // Stop(): true lets executing runs finish within the grace period and leaves the others
  // pending/running in storage for the next start (agentd serve); false interrupts them all.
  bool drain_on_stop = false;
  // Charges a finished run's LLM tokens (input + output, when any) to its tenant's token
  // budget; called on the run's event loop after its usage is stored, rolled-back runs
  // included (the tokens were spent). May be empty.
  std::function<void(const std::string& tenant, const std::string& tier, std::int64_t tokens)>
      charge_tokens;
  // Set for cluster mode; unset runs embedded (this process is the only one).
  std::optional<ClusterOptions> cluster;
  // Where each executed run's trace goes (runtime/run_trace.hpp); null records none. Must
  // outlive the manager.
  runtime::TraceStore* traces = nullptr;
  // Told about each ended trace (the OTLP exporter); must not block. May be null.
  runtime::TraceExporter* trace_exporter = nullptr;
};

// How a cancel request went (RunManager::Cancel).
enum class CancelRequest { kNotActive, kRequested };

class RunManager {
 public:
  using ExecutorPicker = std::function<boost::asio::any_io_executor()>;

  // Every reference must outlive the manager; `webhooks` may be null (webhooks are then
  // dropped with a warning). `pick` chooses the event loop of each new run.
  RunManager(storage::Storage& storage, const runtime::GraphRegistry& graphs,
             bus::EventBus& bus, RunExecutor& executor, runtime::HttpTransport* webhooks,
             ExecutorPicker pick, RunManagerOptions options = {});
  ~RunManager();
  RunManager(const RunManager&) = delete;
  RunManager& operator=(const RunManager&) = delete;

  // Creates a run on `thread_id`, or on a new thread when it is nullopt (stateless). Errors,
  // with the protocol's text: kNotFound (unknown assistant, graph), kUnprocessable (busy under
  // `reject`; missing thread under if_not_exists `reject`), kUnavailable (stopping), storage
  // errors. On error nothing was written.
  boost::asio::awaitable<Result<StartedRun>> Create(std::string tenant,
                                                    std::optional<std::string> thread_id,
                                                    RunSpec spec);
  // The same for an authenticated principal: its tenant owns the run, its tier's quotas apply
  // (max_concurrent_runs, max_queued_runs, priority). Admission refusals are RefusalErrors
  // (refusal.hpp): kResourceExhausted (429 tenant_limit) or kUnavailable (503
  // server_saturated / shutting_down), decided before anything is written.
  boost::asio::awaitable<Result<StartedRun>> Create(model::Principal principal,
                                                    std::optional<std::string> thread_id,
                                                    RunSpec spec);

  // Finds the runs left pending/running by a previous process (crash, kill -9, drain) and
  // resumes them from their thread's latest checkpoint with a fresh event log whose metadata
  // event carries the next `attempt` (or, with resume_on_start false, ends them `error`).
  // Call once at start, after the loops run and before serving. Returns how many were found.
  boost::asio::awaitable<Result<std::size_t>> Recover();

  // Where a run waiting for an execution slot stands; nullopt when it is not in that queue
  // (running, ended, or still behind its own thread).
  std::optional<QueuePosition> QueueInfo(const RunHandle& h) const;
  AdmissionStats admission_stats() const { return admission_.Stats(); }
  // The active runs of this process for the console (run_snapshot.cpp): running first, then
  // by queue position, then oldest first; at most `limit` of them, `*total` counts all.
  std::vector<ActiveRunInfo> ActiveRuns(std::size_t limit, std::size_t* total) const;
  const config::Limits& limits() const { return options_.limits; }
  // Cluster mode: this process's name in run leases; "" when embedded.
  std::string instance_id() const {
    return options_.cluster ? options_.cluster->instance_id : std::string();
  }
  // True while a new run would be refused for a full queue (or draining): /ready fails.
  bool saturated() const { return admission_.Stats().saturated; }

  // The handle of an active (or just finishing) run; nullptr when the run is not active here.
  std::shared_ptr<RunHandle> Find(const std::string& run_id) const;
  // Requests a cancel; returns the handle to wait on, or nullptr when the run is not active.
  // A second request keeps the first action.
  std::shared_ptr<RunHandle> RequestCancel(const std::string& run_id, CancelAction action);
  // Cancels a run wherever it executes: here, or (cluster mode) on another instance, through
  // the database and pub/sub. kNotActive when it is not pending/running anywhere.
  boost::asio::awaitable<Result<CancelRequest>> Cancel(std::string tenant, std::string run_id,
                                                       CancelAction action);
  // Cancel() without waiting for the answer (client disconnects); errors are logged.
  void CancelDetached(std::string tenant, std::string run_id, CancelAction action);
  // Waits until the run is no longer active anywhere (true) or `timeout` passed (false).
  boost::asio::awaitable<bool> WaitEnded(std::string tenant, std::string run_id,
                                         std::chrono::steady_clock::duration timeout);
  // Whether the thread has an active run here or (cluster mode) on any instance.
  boost::asio::awaitable<bool> IsThreadBusy(std::string tenant, std::string thread_id);
  bool clustered() const { return options_.cluster.has_value(); }
  // Cluster mode: false (with `why`) while the lease keeper has not renewed this instance's
  // leases for a whole lease period (paused, cut off from PostgreSQL): /ready fails meanwhile,
  // since the other instances are taking its runs over.
  bool LeasesCurrent(std::string* why) const;
  // Cancels every active run of the thread, here and (cluster mode) on every instance, and
  // waits for them to end (bounded by `wait`).
  boost::asio::awaitable<void> CancelThread(std::string tenant, std::string thread_id,
                                            CancelAction action,
                                            std::chrono::steady_clock::duration wait);
  bool IsThreadActive(const std::string& thread_id) const;
  // The event log of an active or recently ended run of `tenant` (bus retention); nullptr when
  // unknown or another tenant's. Logs are keyed by tenant and run id (LogKey), so a log
  // outliving its run record (stateless runs) is still reachable only by its owner.
  boost::asio::awaitable<std::shared_ptr<bus::RunEventLog>> FindLog(std::string tenant,
                                                                    std::string run_id) {
    return bus_.Find(LogKey(tenant, run_id));
  }
  static std::string LogKey(const std::string& tenant, const std::string& run_id) {
    return tenant + "/" + run_id;
  }
  std::size_t active_count() const;

  // The /join body of a run that is no longer active, from the stored run and thread.
  boost::asio::awaitable<Result<boost::json::value>> FinishedBody(std::string tenant,
                                                                  model::Run run);

  void SetSelfBaseUrl(std::string url);

  // A configuration reload: the tier quotas (max_concurrent_runs, max_queued_runs, priority)
  // and the default tier that runs created from now on are admitted with; an admitted run
  // keeps the quota it got. The other fields of RunManagerOptions::limits (max_active_runs,
  // max_queued_runs, queue_timeout, run_timeout) stay as they were at start.
  void SetTiers(std::vector<config::TierLimits> tiers, std::string default_tier);

  // Cluster mode: starts listening to control messages and the lease keeper (renewal,
  // adoption of expired runs). Call once, after the loops run; Recover() calls it.
  void StartCluster();

  // Refuses new runs (503 shutting_down), then either (drain_on_stop) lets executing runs
  // finish within `grace` and stops the rest without a final status (left pending/running in
  // storage, resumed by the next start's Recover), or cancels every active run (`interrupted`).
  // Blocks until the coroutines ended (bounded). Call from a thread that is not an event loop,
  // while the loops still run.
  void Stop(std::chrono::milliseconds grace);

 private:
  struct Slot {
    std::vector<std::shared_ptr<RunHandle>> runs;  // active, in creation order
  };

  enum class SlotResult { kGranted, kCancelled, kTimedOut, kClosed };

  boost::asio::awaitable<void> Lifecycle(std::shared_ptr<RunHandle> h);
  // Waits for a global execution slot (after the thread's turn came), bounded by queue_timeout
  // counted from `queued_since` (the end of the thread's turn wait).
  boost::asio::awaitable<SlotResult> AcquireSlot(RunHandle& h,
                                                 std::chrono::steady_clock::time_point queued_since);
  // Ends a run without writing anything (drain): storage keeps it pending/running.
  void Abandon(const std::shared_ptr<RunHandle>& h);
  bool AbandonedOrCancelled(const RunHandle& h) const;
  TierQuota QuotaFor(const std::string& tier) const;
  void CountRejection(std::string_view reason);
  void UpdateGauges();
  // Recover() for one stored run; false when it could not be resumed (it is then ended).
  // `leased_at`: when the adoption that gave this instance the run was sent (cluster mode).
  boost::asio::awaitable<bool> ResumeRun(
      model::Run run, std::optional<std::chrono::steady_clock::time_point> leased_at = {});
  // Embedded Recover(): a run of `run`'s thread created after it that has executed (its status
  // says so, or it wrote the thread's latest checkpoint), or "" when there is none.
  boost::asio::awaitable<Result<std::string>> LaterTurn(const model::Run& run);
  boost::asio::awaitable<runtime::RunOutcome> Execute(RunHandle& h);
  boost::asio::awaitable<void> Finish(std::shared_ptr<RunHandle> h, runtime::RunOutcome outcome,
                                      bool executed, boost::json::value values_before,
                                      boost::json::object interrupts_before);
  boost::asio::awaitable<void> SendWebhook(std::shared_ptr<RunHandle> h, model::Run run,
                                           boost::json::value values, std::string error,
                                           TimestampMs started, TimestampMs ended);
  void Spawn(std::shared_ptr<RunHandle> h);
  // Starts the thread's next queued run if none is running. Takes the lock.
  void Pump(const std::string& thread_id);
  // Marks a cancel under the lock; returns true when the caller must Deliver it.
  bool MarkCancelLocked(RunHandle& h, CancelAction action);
  void Deliver(const std::shared_ptr<RunHandle>& h);
  void Forget(const std::shared_ptr<RunHandle>& h, bool* others_active);

  // Cluster mode (run_cluster.cpp).
  enum class TurnResult { kGranted, kCancelled, kLost, kStopping };
  // Records a new run through RunLeases::Enqueue (the strategy decided cluster-wide) and
  // cancels the runs it displaced, here or on their instances.
  boost::asio::awaitable<Result<model::Run>> EnqueueClustered(RunHandle& h,
                                                              MultitaskStrategy strategy);
  // Waits until the database gives the run its thread's turn.
  boost::asio::awaitable<TurnResult> WaitTurn(RunHandle& h);
  boost::asio::awaitable<void> LeaseKeeper();
  boost::asio::awaitable<void> RenewLeases();
  boost::asio::awaitable<void> AdoptExpired();
  void OnControlMessage(std::string_view payload);
  // Wakes the runs of this process waiting for `thread_id`'s turn.
  void WakeThread(const std::string& thread_id);
  std::shared_ptr<OneShot> ThreadWakeup(const std::string& thread_id);
  // Gives back a wakeup that did not fire: removed when no other waiter holds it, so threads
  // whose "free" message never comes leave nothing behind.
  void ReleaseThreadWakeup(const std::string& thread_id, std::shared_ptr<OneShot> wakeup);
  // Asks `still_active` again on every wakeup of `thread_id` ("free") and at least every
  // turn_recheck until it answers false (true returned) or `deadline` passes (false).
  boost::asio::awaitable<bool> WaitThreadQuiet(
      const std::string& thread_id, std::chrono::steady_clock::time_point deadline,
      const std::function<storage::Task<Result<bool>>()>& still_active);
  // CancelThread on the other instances: marks the thread's runs in the database, tells their
  // owners, and waits until none is active anywhere or `deadline`.
  boost::asio::awaitable<void> CancelThreadClustered(std::string tenant, std::string thread_id,
                                                     CancelAction action,
                                                     std::chrono::steady_clock::time_point deadline);
  void Publish(std::string payload);
  // Ends a run this process no longer owns: no writes, its log left to the new owner.
  void DropLost(const std::shared_ptr<RunHandle>& h);
  // The run's lease is ours until `asked_at` + lease (never shortened).
  void ExtendLease(RunHandle& h, std::chrono::steady_clock::time_point asked_at) const;
  // Whether the run may still write: true in embedded mode; in cluster mode false once its
  // lease deadline passed, and the run is then dropped (DropLost).
  bool StillLeased(RunHandle& h);
  // Stop(): lets the other instances adopt what this one leaves behind at once.
  void HandOverLeases();

  // Cluster-wide tier quotas (run_permits.cpp).
  enum class PermitResult { kGranted, kCancelled, kTimedOut };
  // Waits for a permit of the run's (tier, tenant) when its tier has max_concurrent_runs and
  // ClusterOptions::permits is set; kGranted at once otherwise, and when the permits backend
  // is unavailable (per-instance limits only). Bounded by queue_timeout from `queued_since`.
  boost::asio::awaitable<PermitResult> WaitPermit(RunHandle& h,
                                                  std::chrono::steady_clock::time_point queued_since);
  // Gives the run's permit back (once, whoever calls first) and wakes the tenant's waiters
  // here and on every instance.
  void ReleasePermit(const std::shared_ptr<RunHandle>& h);
  void WakePermitWaiters(std::string_view tier, std::string_view tenant);
  // Extends the permits of this instance's runs by a lease (the lease keeper).
  boost::asio::awaitable<void> RenewPermits();

  storage::Storage& storage_;
  const runtime::GraphRegistry& graphs_;
  bus::EventBus& bus_;
  RunExecutor& executor_;
  runtime::HttpTransport* webhooks_;
  ExecutorPicker pick_;
  RunManagerOptions options_;
  Admission admission_;
  struct Tiers {
    std::vector<config::TierLimits> tiers;
    std::string default_tier;
  };
  Snapshot<const Tiers> tiers_;  // starts as options_.limits'; SetTiers replaces it

  mutable std::mutex mutex_;
  std::map<std::string, Slot> slots_;                         // thread_id -> active runs
  std::map<std::string, std::shared_ptr<RunHandle>> active_;  // run_id -> handle
  bool stopping_ = false;
  std::size_t live_coroutines_ = 0;
  std::condition_variable idle_;
  std::string self_base_url_;

  // Cluster mode. Guarded by mutex_: thread_wakeups_, keeper_running_. control_listener_ is set
  // by StartCluster and reset by Stop; keeper_stop_ is thread-safe by itself.
  std::map<std::string, std::shared_ptr<OneShot>> thread_wakeups_;
  // "<tier> <tenant>" -> threads whose run waits for a permit of it (one entry per waiter).
  // A "permit" message wakes those threads' wakeups. Guarded by mutex_.
  std::map<std::string, std::multiset<std::string>> permit_waiters_;
  bool keeper_running_ = false;
  std::unique_ptr<bus::PubSubListener> control_listener_;
  std::shared_ptr<OneShot> keeper_stop_ = std::make_shared<OneShot>();
  // When the keeper last renewed every lease it asked for (or had none to renew), steady ns.
  std::atomic<std::int64_t> keeper_renewed_ns_{0};
};

}  // namespace agentd::scheduler
