#include "scheduler/admission.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include <fmt/core.h>

#include "scheduler/refusal.hpp"

namespace agentd::scheduler {

namespace {

constexpr std::size_t kUnlimited = std::numeric_limits<std::size_t>::max();

std::size_t Over(std::size_t count, std::size_t free) { return count > free ? count - free : 0; }

}  // namespace

std::size_t Admission::FreeSlotsLocked() const {
  if (options_.max_active == 0) return kUnlimited;
  return options_.max_active > executing_ ? options_.max_active - executing_ : 0;
}

bool Admission::SaturatedLocked() const {
  if (closed_) return true;
  return options_.max_queued > 0 && Over(waiting_, FreeSlotsLocked()) >= options_.max_queued;
}

std::chrono::seconds Admission::RetryAfterLocked() const {
  // The time the queue ahead needs to drain at the current pace, within [1 s, 60 s].
  double slots = options_.max_active == 0 ? 1.0 : static_cast<double>(options_.max_active);
  double seconds = std::ceil(static_cast<double>(queued_ + 1) * avg_run_ms_ / slots / 1000.0);
  return std::chrono::seconds(static_cast<std::int64_t>(std::clamp(seconds, 1.0, 60.0)));
}

Result<Ticket> Admission::Admit(std::string tenant, TierQuota quota, bool force) {
  // Read outside the lock: a cached number, but a /proc read when the cache is old.
  const std::uint64_t resident =
      !force && options_.memory_refuse_bytes > 0 && options_.resident_bytes ? options_.resident_bytes() : 0;
  std::lock_guard lock(mu_);
  if (closed_ && !force) {
    return RefusalError(Errc::kUnavailable,
                        Refusal{"shutting_down", "", "the server is shutting down",
                                std::chrono::seconds(5)});
  }
  if (resident >= options_.memory_refuse_bytes && resident > 0) {
    // Runs already accepted keep going and give memory back as they end: retry in a few
    // seconds, not at once.
    constexpr std::uint64_t kMiB = 1 << 20;
    return RefusalError(
        Errc::kUnavailable,
        Refusal{"server_saturated", "memory_limit_bytes",
                fmt::format("the server is near its memory limit: {} MiB resident, new runs are "
                            "refused from {} MiB (memory_admission_percent of memory_limit_bytes "
                            "{} MiB)",
                            resident / kMiB, options_.memory_refuse_bytes / kMiB,
                            options_.memory_limit_bytes / kMiB),
                std::max(RetryAfterLocked(), std::chrono::seconds(5))});
  }
  TenantState& t = tenants_[tenant];
  if (!force) {
    const std::size_t free_global = FreeSlotsLocked();
    if (quota.max_queued > 0) {
      std::size_t free_tenant = kUnlimited;
      if (quota.max_concurrent > 0) {
        free_tenant = quota.max_concurrent > t.executing ? quota.max_concurrent - t.executing : 0;
      }
      if (Over(t.waiting, std::min(free_tenant, free_global)) >= quota.max_queued) {
        const bool own_concurrency = free_tenant == 0;
        std::string limit = own_concurrency ? "max_concurrent_runs" : "max_queued_runs";
        std::string message = fmt::format(
            "tenant limit reached: {} run(s) executing (max_concurrent_runs {}), {} waiting "
            "(max_queued_runs {}) on tier \"{}\"",
            t.executing, quota.max_concurrent, t.waiting, quota.max_queued, quota.tier);
        if (t.executing == 0 && t.waiting == 0) tenants_.erase(tenant);
        return RefusalError(Errc::kResourceExhausted,
                            Refusal{"tenant_limit", std::move(limit), std::move(message),
                                    RetryAfterLocked()});
      }
    }
    if (options_.max_queued > 0 && Over(waiting_, free_global) >= options_.max_queued) {
      std::string message = fmt::format(
          "the server is saturated: {} run(s) executing (max_active_runs {}), {} waiting "
          "(max_queued_runs {})",
          executing_, options_.max_active, waiting_, options_.max_queued);
      if (t.executing == 0 && t.waiting == 0) tenants_.erase(tenant);
      return RefusalError(Errc::kUnavailable,
                          Refusal{"server_saturated", "max_queued_runs", std::move(message),
                                  RetryAfterLocked()});
    }
  }
  ++t.waiting;
  ++waiting_;
  auto ticket = std::make_shared<AdmissionTicket>();
  ticket->tenant_ = std::move(tenant);
  ticket->quota_ = std::move(quota);
  return ticket;
}

bool Admission::EligibleLocked(const std::string& tenant, const TierQuota& quota) const {
  if (quota.max_concurrent == 0) return true;
  auto it = tenants_.find(tenant);
  return it == tenants_.end() || it->second.executing < quota.max_concurrent;
}

std::vector<Ticket> Admission::DispatchLocked() {
  std::vector<Ticket> granted;
  while (!closed_ && queued_ > 0 && FreeSlotsLocked() > 0) {
    Ticket next;
    for (auto& [priority, level] : levels_) {
      for (auto it = level.turn.begin(); it != level.turn.end(); ++it) {
        auto& queue = level.queues[*it];
        // Invariant: a tenant is in `turn` exactly while its queue is non-empty.
        if (!EligibleLocked(*it, queue.front()->quota_)) continue;
        next = queue.front();
        queue.pop_front();
        std::string tenant = *it;
        level.turn.erase(it);
        if (queue.empty()) {
          level.queues.erase(tenant);
        } else {
          level.turn.push_back(std::move(tenant));  // its next run waits for the others' turns
        }
        break;
      }
      if (next) break;
    }
    if (!next) break;  // every waiting tenant is at its own concurrency limit
    next->state_ = AdmissionTicket::State::kExecuting;
    next->started_at_ = std::chrono::steady_clock::now();
    --queued_;
    --waiting_;
    ++executing_;
    TenantState& t = tenants_[next->tenant_];
    --t.waiting;
    ++t.executing;
    granted.push_back(std::move(next));
  }
  std::erase_if(levels_, [](const auto& kv) { return kv.second.turn.empty(); });
  return granted;
}

bool Admission::Request(const Ticket& ticket) {
  std::vector<Ticket> wake;
  bool executing = false;
  {
    std::lock_guard lock(mu_);
    if (ticket->state_ != AdmissionTicket::State::kWaiting) {
      return ticket->state_ == AdmissionTicket::State::kExecuting;
    }
    ticket->queued_at_ = std::chrono::steady_clock::now();
    if (closed_) {
      ticket->state_ = AdmissionTicket::State::kClosed;
      wake.push_back(ticket);
    } else {
      ticket->state_ = AdmissionTicket::State::kQueued;
      ++queued_;
      Level& level = levels_[ticket->quota_.priority];
      auto& queue = level.queues[ticket->tenant_];
      if (queue.empty()) level.turn.push_back(ticket->tenant_);
      queue.push_back(ticket);
      wake = DispatchLocked();
    }
    executing = ticket->state_ == AdmissionTicket::State::kExecuting;
  }
  for (auto& t : wake) t->woken_.Set();
  return executing;
}

void Admission::RemoveQueuedLocked(const Ticket& ticket) {
  auto level = levels_.find(ticket->quota_.priority);
  if (level == levels_.end()) return;
  auto queue = level->second.queues.find(ticket->tenant_);
  if (queue == level->second.queues.end()) return;
  std::erase(queue->second, ticket);
  --queued_;
  if (queue->second.empty()) {
    level->second.queues.erase(queue);
    std::erase(level->second.turn, ticket->tenant_);
    if (level->second.turn.empty()) levels_.erase(level);
  }
}

bool Admission::Withdraw(const Ticket& ticket) {
  std::lock_guard lock(mu_);
  using S = AdmissionTicket::State;
  switch (ticket->state_) {
    case S::kExecuting: return false;
    case S::kQueued: RemoveQueuedLocked(ticket); [[fallthrough]];
    case S::kWaiting:
    case S::kClosed: {
      --waiting_;
      auto it = tenants_.find(ticket->tenant_);
      if (it != tenants_.end()) {
        --it->second.waiting;
        if (it->second.executing == 0 && it->second.waiting == 0) tenants_.erase(it);
      }
      ticket->state_ = S::kWithdrawn;
      return true;
    }
    case S::kWithdrawn:
    case S::kReleased: return true;
  }
  return true;
}

void Admission::Release(const Ticket& ticket) {
  if (Withdraw(ticket)) {
    std::lock_guard lock(mu_);
    ticket->state_ = AdmissionTicket::State::kReleased;
    return;
  }
  std::vector<Ticket> wake;
  {
    std::lock_guard lock(mu_);
    if (ticket->state_ != AdmissionTicket::State::kExecuting) return;
    ticket->state_ = AdmissionTicket::State::kReleased;
    --executing_;
    auto it = tenants_.find(ticket->tenant_);
    if (it != tenants_.end()) {
      --it->second.executing;
      if (it->second.executing == 0 && it->second.waiting == 0) tenants_.erase(it);
    }
    double ran_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                              ticket->started_at_)
                        .count();
    avg_run_ms_ = 0.9 * avg_run_ms_ + 0.1 * ran_ms;
    wake = DispatchLocked();
  }
  for (auto& t : wake) t->woken_.Set();
}

