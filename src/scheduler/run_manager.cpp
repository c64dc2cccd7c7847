#include "scheduler/run_manager.hpp"

#include <algorithm>
#include <future>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_future.hpp>
#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include "common/json.hpp"
#include "common/uuid.hpp"
#include "runtime/graph_file_nodes.hpp"
#include "runtime/tool_approval.hpp"
#include "scheduler/refusal.hpp"
#include "storage/query.hpp"
#include "observe/log.hpp"
#include "observe/process_memory.hpp"

namespace agentd::scheduler {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

// Memory-aware admission reads this process's resident size (cached, observe/process_memory)
// when a limit is set; /metrics shows the size and the limit either way.
AdmissionOptions AdmissionOptionsFor(const config::Limits& limits, observe::Metrics* metrics) {
  AdmissionOptions options{limits.max_active_runs, limits.max_queued_runs};
  auto memory = std::make_shared<observe::ResidentMemory>();
  if (limits.memory_limit_bytes > 0 && limits.memory_admission_percent > 0) {
    options.memory_limit_bytes = limits.memory_limit_bytes;
    options.memory_refuse_bytes = limits.memory_limit_bytes / 100 *
                                  static_cast<std::uint64_t>(limits.memory_admission_percent);
    options.resident_bytes = [memory] { return memory->Bytes(); };
  }
  if (metrics != nullptr) {
    metrics->AddCallbackGauge("agentd_resident_memory_bytes",
                              "Resident memory of the agentd process (/proc/self/statm)", {},
                              [memory] { return static_cast<double>(memory->Bytes()); });
    metrics
        ->GetGauge("agentd_memory_limit_bytes",
                   "memory_limit_bytes (0 = none): new runs are refused at "
                   "memory_admission_percent of it")
        .Set(static_cast<double>(limits.memory_limit_bytes));
  }
  return options;
}

}  // namespace

RunManager::RunManager(storage::Storage& storage, const runtime::GraphRegistry& graphs,
                       bus::EventBus& bus, RunExecutor& executor,
                       runtime::HttpTransport* webhooks, ExecutorPicker pick,
                       RunManagerOptions options)
    : storage_(storage),
      graphs_(graphs),
      bus_(bus),
      executor_(executor),
      webhooks_(webhooks),
      pick_(std::move(pick)),
      options_(std::move(options)),
      admission_(AdmissionOptionsFor(options_.limits, options_.metrics)),
      tiers_(std::make_shared<const Tiers>(
          Tiers{options_.limits.tiers, options_.limits.default_tier})),
      self_base_url_(options_.self_base_url) {
  UpdateGauges();
}

RunManager::~RunManager() = default;

void RunManager::SetTiers(std::vector<config::TierLimits> tiers, std::string default_tier) {
  tiers_.Set(std::make_shared<const Tiers>(Tiers{std::move(tiers), std::move(default_tier)}));
}

void RunManager::SetSelfBaseUrl(std::string url) {
  std::lock_guard lock(mutex_);
  self_base_url_ = std::move(url);
}

namespace {

// Gives the admission ticket back unless the run was handed to its coroutine.
struct TicketGuard {
  Admission& admission;
  Ticket ticket;
  bool kept = false;
  ~TicketGuard() {
    if (ticket && !kept) admission.Release(ticket);
  }
};

Error ShuttingDown() {
  return RefusalError(Errc::kUnavailable, Refusal{"shutting_down", "", "the server is shutting down",
                                                  std::chrono::seconds(5)});
}

}  // namespace

TierQuota RunManager::QuotaFor(const std::string& tier) const {
  const auto table = tiers_.Get();
  const std::string& name = tier.empty() ? table->default_tier : tier;
  for (const auto& t : table->tiers) {
    if (t.name == name) {
      return TierQuota{t.name, t.max_concurrent_runs, t.max_queued_runs, t.priority};
    }
  }
  return TierQuota{name, 0, 0, 0};
}

