#pragma once
// RunPermits: a tier's max_concurrent_runs counted across every instance of a cluster. A run
// whose tier has max_concurrent_runs > 0 holds one permit of its (tier, tenant) while it
// executes; at most `limit` permits of one (tier, tenant) are held at once, whichever
// instances hold them. Cluster mode only (ClusterOptions::permits); an embedded process counts
// with Admission alone.
//
// Permits are leases: a holder that stops renewing (killed, paused, cut off) loses its permit
// when the lease runs out, so a dead instance never keeps a tenant's quota. The scheduler
// renews the permits of its runs with their run leases (every lease/3) and releases one
// exactly once when its run ends here (finished, abandoned, lost).
//
// Holders: a string unique per run *attempt* ("<run_id>@<instance_id>"), so an instance that
// lost a run and releases late never frees the permit of the instance that adopted it.
//
// Failure: kUnavailable means the backend could not answer (down, timeout, error reply); the
// caller runs the run without a permit, under its per-instance limits only. Implementations
// log that once per outage and meter it. Renew and Release never fail visibly: a permit they
// could not touch expires with its lease.
//
// Thread safety: every method may be called from any thread, concurrently. Implementation:
// limits/redis/redis_run_permits.hpp (Redis ZSETs and Lua); tests use it on a real Redis.

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

namespace agentd::scheduler {

class RunPermits {
 public:
  enum class Answer { kGranted, kFull, kUnavailable };

  struct Held {
    std::string tenant;
    std::string tier;
    std::string holder;
  };

  virtual ~RunPermits() = default;

  // Takes one of `limit` permits of (tier, tenant) for `holder`, leased for `lease`. kGranted
  // when one was free, or `holder` already holds one (idempotent: its lease is extended);
  // kFull when `limit` others hold one; kUnavailable when the backend did not answer.
  virtual boost::asio::awaitable<Answer> Acquire(std::string tenant, std::string tier,
                                                 std::string holder, std::size_t limit,
                                                 std::chrono::milliseconds lease) = 0;
  // Extends the leases of permits still held; a permit that already expired is not taken
  // again (another run may have it now).
  virtual boost::asio::awaitable<void> Renew(std::vector<Held> held,
                                             std::chrono::milliseconds lease) = 0;
  // Gives the permit back; completes once the backend applied it (or gave up), so a wakeup
  // sent after it finds the permit free.
  virtual boost::asio::awaitable<void> Release(std::string tenant, std::string tier,
                                               std::string holder) = 0;
};

}  // namespace agentd::scheduler