void Admission::Close() {
  std::vector<Ticket> wake;
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    for (auto& [priority, level] : levels_) {
      for (auto& [tenant, queue] : level.queues) {
        for (auto& t : queue) {
          t->state_ = AdmissionTicket::State::kClosed;
          wake.push_back(t);
        }
      }
    }
    levels_.clear();
    queued_ = 0;
  }
  for (auto& t : wake) t->woken_.Set();
}

AdmissionTicket::State Admission::state(const Ticket& ticket) const {
  std::lock_guard lock(mu_);
  return ticket->state_;
}

std::optional<QueuePosition> Admission::Position(const Ticket& ticket) const {
  std::lock_guard lock(mu_);
  if (ticket->state_ != AdmissionTicket::State::kQueued) return std::nullopt;
  std::size_t position = 0;
  for (const auto& [priority, level] : levels_) {
    if (priority > ticket->quota_.priority) {
      for (const auto& [tenant, queue] : level.queues) position += queue.size();
      continue;
    }
    if (priority < ticket->quota_.priority) break;
    auto own = level.queues.find(ticket->tenant_);
    if (own == level.queues.end()) return std::nullopt;
    auto at = std::find(own->second.begin(), own->second.end(), ticket);
    const auto index = static_cast<std::size_t>(at - own->second.begin());
    // Round robin: a tenant ahead of ours in the turn order is served index+1 times before
    // our ticket, one behind it index times (each bounded by what it has queued).
    bool ahead = true;
    for (const auto& tenant : level.turn) {
      if (tenant == ticket->tenant_) {
        ahead = false;
        continue;
      }
      std::size_t size = level.queues.at(tenant).size();
      position += std::min(size, index + (ahead ? 1 : 0));
    }
    position += index + 1;
  }
  double slots = options_.max_active == 0 ? 1.0 : static_cast<double>(options_.max_active);
  double rounds = std::ceil(static_cast<double>(position) / slots);
  return QueuePosition{position, static_cast<std::int64_t>(rounds * avg_run_ms_)};
}

AdmissionStats Admission::Stats() const {
  std::lock_guard lock(mu_);
  return AdmissionStats{executing_, queued_, waiting_, SaturatedLocked()};
}

std::chrono::steady_clock::duration Admission::QueueWait(const Ticket& ticket) const {
  std::lock_guard lock(mu_);
  if (ticket->started_at_ == std::chrono::steady_clock::time_point{}) {
    return std::chrono::steady_clock::now() - ticket->queued_at_;
  }
  return ticket->started_at_ - ticket->queued_at_;
}

std::chrono::seconds Admission::RetryAfter() const {
  std::lock_guard lock(mu_);
  return RetryAfterLocked();
}

}  // namespace agentd::scheduler
