// Cluster mode of RunManager (ClusterOptions in run_manager.hpp): the database orders runs
// across instances, leases say who executes what, pub/sub makes cancels and "thread free"
// prompt. Embedded mode never reaches this file's code paths.
//
// Who writes what:
// - Create (any instance): RunLeases::Enqueue decides the strategy under the thread's row lock
//   and records the run owned by this instance; displaced runs get cancel_action.
// - The run's coroutine (its owner): WaitTurn claims the thread's turn (a run becomes
//   `running` only through ClaimTurn), then executes; Finish writes the final status only
//   while it still owns the run (RunLeases::Finish is the fence), then publishes "free".
// - The lease keeper (each instance, every lease/3): renews this instance's leases, drops runs
//   it lost, delivers cancels it missed, and adopts runs whose owner stopped renewing.
#include <charconv>
#include <set>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include "scheduler/run_manager.hpp"
#include "observe/log.hpp"

namespace agentd::scheduler {

namespace asio = boost::asio;

namespace {

std::string_view ActionName(CancelAction action) {
  return action == CancelAction::kRollback ? "rollback" : "interrupt";
}

std::optional<CancelAction> ParseAction(std::string_view text) {
  if (text == "interrupt") return CancelAction::kInterrupt;
  if (text == "rollback") return CancelAction::kRollback;
  return std::nullopt;
}

}  // namespace

asio::awaitable<Result<model::Run>> RunManager::EnqueueClustered(RunHandle& h,
                                                                 MultitaskStrategy strategy) {
  const ClusterOptions& cluster = *options_.cluster;
  const auto asked_at = std::chrono::steady_clock::now();
  auto enqueued = co_await cluster.leases->Enqueue(h.run_, std::string(ToString(strategy)),
                                                   cluster.instance_id, cluster.lease);
  if (!enqueued) {
    if (enqueued.error().code == Errc::kUnprocessable) {
      co_return MakeError(Errc::kUnprocessable, std::string(kThreadBusyText));
    }
    co_return enqueued.error();
  }
  ExtendLease(h, asked_at);
  const CancelAction action =
      strategy == MultitaskStrategy::kRollback ? CancelAction::kRollback : CancelAction::kInterrupt;
  for (const auto& run_id : enqueued->cancelled_run_ids) {
    // Ours: stop it now. Another instance's: tell it (its renewal finds the mark otherwise).
    if (!RequestCancel(run_id, action)) {
      Publish(fmt::format("cancel {} {}", run_id, ActionName(action)));
    }
  }
  co_return std::move(enqueued->run);
}

std::shared_ptr<OneShot> RunManager::ThreadWakeup(const std::string& thread_id) {
  std::lock_guard lock(mutex_);
  auto& slot = thread_wakeups_[thread_id];
  if (!slot) slot = std::make_shared<OneShot>();
  return slot;
}

void RunManager::ReleaseThreadWakeup(const std::string& thread_id,
                                     std::shared_ptr<OneShot> wakeup) {
  std::lock_guard lock(mutex_);
  auto it = thread_wakeups_.find(thread_id);
  // Two owners (the map and `wakeup`): no other waiter took it since; under the mutex nobody
  // can take it meanwhile.
  if (it != thread_wakeups_.end() && it->second == wakeup && wakeup.use_count() == 2) {
    thread_wakeups_.erase(it);
  }
}

void RunManager::WakeThread(const std::string& thread_id) {
  std::shared_ptr<OneShot> fired;
  {
    std::lock_guard lock(mutex_);
    auto it = thread_wakeups_.find(thread_id);
    if (it == thread_wakeups_.end()) return;
    // Waiters hold the OneShot they took before asking the database, so a wakeup between
    // their question and their wait is never lost; later waiters take a fresh one.
    fired = std::move(it->second);
    thread_wakeups_.erase(it);
  }
  fired->Set();
}

void RunManager::Publish(std::string payload) {
  const ClusterOptions& cluster = *options_.cluster;
  bus::PubSub* pubsub = cluster.pubsub;
  asio::co_spawn(
      pick_(),
      [pubsub, channel = cluster.channel, payload = std::move(payload)]() -> asio::awaitable<void> {
        // At most once by design: whatever the message says is already in the database, and
        // the lease keeper or the turn recheck finds it there if the message is lost.
        Status sent = co_await pubsub->Publish(channel, payload);
        if (!sent) spdlog::debug("cluster: publish '{}' failed: {}", payload, sent.error().message);
      },
      asio::detached);
}

void RunManager::OnControlMessage(std::string_view payload) {
  auto space = payload.find(' ');
  if (space == std::string_view::npos) return;
  std::string_view verb = payload.substr(0, space);
  std::string_view rest = payload.substr(space + 1);
  if (verb == "free") {
    WakeThread(std::string(rest));
  } else if (verb == "cancel") {
    auto gap = rest.find(' ');
    if (gap == std::string_view::npos) return;
    auto action = ParseAction(rest.substr(gap + 1));
    if (!action) return;
    RequestCancel(std::string(rest.substr(0, gap)), *action);
  } else if (verb == "permit") {
    // "permit <tier> <tenant>": the tenant may contain spaces, a tier name does not.
    auto gap = rest.find(' ');
    if (gap == std::string_view::npos) return;
    WakePermitWaiters(rest.substr(0, gap), rest.substr(gap + 1));
  }
}

asio::awaitable<RunManager::TurnResult> RunManager::WaitTurn(RunHandle& h) {
  const ClusterOptions& cluster = *options_.cluster;
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (h.abandon_) co_return TurnResult::kStopping;
      if (h.cancel_) co_return TurnResult::kCancelled;
    }
    auto wakeup = ThreadWakeup(h.thread_id_);
    auto claim = co_await cluster.leases->ClaimTurn(h.run_id_, cluster.instance_id);
    std::optional<TurnResult> result;
    if (claim) {
      switch (claim->kind) {
        case storage::TurnClaim::Kind::kGranted:
          result = TurnResult::kGranted;
          break;
        case storage::TurnClaim::Kind::kLost:
          result = TurnResult::kLost;
          break;
        case storage::TurnClaim::Kind::kCancelled: {
          auto action = ParseAction(claim->cancel_action).value_or(CancelAction::kInterrupt);
          std::lock_guard lock(mutex_);
          if (!h.cancel_) h.cancel_ = action;
          result = TurnResult::kCancelled;
          break;
        }
        case storage::TurnClaim::Kind::kNotYet:
          break;
      }
    } else {
      // The database is unreachable: keep the run and ask again; /ready reports storage down.
      spdlog::warn("{}: claiming its turn failed: {}", observe::RunLog{h.run_id_}, claim.error().message);
    }
    if (!result) {
      if (co_await wakeup->WaitFor(cluster.turn_recheck)) continue;  // fired: the map let go
    }
    ReleaseThreadWakeup(h.thread_id_, std::move(wakeup));
    if (result) co_return *result;
  }
}