void RunManager::CountRejection(std::string_view reason) {
  if (options_.metrics == nullptr) return;
  options_.metrics
      ->GetCounter("agentd_admission_rejections_total", "Runs refused by admission, by reason",
                   {{"reason", std::string(reason)}})
      .Inc();
}

void RunManager::UpdateGauges() {
  if (options_.metrics == nullptr) return;
  AdmissionStats stats = admission_.Stats();
  options_.metrics->GetGauge("agentd_runs_active", "Runs executing now (holding a global slot)")
      .Set(static_cast<double>(stats.executing));
  options_.metrics->GetGauge("agentd_runs_queued", "Runs waiting for a global execution slot")
      .Set(static_cast<double>(stats.queued));
}

std::optional<QueuePosition> RunManager::QueueInfo(const RunHandle& h) const {
  if (!h.ticket_) return std::nullopt;
  return admission_.Position(h.ticket_);
}

asio::awaitable<Result<StartedRun>> RunManager::Create(std::string tenant,
                                                       std::optional<std::string> thread_id,
                                                       RunSpec spec) {
  return Create(model::Principal{std::move(tenant), std::string(), std::string()},
                std::move(thread_id), std::move(spec));
}

asio::awaitable<Result<StartedRun>> RunManager::Create(model::Principal principal,
                                                       std::optional<std::string> thread_id,
                                                       RunSpec spec) {
  std::string tenant = principal.tenant;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) {
      CountRejection("shutting_down");
      co_return ShuttingDown();
    }
  }
  // Admission first: a refusal is fast and writes nothing.
  TierQuota quota = QuotaFor(principal.tier);
  auto admitted = admission_.Admit(tenant, quota);
  if (!admitted) {
    auto why = ParseRefusal(admitted.error());
    CountRejection(!why ? std::string("other")
                   : why->error == "tenant_limit"         ? "tenant_" + why->limit
                   : why->limit == "memory_limit_bytes"   ? std::string("memory")
                                                          : why->error);
    co_return admitted.error();
  }
  TicketGuard guard{admission_, *admitted};
  UpdateGauges();
  // Resolve the assistant: a registered graph's name stands for its system assistant.
  std::string assistant_id = graphs_.Find(spec.assistant_id) != nullptr
                                 ? SystemAssistantId(spec.assistant_id)
                                 : spec.assistant_id;
  auto assistant = co_await storage_.assistants().Get(tenant, assistant_id);
  if (!assistant) {
    // An expired assistant's 404 keeps its reason ("Assistant <id> expired at <time>").
    if (assistant.error().code != Errc::kNotFound || storage::IsExpiredError(assistant.error())) {
      co_return assistant.error();
    }
    co_return MakeError(Errc::kNotFound,
                        fmt::format("No assistant found for \"{}\". Make sure the assistant ID is "
                                    "for a valid assistant or a valid graph ID.",
                                    spec.assistant_id));
  }
  std::shared_ptr<const runtime::GraphInfo> graph = graphs_.Find(assistant->graph_id);
  if (graph == nullptr) {
    co_return MakeError(Errc::kNotFound,
                        fmt::format("Graph \"{}\" not found", assistant->graph_id));
  }
  // A graph file's declared knobs must have their declared types (docs/graphs.md).
  if (auto problem = runtime::CheckKnobTypes(*graph, spec.config, spec.context)) {
    co_return MakeError(Errc::kUnprocessable, *problem);
  }

  // The thread: a new one for stateless runs, else the named one (created on demand).
  const bool stateless = !thread_id.has_value();
  json::object thread_metadata{{"graph_id", assistant->graph_id},
                               {"assistant_id", assistant->assistant_id}};
  model::Thread thread;
  if (stateless) {
    model::Thread t;
    t.tenant = tenant;
    t.thread_id = NewUuid4();
    t.metadata = thread_metadata;
    t.status = model::ThreadStatus::kBusy;
    auto created = co_await storage_.threads().Create(std::move(t), storage::IfExists::kRaise);
    if (!created) co_return created.error();
    thread = std::move(*created);
  } else {
    auto found = co_await storage_.threads().Get(tenant, *thread_id);
    if (found) {
      thread = std::move(*found);
    } else if (found.error().code != Errc::kNotFound) {
      co_return found.error();
    } else if (!spec.create_thread_if_missing) {
      co_return MakeError(Errc::kUnprocessable, fmt::format("Thread {} not found", *thread_id));
    } else {
      model::Thread t;
      t.tenant = tenant;
      t.thread_id = *thread_id;
      t.metadata = thread_metadata;
      MergeShallow(t.metadata, spec.metadata);
      t.status = model::ThreadStatus::kBusy;
      // do_nothing: two runs racing to create the same thread both proceed to admission.
      auto created =
          co_await storage_.threads().Create(std::move(t), storage::IfExists::kDoNothing);
      if (!created) co_return created.error();
      thread = std::move(*created);
    }
  }
  // The thread's metadata as it will be once this run is recorded on it.
  MergeShallow(thread.metadata, thread_metadata);
  // A resume answering a tool approval must have its shape: refused before anything is written.
  if (spec.command) {
    if (auto problem = runtime::CheckApprovalResume(*graph, thread.interrupts, *spec.command)) {
      co_return MakeError(Errc::kUnprocessable, *problem);
    }
  }

  // Admission: the strategy decision, the run id and the slot entry, atomically.
  auto h = std::make_shared<RunHandle>();
  std::vector<std::shared_ptr<RunHandle>> to_cancel;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) co_return ShuttingDown();
    Slot& slot = slots_[thread.thread_id];
    // Cluster mode: the database decides the strategy (RunLeases::Enqueue below), since other
    // instances' runs on this thread are not in this slot.
    if (!slot.runs.empty() && !options_.cluster) {
      if (spec.multitask_strategy == MultitaskStrategy::kReject) {
        co_return MakeError(Errc::kUnprocessable, std::string(kThreadBusyText));
      }
      if (spec.multitask_strategy == MultitaskStrategy::kInterrupt ||
          spec.multitask_strategy == MultitaskStrategy::kRollback) {
        auto action = spec.multitask_strategy == MultitaskStrategy::kRollback
                          ? CancelAction::kRollback
                          : CancelAction::kInterrupt;
        for (auto& other : slot.runs) {
          if (MarkCancelLocked(*other, action)) to_cancel.push_back(other);
        }
      }
    }
    h->run_id_ = NewUuid7();
    h->thread_id_ = thread.thread_id;
    h->tenant_ = tenant;
    h->tier_ = quota.tier;
    h->ticket_ = guard.ticket;
    slot.runs.push_back(h);
    active_[h->run_id_] = h;
  }
  for (auto& other : to_cancel) Deliver(other);

  RunIds ids{h->run_id_, thread.thread_id, assistant->assistant_id, assistant->graph_id};
  h->stateless_ = stateless;
  h->resumable_ = spec.stream_resumable;
  h->graph_ = graph;
  h->executor_ = pick_();
  h->run_ = BuildRun(spec, ids, tenant, *assistant, thread,
                     stateless && spec.delete_on_completion);
  h->request_ = BuildRunRequest(spec, ids, h->run_, *assistant);

  // The event log exists from creation so that streams can subscribe before the run starts.
  Status persisted;
  auto created_log = co_await bus_.Create(LogKey(h->tenant_, h->run_id_), options_.log_options);
  if (auto& log = created_log) {
    h->log_ = std::move(*log);
    Result<model::Run> stored = MakeError(Errc::kInternal, "run not stored");
    if (options_.cluster) {
      auto enqueued = co_await EnqueueClustered(*h, spec.multitask_strategy);
      if (enqueued) {
        stored = std::move(*enqueued);
      } else {
        stored = enqueued.error();
      }
    } else {
      stored = co_await storage_.runs().Create(h->run_);
    }
    if (stored) {
      h->run_ = std::move(*stored);
      storage::ThreadPatch patch;
      patch.metadata = thread_metadata;
      patch.status = model::ThreadStatus::kBusy;
      auto updated = co_await storage_.threads().Update(tenant, thread.thread_id, std::move(patch));
      if (!updated && options_.cluster) {
        // Cluster mode: Enqueue already recorded and leased the run (and marked the runs it
        // displaced). Failing now would answer an error for a run that another instance may
        // adopt and execute once the lease expires, and undoing it may fail just the same, so
        // the busy mark is best effort here (Finish writes the thread's status anyway).
        spdlog::warn("{}: marking thread {} busy failed: {}", observe::RunLog{h->run_id_}, thread.thread_id,
                     updated.error().message);
      } else if (!updated) {
        persisted = updated.error();
      }
    } else {
      persisted = stored.error();
    }
  } else {
    persisted = log.error();
  }
  if (!persisted) {
    bool others = false;
    Forget(h, &others);
    if (h->log_) {
      h->log_->Close();
      bus_.Remove(LogKey(h->tenant_, h->run_id_));
    }
    (void)co_await storage_.runs().Delete(tenant, h->run_id_);
    if (stateless) (void)co_await storage_.threads().Delete(tenant, thread.thread_id);
    Pump(thread.thread_id);
    co_return persisted.error();
  }
  h->spec_ = std::move(spec);
  bool cancelled = false;
  {
    std::lock_guard lock(mutex_);
    h->state_ = RunHandle::State::kQueued;
    // Stop() may have begun while this run was being recorded: it ends at once, interrupted
    // (or, draining, is left pending for the next start).
    if (stopping_) {
      if (options_.drain_on_stop) {
        h->abandon_ = true;
      } else {
        MarkCancelLocked(*h, CancelAction::kInterrupt);
      }
    }
    // A cancel that came while the run was being recorded was only marked (RequestCancel).
    cancelled = h->cancel_.has_value() || h->abandon_;
  }
  StartedRun started{h->run_, h};
  guard.kept = true;  // released by Finish/Abandon from here on
  Spawn(h);
  if (cancelled) Deliver(h);
  Pump(h->thread_id_);
  co_return started;
}

