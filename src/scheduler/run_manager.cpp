#include "scheduler/run_manager.hpp"

#include <algorithm>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include "common/json.hpp"
#include "common/uuid.hpp"

namespace agentd::scheduler {

namespace asio = boost::asio;
namespace json = boost::json;

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
      self_base_url_(options_.self_base_url) {}

RunManager::~RunManager() = default;

void RunManager::SetSelfBaseUrl(std::string url) {
  std::lock_guard lock(mutex_);
  self_base_url_ = std::move(url);
}

asio::awaitable<Result<StartedRun>> RunManager::Create(std::string tenant,
                                                       std::optional<std::string> thread_id,
                                                       RunSpec spec) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) co_return MakeError(Errc::kUnavailable, "the server is shutting down");
  }
  // Resolve the assistant: a registered graph's name stands for its system assistant.
  std::string assistant_id = graphs_.Find(spec.assistant_id) != nullptr
                                 ? SystemAssistantId(spec.assistant_id)
                                 : spec.assistant_id;
  auto assistant = co_await storage_.assistants().Get(tenant, assistant_id);
  if (!assistant) {
    if (assistant.error().code != Errc::kNotFound) co_return assistant.error();
    co_return MakeError(Errc::kNotFound,
                        fmt::format("No assistant found for \"{}\". Make sure the assistant ID is "
                                    "for a valid assistant or a valid graph ID.",
                                    spec.assistant_id));
  }
  const runtime::GraphInfo* graph = graphs_.Find(assistant->graph_id);
  if (graph == nullptr) {
    co_return MakeError(Errc::kNotFound,
                        fmt::format("Graph \"{}\" not found", assistant->graph_id));
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

  // Admission: the strategy decision, the run id and the slot entry, atomically.
  auto h = std::make_shared<RunHandle>();
  std::vector<std::shared_ptr<RunHandle>> to_cancel;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) co_return MakeError(Errc::kUnavailable, "the server is shutting down");
    Slot& slot = slots_[thread.thread_id];
    if (!slot.runs.empty()) {
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
  if (auto log = bus_.Create(h->run_id_, options_.log_options)) {
    h->log_ = std::move(*log);
    auto stored = co_await storage_.runs().Create(h->run_);
    if (stored) {
      h->run_ = std::move(*stored);
      storage::ThreadPatch patch;
      patch.metadata = thread_metadata;
      patch.status = model::ThreadStatus::kBusy;
      auto updated = co_await storage_.threads().Update(tenant, thread.thread_id, std::move(patch));
      if (!updated) persisted = updated.error();
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
      bus_.Remove(h->run_id_);
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
    // Stop() may have begun while this run was being recorded: it ends at once, interrupted.
    if (stopping_) MarkCancelLocked(*h, CancelAction::kInterrupt);
    // A cancel that came while the run was being recorded was only marked (RequestCancel).
    cancelled = h->cancel_.has_value();
  }
  StartedRun started{h->run_, h};
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
  // A pending run wakes up and ends without running; a running one is stopped through its
  // signal, which only its own executor may touch. A run whose Execute has not begun sees
  // cancel_ before it starts (both happen on executor_, in order).
  h->start_.Set();
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

asio::awaitable<void> RunManager::CancelThread(std::string thread_id, CancelAction action,
                                               std::chrono::steady_clock::duration wait) {
  std::vector<std::shared_ptr<RunHandle>> runs;
  {
    std::lock_guard lock(mutex_);
    auto it = slots_.find(thread_id);
    if (it != slots_.end()) runs = it->second.runs;
  }
  for (auto& h : runs) RequestCancel(h->run_id_, action);
  auto deadline = std::chrono::steady_clock::now() + wait;
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
        spdlog::error("run {}: coroutine escaped with an exception: {}", run_id, ex.what());
      }
    }
    std::lock_guard lock(mutex_);
    if (--live_coroutines_ == 0) idle_.notify_all();
  });
}

void RunManager::Pump(const std::string& thread_id) {
  std::shared_ptr<RunHandle> next;
  {
    std::lock_guard lock(mutex_);
    auto it = slots_.find(thread_id);
    if (it == slots_.end()) return;
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
  std::vector<std::shared_ptr<RunHandle>> runs;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    for (auto& [id, h] : active_) {
      if (MarkCancelLocked(*h, CancelAction::kInterrupt) &&
          h->state_ != RunHandle::State::kAdmitted) {
        runs.push_back(h);
      }
    }
  }
  for (auto& h : runs) Deliver(h);
  std::unique_lock lock(mutex_);
  if (!idle_.wait_for(lock, grace, [this] { return live_coroutines_ == 0; })) {
    spdlog::warn("runs: {} run(s) still ending after the stop grace period", live_coroutines_);
  }
}

}  // namespace agentd::scheduler