void RunManager::DropLost(const std::shared_ptr<RunHandle>& h) {
  {
    std::lock_guard lock(mutex_);
    if (h->state_ == RunHandle::State::kDone || h->abandon_) return;
    h->abandon_ = true;
  }
  // Its lease is over for good: StillLeased answers false from now on without the mutex, so
  // the attempt stops writing events even while its last lease would not have lapsed yet (the
  // loss came from a renewal), and events of a resumed attempt in this process, which shares
  // the run's event log, are not mixed with this one's.
  h->lease_deadline_ns_.store(std::numeric_limits<std::int64_t>::min(), std::memory_order_relaxed);
  spdlog::warn("{}: this instance no longer holds its lease; it stops here", observe::RunLog{h->run_id_});
  if (options_.metrics != nullptr) {
    options_.metrics
        ->GetCounter("agentd_cluster_runs_lost_total",
                     "Runs this instance stopped because another instance took them over")
        .Inc();
  }
  // Its permit is this attempt's (holder run@instance): the adopter takes its own.
  ReleasePermit(h);
  h->cancelled_.Set();
  h->start_.Set();
  if (h->ticket_) h->ticket_->woken().Set();
  WakeThread(h->thread_id_);
  if (h->executor_) {
    asio::post(h->executor_, [h] {
      if (h->executing_) h->signal_.emit(asio::cancellation_type::terminal);
    });
  }
}

namespace {
std::int64_t SteadyNs(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}
}  // namespace