std::shared_ptr<RunHandle> RunManager::Find(const std::string& run_id) const {
  std::lock_guard lock(mutex_);
  auto it = active_.find(run_id);
  return it == active_.end() ? nullptr : it->second;
}

bool RunManager::MarkCancelLocked(RunHandle& h, CancelAction action) {
  if (h.cancel_ || h.state_ == RunHandle::State::kDone) return false;
  h.cancel_ = action;
  return true;
}

void RunManager::Deliver(const std::shared_ptr<RunHandle>& h) {
  h->cancelled_.Set();
  // A run waiting for a global slot wakes up and withdraws (AcquireSlot).
  if (h->ticket_) h->ticket_->woken().Set();
  // A pending run wakes up and ends without running; a running one is stopped through its
  // signal, which only its own executor may touch. A run whose Execute has not begun sees
  // cancel_ before it starts (both happen on executor_, in order).
  h->start_.Set();
  if (options_.cluster) WakeThread(h->thread_id_);  // a run waiting for its turn (WaitTurn)
  if (h->executor_) {
    asio::post(h->executor_, [h] {
      if (h->executing_) h->signal_.emit(asio::cancellation_type::terminal);
    });
  }
}

std::shared_ptr<RunHandle> RunManager::RequestCancel(const std::string& run_id,
                                                     CancelAction action) {
  std::shared_ptr<RunHandle> h;
  bool deliver = false;
  {
    std::lock_guard lock(mutex_);
    auto it = active_.find(run_id);
    if (it == active_.end()) return nullptr;
    h = it->second;
    // A run still being recorded (kAdmitted) is delivered when its coroutine starts.
    deliver = MarkCancelLocked(*h, action) && h->state_ != RunHandle::State::kAdmitted;
  }
  if (deliver) Deliver(h);
  return h;
}

