#pragma once
// Admission: the global budget of EXECUTING runs and the fair, bounded queue of runs waiting
// for one (design.md main path step 2). Separate from per-thread serialization: a run first
// waits for its thread's turn (RunManager slots), THEN asks Admission for an execution slot,
// so a run parked behind its thread never holds a global slot.
//
// Life of a ticket: Admit() at run creation (the fast 429/503 decision; the run now counts as
// waiting), Request() when the run's thread turn came (granted at once, or queued), then
// Release() when the run ends (executing or not). Withdraw() takes a queued ticket back (queue
// timeout, cancel). Close() (drain) grants nothing more and wakes every queued ticket.
//
// Fairness: waiting tickets sit in one FIFO per (priority, tenant). A free slot goes to the
// highest priority level that has an eligible tenant (under its max_concurrent_runs); within
// a level tenants take turns (round robin), so a tenant's burst of 1,000 runs delays another
// tenant's run by at most one run per other busy tenant, not by the burst.
//
// Refusal (Admit): a run that would have to wait is refused when its tenant already has
// max_queued_runs waiting (429 tenant_limit; the limit named is max_concurrent_runs when the
// tenant's own concurrency is what makes its runs wait, else max_queued_runs), or when the
// server has max_queued_runs waiting (503 server_saturated). "Would have to wait" counts free
// slots: waiting runs that free slots will absorb are not queued. Runs behind their own thread
// count as waiting too (they hold memory and will need a slot). 0 means unlimited everywhere.
// With a memory budget, a run is also refused (503 server_saturated, limit memory_limit_bytes)
// while the process's resident memory is at or above it.
//
// Thread safety: every method may be called from any thread; one mutex, never held while
// waking waiters. Test: tests/unit/scheduler/admission_test.cpp.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "scheduler/one_shot.hpp"

namespace agentd::scheduler {

struct AdmissionOptions {
  std::size_t max_active = 0;  // runs executing at once; 0 = unlimited
  std::size_t max_queued = 0;  // runs waiting at once; 0 = unlimited
  // Memory-aware admission: while resident_bytes() is at or above memory_refuse_bytes, new runs
  // are refused (503 server_saturated, limit memory_limit_bytes) before the process nears its
  // memory limit, instead of being OOM-killed there. 0 or no reader = off. memory_limit_bytes
  // is what the message names.
  std::uint64_t memory_refuse_bytes = 0;
  std::uint64_t memory_limit_bytes = 0;
  std::function<std::uint64_t()> resident_bytes;
};

// The limits of the tier a run's tenant is on (config::TierLimits without the rate limits).
struct TierQuota {
  std::string tier;
  std::size_t max_concurrent = 0;  // 0 = unlimited
  std::size_t max_queued = 0;      // 0 = unlimited
  int priority = 0;                // higher first
};

class AdmissionTicket {
 public:
  enum class State { kWaiting, kQueued, kExecuting, kWithdrawn, kClosed, kReleased };
  const std::string& tenant() const { return tenant_; }
  const TierQuota& quota() const { return quota_; }
  // Set when the ticket leaves the queue: granted, or the queue was closed.
  OneShot& woken() { return woken_; }

 private:
  friend class Admission;
  std::string tenant_;
  TierQuota quota_;
  State state_ = State::kWaiting;  // guarded by Admission::mu_
  std::chrono::steady_clock::time_point queued_at_{};
  std::chrono::steady_clock::time_point started_at_{};
  OneShot woken_;
};
using Ticket = std::shared_ptr<AdmissionTicket>;

struct QueuePosition {
  std::size_t position = 0;  // 1 = next to get a slot
  std::int64_t estimated_wait_ms = 0;
};

struct AdmissionStats {
  std::size_t executing = 0;
  std::size_t queued = 0;   // waiting for a slot (in the fair queue)
  std::size_t waiting = 0;  // admitted, not executing (queued + behind their thread + starting)
  bool saturated = false;   // a new run would be refused with 503 now
};

class Admission {
 public:
  explicit Admission(AdmissionOptions options) : options_(options) {}

  // Registers a new run. Errors: RefusalError kResourceExhausted (tenant_limit) or
  // kUnavailable (server_saturated, shutting_down). `force` skips the limits (crash recovery:
  // a run that was accepted once is never refused again).
  Result<Ticket> Admit(std::string tenant, TierQuota quota, bool force = false);
  // Asks for an execution slot. True when granted at once; else the ticket is queued and its
  // woken() is set when it is granted (state kExecuting) or the queue closes (kClosed).
  bool Request(const Ticket& ticket);
  // Takes back a queued (or never requested) ticket; true when it was withdrawn, false when it
  // was granted meanwhile (the caller now owns a slot and must Release it).
  bool Withdraw(const Ticket& ticket);
  // Ends the ticket, in any state; frees its slot and hands it on. Idempotent.
  void Release(const Ticket& ticket);
  // Refuses new runs and grants nothing more; queued tickets wake up as kClosed.
  void Close();

  AdmissionTicket::State state(const Ticket& ticket) const;
  // Where a queued ticket stands, in dispatch order; nullopt unless queued.
  std::optional<QueuePosition> Position(const Ticket& ticket) const;
  AdmissionStats Stats() const;
  // How long it has waited when it was granted (for the wait-time histogram).
  std::chrono::steady_clock::duration QueueWait(const Ticket& ticket) const;
  // Suggested Retry-After for a refusal now.
  std::chrono::seconds RetryAfter() const;

 private:
  struct TenantState {
    std::size_t executing = 0;
    std::size_t waiting = 0;
  };
  // One priority level: each tenant's FIFO, and the round-robin order of tenants with work.
  struct Level {
    std::map<std::string, std::deque<Ticket>> queues;
    std::deque<std::string> turn;
  };

  std::size_t FreeSlotsLocked() const;
  // Grants free slots fairly; returns the tickets to wake.
  std::vector<Ticket> DispatchLocked();
  bool EligibleLocked(const std::string& tenant, const TierQuota& quota) const;
  void RemoveQueuedLocked(const Ticket& ticket);
  bool SaturatedLocked() const;
  std::chrono::seconds RetryAfterLocked() const;

  const AdmissionOptions options_;
  mutable std::mutex mu_;
  std::map<int, Level, std::greater<>> levels_;  // highest priority first
  std::map<std::string, TenantState> tenants_;
  std::size_t executing_ = 0;
  std::size_t waiting_ = 0;
  std::size_t queued_ = 0;
  bool closed_ = false;
  double avg_run_ms_ = 1000;  // moving average of execution time, for estimates
};

}  // namespace agentd::scheduler