void RunManager::ExtendLease(RunHandle& h, std::chrono::steady_clock::time_point asked_at) const {
  const std::int64_t deadline = SteadyNs(asked_at + options_.cluster->lease);
  constexpr std::int64_t kNeverLapses = std::numeric_limits<std::int64_t>::max();  // no lease yet
  constexpr std::int64_t kDropped = std::numeric_limits<std::int64_t>::min();      // DropLost
  std::int64_t current = h.lease_deadline_ns_.load(std::memory_order_relaxed);
  // The first lease replaces the initial value; later ones only extend it; a dropped attempt
  // stays dropped. (Comparing against a local 0 in place of kNeverLapses made the first
  // exchange fail and left every run "never lapses": StillLeased's time check never fired.)
  while (current != kDropped && (current == kNeverLapses || deadline > current)) {
    if (h.lease_deadline_ns_.compare_exchange_weak(current, deadline, std::memory_order_relaxed)) {
      return;
    }
  }
}

bool RunManager::StillLeased(RunHandle& h) {
  if (!options_.cluster) return true;
  if (SteadyNs(std::chrono::steady_clock::now()) <= h.lease_deadline_ns_.load(std::memory_order_relaxed)) {
    return true;
  }
  // Paused or cut off past the lease: another instance may be running this run by now. Only
  // this attempt is dropped: the run's id may belong to a later attempt in this process
  // already (this instance adopted it back).
  if (auto shared = Find(h.run_id_); shared && shared.get() == &h) DropLost(shared);
  return false;
}

bool RunManager::LeasesCurrent(std::string* why) const {
  if (!options_.cluster) return true;
  const std::int64_t renewed = keeper_renewed_ns_.load(std::memory_order_relaxed);
  if (renewed == 0) return true;  // the keeper has not run yet
  const std::int64_t age_ms = (SteadyNs(std::chrono::steady_clock::now()) - renewed) / 1'000'000;
  if (age_ms <= options_.cluster->lease.count()) return true;
  if (why != nullptr) {
    *why = fmt::format("run leases not renewed for {} ms (lease {} ms): other instances are "
                       "taking this instance's runs over",
                       age_ms, options_.cluster->lease.count());
  }
  return false;
}

asio::awaitable<void> RunManager::RenewLeases() {
  const ClusterOptions& cluster = *options_.cluster;
  std::vector<std::shared_ptr<RunHandle>> held;
  std::vector<std::string> ids;
  {
    std::lock_guard lock(mutex_);
    for (auto& [id, h] : active_) {
      // kAdmitted: not recorded yet (Enqueue gives it its first lease).
      if (h->state_ == RunHandle::State::kAdmitted || h->state_ == RunHandle::State::kDone) continue;
      held.push_back(h);
      ids.push_back(id);
    }
  }
  const auto asked_at = std::chrono::steady_clock::now();
  if (ids.empty()) {
    keeper_renewed_ns_.store(SteadyNs(asked_at), std::memory_order_relaxed);
    co_return;
  }
  auto renewed = co_await cluster.leases->Renew(cluster.instance_id, ids, cluster.lease);
  if (!renewed) {
    spdlog::warn("cluster: renewing {} lease(s) failed: {}", ids.size(), renewed.error().message);
    if (options_.metrics != nullptr) {
      options_.metrics
          ->GetCounter("agentd_cluster_lease_renew_errors_total", "Failed lease renewals")
          .Inc();
    }
    co_return;
  }
  keeper_renewed_ns_.store(SteadyNs(asked_at), std::memory_order_relaxed);
  std::map<std::string, std::string> still_held;
  for (auto& state : *renewed) still_held[state.run_id] = state.cancel_action;
  // Missing from the renewal: adopted by another instance, or ended meanwhile. A run whose
  // Finish passed the fence (RunLeases::Finish) but has not left active_ yet is ended in the
  // database and is not lost: dropping it would log a false "lost" and count it in runs_lost.
  // An ended run that another instance finished is dropped by our own fence when it gets
  // there. So only the missing runs still active in the database are lost, asked in one query;
  // unknown (the database did not answer) keeps them until the next renewal.
  std::vector<std::shared_ptr<RunHandle>> missing;
  std::vector<std::string> missing_ids;
  for (auto& h : held) {
    auto it = still_held.find(h->run_id_);
    if (it == still_held.end()) {
      if (!h->done()) {
        missing.push_back(h);
        missing_ids.push_back(h->run_id_);
      }
      continue;
    }
    ExtendLease(*h, asked_at);
    if (auto action = ParseAction(it->second)) RequestCancel(h->run_id_, *action);
  }
  if (missing.empty()) co_return;
  auto active = co_await cluster.leases->ActiveAmong(std::move(missing_ids));
  if (!active) co_return;
  const std::set<std::string> taken_over(active->begin(), active->end());
  for (auto& h : missing) {
    if (taken_over.contains(h->run_id_)) DropLost(h);
  }
}