asio::awaitable<void> RunManager::CancelThread(std::string tenant, std::string thread_id,
                                               CancelAction action,
                                               std::chrono::steady_clock::duration wait) {
  std::vector<std::shared_ptr<RunHandle>> runs;
  {
    std::lock_guard lock(mutex_);
    auto it = slots_.find(thread_id);
    if (it != slots_.end()) runs = it->second.runs;
  }
  for (auto& h : runs) RequestCancel(h->run_id_, action);
  auto deadline = std::chrono::steady_clock::now() + wait;
  if (options_.cluster) {
    co_await CancelThreadClustered(std::move(tenant), std::move(thread_id), action, deadline);
    co_return;
  }
  for (auto& h : runs) {
    auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) break;
    co_await h->WaitDone(left);
  }
}

bool RunManager::IsThreadActive(const std::string& thread_id) const {
  std::lock_guard lock(mutex_);
  auto it = slots_.find(thread_id);
  return it != slots_.end() && !it->second.runs.empty();
}

std::size_t RunManager::active_count() const {
  std::lock_guard lock(mutex_);
  return active_.size();
}

void RunManager::Spawn(std::shared_ptr<RunHandle> h) {
  {
    std::lock_guard lock(mutex_);
    ++live_coroutines_;
  }
  std::string run_id = h->run_id_;
  asio::co_spawn(h->executor_, Lifecycle(h), [this, run_id](std::exception_ptr e) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        spdlog::error("{}: coroutine escaped with an exception: {}", observe::RunLog{run_id}, ex.what());
      }
    }
    std::lock_guard lock(mutex_);
    if (--live_coroutines_ == 0) idle_.notify_all();
  });
}

