// Cluster-wide tier quotas (ClusterOptions::permits, run_permits.hpp): a run whose tier has
// max_concurrent_runs holds a permit of its (tier, tenant) while it executes, so N instances
// together allow the quota once.
//
// Where the wait sits: after the thread's turn (WaitTurn), before the local execution slot
// (AcquireSlot). A run behind its own thread holds no permit; a run holding a permit asks
// for a local slot at once. While it waits it holds an Admission ticket in its waiting state,
// so it counts as queued exactly as before.
//
// Wakeups: a waiter parks on its thread's wakeup (the one Deliver and DropLost fire, so a
// cancel or a lost lease ends the wait at once) and registers its thread under
// "<tier> <tenant>" in permit_waiters_. Whoever releases a permit publishes
// "permit <tier> <tenant>" once Redis applied the release; every instance wakes that
// tenant's waiters, which ask again. turn_recheck is the safety net for a lost message.
#include <algorithm>
#include <exception>
#include <string>
#include <vector>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include "scheduler/run_manager.hpp"
#include "observe/log.hpp"

namespace agentd::scheduler {

namespace asio = boost::asio;

namespace {

std::string PermitKey(std::string_view tier, std::string_view tenant) {
  return fmt::format("{} {}", tier, tenant);
}

}  // namespace

asio::awaitable<RunManager::PermitResult> RunManager::WaitPermit(
    RunHandle& h, std::chrono::steady_clock::time_point queued_since) {
  const ClusterOptions& cluster = *options_.cluster;
  if (cluster.permits == nullptr || !h.ticket_ || h.ticket_->quota().max_concurrent == 0) {
    co_return PermitResult::kGranted;
  }
  const std::size_t limit = h.ticket_->quota().max_concurrent;
  // Per attempt: a late release by an instance that lost the run never frees its adopter's.
  const std::string holder = h.run_id_ + "@" + cluster.instance_id;
  const std::string key = PermitKey(h.tier_, h.tenant_);
  {
    std::lock_guard lock(mutex_);
    permit_waiters_[key].insert(h.thread_id_);
  }
  const auto timeout = options_.limits.queue_timeout;
  const auto deadline = queued_since + timeout;
  PermitResult result = PermitResult::kGranted;
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (h.abandon_ || h.cancel_) {
        result = PermitResult::kCancelled;
        break;
      }
    }
    // Taken before asking, so a release between the answer and the wait is not missed.
    auto wakeup = ThreadWakeup(h.thread_id_);
    auto answer = co_await cluster.permits->Acquire(h.tenant_, h.tier_, holder, limit, cluster.lease);
    if (answer != RunPermits::Answer::kFull) {
      ReleaseThreadWakeup(h.thread_id_, std::move(wakeup));
      if (answer == RunPermits::Answer::kGranted) {
        std::lock_guard lock(mutex_);
        h.permit_held_ = true;
        h.permit_holder_ = holder;
      }
      // kUnavailable: the run goes on under per-instance limits (the backend logs and meters).
      break;
    }
    auto step = std::chrono::steady_clock::duration(cluster.turn_recheck);
    if (timeout.count() > 0) {
      auto left = deadline - std::chrono::steady_clock::now();
      if (left <= std::chrono::steady_clock::duration::zero()) {
        ReleaseThreadWakeup(h.thread_id_, std::move(wakeup));
        result = PermitResult::kTimedOut;
        CountRejection("queue_timeout");
        break;
      }
      step = std::min(step, left);
    }
    if (!co_await wakeup->WaitFor(step)) ReleaseThreadWakeup(h.thread_id_, std::move(wakeup));
  }
  {
    std::lock_guard lock(mutex_);
    auto it = permit_waiters_.find(key);
    if (it != permit_waiters_.end()) {
      if (auto one = it->second.find(h.thread_id_); one != it->second.end()) it->second.erase(one);
      if (it->second.empty()) permit_waiters_.erase(it);
    }
  }
  co_return result;
}

void RunManager::ReleasePermit(const std::shared_ptr<RunHandle>& h) {
  std::string holder;
  {
    std::lock_guard lock(mutex_);
    if (!h->permit_held_) return;
    h->permit_held_ = false;
    holder = std::move(h->permit_holder_);
    ++live_coroutines_;  // Stop() waits for the release like for a run
  }
  RunPermits* permits = options_.cluster->permits;
  asio::co_spawn(
      pick_(),
      [this, permits, tenant = h->tenant_, tier = h->tier_,
       holder = std::move(holder)]() -> asio::awaitable<void> {
        // Waiters are told only once the permit is free in Redis, or they would find it taken.
        co_await permits->Release(tenant, tier, holder);
        WakePermitWaiters(tier, tenant);
        Publish(fmt::format("permit {} {}", tier, tenant));
      },
      [this, run_id = h->run_id_](std::exception_ptr e) {
        if (e) {
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& ex) {
            spdlog::error("{}: releasing its permit threw: {}", observe::RunLog{run_id}, ex.what());
          }
        }
        std::lock_guard lock(mutex_);
        if (--live_coroutines_ == 0) idle_.notify_all();
      });
}

void RunManager::WakePermitWaiters(std::string_view tier, std::string_view tenant) {
  std::vector<std::string> threads;
  {
    std::lock_guard lock(mutex_);
    auto it = permit_waiters_.find(PermitKey(tier, tenant));
    if (it == permit_waiters_.end()) return;
    for (const auto& thread_id : it->second) {
      if (threads.empty() || threads.back() != thread_id) threads.push_back(thread_id);
    }
  }
  for (const auto& thread_id : threads) WakeThread(thread_id);
}

asio::awaitable<void> RunManager::RenewPermits() {
  const ClusterOptions& cluster = *options_.cluster;
  if (cluster.permits == nullptr) co_return;
  std::vector<RunPermits::Held> held;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, h] : active_) {
      if (h->permit_held_) held.push_back({h->tenant_, h->tier_, h->permit_holder_});
    }
  }
  if (held.empty()) co_return;
  co_await cluster.permits->Renew(std::move(held), cluster.lease);
}

}  // namespace agentd::scheduler