asio::awaitable<void> RunManager::AdoptExpired() {
  const ClusterOptions& cluster = *options_.cluster;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) co_return;
  }
  auto leased_at = std::chrono::steady_clock::now();
  auto adopted =
      co_await cluster.leases->AdoptExpired(cluster.instance_id, cluster.lease, cluster.adopt_batch);
  if (!adopted) {
    spdlog::warn("cluster: adopting expired runs failed: {}", adopted.error().message);
    co_return;
  }
  if (adopted->empty()) co_return;
  spdlog::info("cluster: adopting {} run(s) whose instance stopped renewing their lease",
               adopted->size());
  if (options_.metrics != nullptr) {
    options_.metrics
        ->GetCounter("agentd_cluster_runs_adopted_total",
                     "Runs this instance took over after their owner's lease expired")
        .Inc(adopted->size());
  }
  // Resuming is sequential, several storage calls per run, so a big batch (a dead instance's
  // hundred runs) can outlast the lease; meanwhile the keeper, being here, renews nothing:
  // neither this instance's other runs nor the adopted ones not resumed yet (they join
  // active_ only in ResumeRun). Their leases expired and a third instance adopted them while
  // they ran here. So the batch renews both every lease/3 as it goes.
  const auto period = std::max(cluster.lease / 3, std::chrono::milliseconds(10));
  auto last_renewal = std::chrono::steady_clock::now();
  std::vector<model::Run>& runs = *adopted;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    if (keeper_stop_->is_set()) break;  // stopping: the rest expire and go to the others
    if (std::chrono::steady_clock::now() - last_renewal >= period) {
      co_await RenewLeases();
      co_await RenewPermits();
      std::vector<std::string> waiting;
      for (std::size_t j = i; j < runs.size(); ++j) {
        if (!runs[j].run_id.empty()) waiting.push_back(runs[j].run_id);
      }
      const auto asked_at = std::chrono::steady_clock::now();
      auto renewed = co_await cluster.leases->Renew(cluster.instance_id, waiting, cluster.lease);
      if (renewed) {
        leased_at = asked_at;
        std::set<std::string> kept;
        for (const auto& state : *renewed) kept.insert(state.run_id);
        // Not renewed: ended or taken by another instance meanwhile; not ours to resume.
        for (std::size_t j = i; j < runs.size(); ++j) {
          if (!kept.contains(runs[j].run_id)) runs[j].run_id.clear();
        }
      }
      last_renewal = std::chrono::steady_clock::now();
    }
    if (runs[i].run_id.empty()) continue;
    co_await ResumeRun(std::move(runs[i]), leased_at);
  }
}

asio::awaitable<void> RunManager::LeaseKeeper() {
  const auto period = std::max(options_.cluster->lease / 3, std::chrono::milliseconds(10));
  std::shared_ptr<OneShot> stop = keeper_stop_;
  co_await AdoptExpired();
  while (!stop->is_set()) {
    if (co_await stop->WaitFor(period)) break;
    co_await RenewLeases();
    // After the leases: runs found lost there have given their permits back already.
    co_await RenewPermits();
    co_await AdoptExpired();
  }
}

void RunManager::StartCluster() {
  if (!options_.cluster) return;
  {
    std::lock_guard lock(mutex_);
    if (keeper_running_) return;
    keeper_running_ = true;
    ++live_coroutines_;
  }
  const ClusterOptions& cluster = *options_.cluster;
  control_listener_ = cluster.pubsub->Listen(
      cluster.channel,
      [this](std::string_view, std::string_view payload) { OnControlMessage(payload); });
  asio::co_spawn(pick_(), LeaseKeeper(), [this](std::exception_ptr e) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        spdlog::error("cluster: lease keeper escaped with an exception: {}", ex.what());
      }
    }
    std::lock_guard lock(mutex_);
    if (--live_coroutines_ == 0) idle_.notify_all();
  });
}