void RunManager::Pump(const std::string& thread_id) {
  std::shared_ptr<RunHandle> next;
  {
    std::unique_lock lock(mutex_);
    auto it = slots_.find(thread_id);
    if (it == slots_.end()) return;
    if (options_.cluster) {
      // Every recorded run goes on to ask the database for its turn (WaitTurn), which orders
      // them with the other instances' runs on this thread.
      std::vector<std::shared_ptr<RunHandle>> ready;
      for (auto& h : it->second.runs) {
        if (h->state_ == RunHandle::State::kQueued) {
          h->state_ = RunHandle::State::kStarting;
          ready.push_back(h);
        }
      }
      lock.unlock();
      for (auto& h : ready) h->start_.Set();
      return;
    }
    for (auto& h : it->second.runs) {
      if (h->state_ == RunHandle::State::kStarting || h->state_ == RunHandle::State::kRunning) {
        return;  // one at a time
      }
    }
    for (auto& h : it->second.runs) {
      if (h->cancel_) continue;  // ends by itself, never runs
      if (h->state_ == RunHandle::State::kAdmitted) return;  // FIFO: wait until it is recorded
      if (h->state_ == RunHandle::State::kQueued) {
        h->state_ = RunHandle::State::kStarting;
        next = h;
        break;
      }
    }
  }
  if (next) next->start_.Set();
}

void RunManager::Forget(const std::shared_ptr<RunHandle>& h, bool* others_active) {
  std::lock_guard lock(mutex_);
  h->state_ = RunHandle::State::kDone;
  active_.erase(h->run_id_);
  auto it = slots_.find(h->thread_id_);
  if (it == slots_.end()) return;
  std::erase(it->second.runs, h);
  *others_active = !it->second.runs.empty();
  if (it->second.runs.empty()) slots_.erase(it);
}