asio::awaitable<Result<CancelRequest>> RunManager::Cancel(std::string tenant, std::string run_id,
                                                          CancelAction action) {
  if (auto h = Find(run_id); h && h->tenant() == tenant) {
    RequestCancel(run_id, action);
    co_return CancelRequest::kRequested;
  }
  if (!options_.cluster) co_return CancelRequest::kNotActive;
  auto marked = co_await options_.cluster->leases->RequestCancel(tenant, run_id,
                                                                 std::string(ActionName(action)));
  if (!marked) {
    if (marked.error().code == Errc::kNotFound) co_return CancelRequest::kNotActive;
    co_return marked.error();
  }
  Publish(fmt::format("cancel {} {}", run_id, ActionName(action)));
  co_return CancelRequest::kRequested;
}

void RunManager::CancelDetached(std::string tenant, std::string run_id, CancelAction action) {
  if (RequestCancel(run_id, action) || !options_.cluster) return;
  asio::co_spawn(
      pick_(),
      [this, tenant = std::move(tenant), run_id = std::move(run_id),
       action]() -> asio::awaitable<void> {
        auto sent = co_await Cancel(tenant, run_id, action);
        if (!sent) spdlog::warn("{}: cancel failed: {}", observe::RunLog{run_id}, sent.error().message);
      },
      asio::detached);
}

asio::awaitable<bool> RunManager::WaitEnded(std::string tenant, std::string run_id,
                                            std::chrono::steady_clock::duration timeout) {
  if (auto h = Find(run_id); h && h->tenant() == tenant) co_return co_await h->WaitDone(timeout);
  if (!options_.cluster) co_return true;
  auto run = co_await storage_.runs().Get(tenant, run_id);
  if (!run) co_return true;  // gone: rolled back or deleted
  // RunLeases::Finish ends the run and writes the thread's end state in one transaction, so
  // once the run is inactive the thread's values are final.
  storage::RunLeases* leases = options_.cluster->leases;
  const std::function<storage::Task<Result<bool>>()> run_active = [leases, &tenant, &run_id] {
    return leases->IsActive(tenant, run_id);
  };
  co_return co_await WaitThreadQuiet(run->thread_id, std::chrono::steady_clock::now() + timeout,
                                     run_active);
}

asio::awaitable<bool> RunManager::WaitThreadQuiet(
    const std::string& thread_id, std::chrono::steady_clock::time_point deadline,
    const std::function<storage::Task<Result<bool>>()>& still_active) {
  for (;;) {
    // Taken before asking, so a "free" between the answer and the wait is not missed.
    auto wakeup = ThreadWakeup(thread_id);
    auto active = co_await still_active();
    const bool quiet = active && !*active;
    auto left = deadline - std::chrono::steady_clock::now();
    if (quiet || left <= std::chrono::steady_clock::duration::zero()) {
      ReleaseThreadWakeup(thread_id, std::move(wakeup));
      co_return quiet;
    }
    auto step = std::min<std::chrono::steady_clock::duration>(left, options_.cluster->turn_recheck);
    if (!co_await wakeup->WaitFor(step)) ReleaseThreadWakeup(thread_id, std::move(wakeup));
  }
}

asio::awaitable<void> RunManager::CancelThreadClustered(
    std::string tenant, std::string thread_id, CancelAction action,
    std::chrono::steady_clock::time_point deadline) {
  const ClusterOptions& cluster = *options_.cluster;
  auto marked =
      co_await cluster.leases->RequestThreadCancel(tenant, thread_id, std::string(ActionName(action)));
  if (!marked) {
    spdlog::warn("thread {}: cancelling its runs on other instances failed: {}", thread_id,
                 marked.error().message);
  } else {
    for (const auto& run_id : *marked) {
      if (!RequestCancel(run_id, action)) {
        Publish(fmt::format("cancel {} {}", run_id, ActionName(action)));
      }
    }
  }
  storage::RunLeases* leases = cluster.leases;
  const std::function<storage::Task<Result<bool>>()> thread_active = [leases, &tenant,
                                                                      &thread_id] {
    return leases->ThreadHasActiveRuns(tenant, thread_id);
  };
  (void)co_await WaitThreadQuiet(thread_id, deadline, thread_active);
}

asio::awaitable<bool> RunManager::IsThreadBusy(std::string tenant, std::string thread_id) {
  if (IsThreadActive(thread_id)) co_return true;
  if (!options_.cluster) co_return false;
  auto busy = co_await options_.cluster->leases->ThreadHasActiveRuns(tenant, thread_id);
  // Unknown counts as busy: refusing an update is safer than racing a run.
  co_return !busy || *busy;
}

}  // namespace agentd::scheduler