void RunManager::Stop(std::chrono::milliseconds grace) {
  // Cluster mode: no more adoption or control messages; the keeper ends at once.
  keeper_stop_->Set();
  control_listener_.reset();
  std::vector<std::shared_ptr<RunHandle>> runs;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    for (auto& [id, h] : active_) {
      if (options_.drain_on_stop) {
        // Runs that hold no slot yet stop now, untouched in storage; executing ones get the
        // grace period.
        if (h->state_ != RunHandle::State::kRunning && h->state_ != RunHandle::State::kAdmitted &&
            !h->cancel_) {
          h->abandon_ = true;
          runs.push_back(h);
        }
      } else if (MarkCancelLocked(*h, CancelAction::kInterrupt) &&
                 h->state_ != RunHandle::State::kAdmitted) {
        runs.push_back(h);
      }
    }
  }
  // Queued runs wake up and leave (AcquireSlot sees the queue closed).
  admission_.Close();
  for (auto& h : runs) {
    if (options_.drain_on_stop) {
      h->cancelled_.Set();  // ends an after_seconds wait
      h->start_.Set();
    } else {
      Deliver(h);
    }
  }
  std::unique_lock lock(mutex_);
  if (idle_.wait_for(lock, grace, [this] { return live_coroutines_ == 0; })) {
    lock.unlock();
    HandOverLeases();
    return;
  }
  if (!options_.drain_on_stop) {
    spdlog::warn("runs: {} run(s) still ending after the stop grace period", live_coroutines_);
    return;
  }
  // Past the grace period: the executing runs stop where they are; their checkpoints stay and
  // their records stay running, so the next start resumes them.
  std::vector<std::shared_ptr<RunHandle>> left;
  for (auto& [id, h] : active_) {
    h->abandon_ = true;
    left.push_back(h);
  }
  lock.unlock();
  spdlog::warn("runs: {} run(s) did not finish within the grace period; left for the next start",
               left.size());
  for (auto& h : left) {
    h->cancelled_.Set();
    h->start_.Set();
    if (h->ticket_) h->ticket_->woken().Set();
    if (h->executor_) {
      asio::post(h->executor_, [h] {
        if (h->executing_) h->signal_.emit(asio::cancellation_type::terminal);
      });
    }
  }
  lock.lock();
  if (!idle_.wait_for(lock, std::chrono::seconds(5), [this] { return live_coroutines_ == 0; })) {
    spdlog::warn("runs: {} run coroutine(s) still alive after drain", live_coroutines_);
  }
  lock.unlock();
  HandOverLeases();
}

void RunManager::HandOverLeases() {
  if (!options_.cluster) return;
  // The runs this instance leaves behind (drained, abandoned) are adopted by the others at
  // their next lease check instead of after a full lease period.
  const ClusterOptions& cluster = *options_.cluster;
  auto expired =
      asio::co_spawn(pick_(), cluster.leases->ExpireAll(cluster.instance_id), asio::use_future);
  if (expired.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    spdlog::warn("cluster: handing over leases timed out; they expire by themselves");
    return;
  }
  try {
    if (Status st = expired.get(); !st) {
      spdlog::warn("cluster: handing over leases failed: {}", st.error().message);
    }
  } catch (const std::exception& e) {
    spdlog::warn("cluster: handing over leases threw: {}", e.what());
  }
}

void RunManager::Abandon(const std::shared_ptr<RunHandle>& h) {
  if (h->ticket_) admission_.Release(h->ticket_);
  if (options_.cluster) ReleasePermit(h);  // the next owner takes a permit of its own
  UpdateGauges();
  bool others = false;
  Forget(h, &others);
  h->final_body_ = json::object{};
  h->admitted_.Set();
  h->done_.Set();
  // Cluster mode: the log is shared (Redis) and the run goes on elsewhere (its next owner
  // continues the log), so it is not closed here; local streams end with the server.
  if (!options_.cluster) h->log_->Close();
}

bool RunManager::AbandonedOrCancelled(const RunHandle& h) const {
  std::lock_guard lock(mutex_);
  return h.abandon_ || h.cancel_.has_value();
}

}  // namespace agentd::scheduler
