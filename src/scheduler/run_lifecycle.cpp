// The life of one run after admission: wait for its turn, execute, finish in one step.
#include <algorithm>
#include <chrono>
#include <exception>
#include <functional>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include "common/json.hpp"
#include "common/time.hpp"
#include "runtime/run_trace.hpp"
#include "scheduler/run_manager.hpp"
#include "scheduler/run_sink.hpp"
#include "observe/log.hpp"

namespace agentd::scheduler {

namespace asio = boost::asio;
namespace json = boost::json;
using Kind = runtime::RunOutcome::Kind;

namespace {

json::array MergedInterrupts(const json::object& interrupts) {
  json::array out;
  for (const auto& [task, list] : interrupts) {
    if (!list.is_array()) continue;
    for (const auto& item : list.as_array()) out.push_back(item);
  }
  return out;
}

std::string ErrorType(const runtime::RunOutcome& outcome) {
  return outcome.error_type.empty() ? "Error" : outcome.error_type;
}

std::string ErrorMessage(const runtime::RunOutcome& outcome) {
  return outcome.error ? outcome.error->message : std::string("run failed");
}

json::object UsageJson(const runtime::TokenUsage& usage) {
  return json::object{{"input_tokens", usage.input_tokens},
                      {"output_tokens", usage.output_tokens},
                      {"total_tokens", usage.total()}};
}

constexpr std::chrono::milliseconds kEndRetryFirst{100};
constexpr std::chrono::milliseconds kEndRetryMax{2'000};

// One write of a run's end (embedded mode) while storage may refuse writes (kUnavailable: disk
// full, I/O errors, its database file deleted). The run must not leave its slot with its end
// unwritten: the thread's next run would execute, and the next start would find this one still
// `running` and run it again behind it. So it keeps its thread's turn and retries, the pause
// doubling up to 2 s, until the write goes through or fails for another reason (returned), or
// `stopping()` says the server stops (nullopt: the caller abandons the run, which the next
// start resumes in place, since no later run of its thread has executed).
template <class Write>
asio::awaitable<std::optional<typename std::invoke_result_t<Write&>::value_type>> WriteEnd(
    asio::any_io_executor executor, std::string run_id, std::string_view what,
    std::function<bool()> stopping, Write write) {
  auto pause = kEndRetryFirst;
  for (int attempt = 1;; ++attempt) {
    auto result = co_await write();
    if (result || result.error().code != Errc::kUnavailable) {
      if (attempt > 1) {
        spdlog::warn("{}: its {} was recorded after {} attempts; its thread is released",
                     observe::RunLog{run_id}, what, attempt);
      }
      co_return result;
    }
    if (attempt == 1) {
      spdlog::error("{}: recording its {} failed ({}); the run keeps its thread and retries "
                    "until storage takes writes again",
                    observe::RunLog{run_id}, what, result.error().message);
    }
    if (stopping()) co_return std::nullopt;
    asio::steady_timer timer(executor, pause);
    co_await timer.async_wait(asio::use_awaitable);
    pause = std::min(pause * 2, kEndRetryMax);
  }
}

}  // namespace

// Order: the thread's turn first, then (cluster mode, a tier with max_concurrent_runs) a
// cluster-wide permit, then a global slot. A run parked behind its own thread holds no slot
// (that would let one busy thread starve everyone); a run holding its thread's turn but
// waiting for a permit or a slot blocks only its own thread, which is waiting anyway.
asio::awaitable<void> RunManager::Lifecycle(std::shared_ptr<RunHandle> h) {
  co_await h->start_.Wait();
  if (h->spec_.after_seconds > 0 && !h->cancelled_.is_set()) {
    auto delay = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(h->spec_.after_seconds));
    co_await h->cancelled_.WaitFor(delay);
  }
  SlotResult slot = SlotResult::kCancelled;
  bool abandon = false;
  if (options_.cluster && !AbandonedOrCancelled(*h)) {
    // The thread's turn across every instance: the database says when (run_cluster.cpp).
    TurnResult turn = co_await WaitTurn(*h);
    if (turn == TurnResult::kLost) {
      std::lock_guard lock(mutex_);
      h->abandon_ = true;
    }
  }
  {
    std::lock_guard lock(mutex_);
    abandon = h->abandon_;
  }
  const auto queued_since = std::chrono::steady_clock::now();
  if (options_.cluster && !abandon && !AbandonedOrCancelled(*h)) {
    // The tenant's tier quota across every instance (run_permits.cpp).
    PermitResult permit = co_await WaitPermit(*h, queued_since);
    if (permit == PermitResult::kTimedOut) slot = SlotResult::kTimedOut;
    std::lock_guard lock(mutex_);
    abandon = h->abandon_;
  }
  if (!abandon && slot != SlotResult::kTimedOut && !AbandonedOrCancelled(*h)) {
    slot = co_await AcquireSlot(*h, queued_since);
  }
  bool cancelled = false;
  {
    std::lock_guard lock(mutex_);
    abandon = h->abandon_ || (slot == SlotResult::kClosed && options_.drain_on_stop);
    cancelled = h->cancel_.has_value() || slot == SlotResult::kClosed;
    if (!abandon && !cancelled && slot == SlotResult::kGranted) {
      h->state_ = RunHandle::State::kRunning;
    }
  }
  if (abandon) {
    Abandon(h);
    co_return;
  }
  if (slot == SlotResult::kTimedOut && !cancelled) {
    runtime::RunOutcome outcome;
    outcome.kind = Kind::kError;
    outcome.error_type = "QueueTimeoutError";
    outcome.error = Error(
        Errc::kTimeout,
        fmt::format("the run waited longer than queue_timeout ({} ms) for an execution slot",
                    options_.limits.queue_timeout.count()));
    co_await Finish(h, std::move(outcome), false, nullptr, {});
    co_return;
  }
  if (cancelled || slot != SlotResult::kGranted) {
    runtime::RunOutcome outcome;
    outcome.kind = Kind::kCancelled;
    co_await Finish(h, std::move(outcome), false, nullptr, {});
    co_return;
  }
  h->admitted_.Set();

  // Cluster mode: ClaimTurn already made it `running`.
  if (!options_.cluster) {
    (void)co_await storage_.runs().SetStatus(h->tenant_, h->run_id_, model::RunStatus::kRunning);
  }
  json::value values_before;
  json::object interrupts_before;
  if (auto thread = co_await storage_.threads().Get(h->tenant_, h->thread_id_)) {
    values_before = thread->values;
    interrupts_before = thread->interrupts;
  }
  storage::ThreadPatch busy;
  busy.status = model::ThreadStatus::kBusy;
  (void)co_await storage_.threads().Update(h->tenant_, h->thread_id_, std::move(busy));

  h->log_->Append("metadata",
                  ToJson(json::object{{"run_id", h->run_id_}, {"attempt", h->attempt_}}));
  runtime::RunOutcome outcome = co_await Execute(*h);
  {
    std::lock_guard lock(mutex_);
    abandon = h->abandon_;
  }
  if (abandon) {
    Abandon(h);
    co_return;
  }
  co_await Finish(h, std::move(outcome), true, std::move(values_before),
                  std::move(interrupts_before));
}

asio::awaitable<RunManager::SlotResult> RunManager::AcquireSlot(
    RunHandle& h, std::chrono::steady_clock::time_point queued_since) {
  const Ticket& ticket = h.ticket_;
  const bool granted_now = admission_.Request(ticket);
  UpdateGauges();
  SlotResult result = SlotResult::kGranted;
  if (!granted_now) {
    const auto timeout = options_.limits.queue_timeout;
    const auto deadline = queued_since + timeout;
    for (;;) {
      auto left = timeout.count() > 0
                      ? deadline - std::chrono::steady_clock::now()
                      : std::chrono::steady_clock::duration(std::chrono::hours(24));
      bool woke = left > std::chrono::steady_clock::duration::zero()
                      ? co_await ticket->woken().WaitFor(left)
                      : false;
      auto state = admission_.state(ticket);
      if (state == AdmissionTicket::State::kExecuting) break;
      if (state == AdmissionTicket::State::kClosed) {
        result = SlotResult::kClosed;
        break;
      }
      if (AbandonedOrCancelled(h) || woke) {
        // Woken by a cancel (Deliver) or a drain: leave the queue, unless a slot came first.
        if (!admission_.Withdraw(ticket)) break;
        result = SlotResult::kCancelled;
        break;
      }
      if (timeout.count() > 0 && std::chrono::steady_clock::now() >= deadline) {
        if (!admission_.Withdraw(ticket)) break;
        result = SlotResult::kTimedOut;
        CountRejection("queue_timeout");
        break;
      }
    }
    UpdateGauges();
  }
  if (options_.metrics != nullptr &&
      (result == SlotResult::kGranted || result == SlotResult::kTimedOut)) {
    options_.metrics
        ->GetHistogram("agentd_run_queue_wait_seconds",
                       "Time runs waited for a global execution slot, by tier",
                       {{"tier", h.tier_}})
        .Observe(std::chrono::duration<double>(admission_.QueueWait(ticket)).count());
  }
  co_return result;
}

asio::awaitable<runtime::RunOutcome> RunManager::Execute(RunHandle& h) {
  runtime::RunOutcome outcome;
  {
    std::lock_guard lock(mutex_);
    if (h.cancel_) {
      outcome.kind = Kind::kCancelled;
      co_return outcome;
    }
  }
  // The run's trace (console run inspector): told about each node, model and tool call.
  std::shared_ptr<runtime::RunTrace> trace;
  if (options_.traces != nullptr) {
    trace = options_.traces->Start({h.tenant_, h.run_id_, h.thread_id_, h.run_.assistant_id,
                                    h.graph_->graph_id, h.attempt_});
  }
  if (trace) {
    trace->Started(admission_.QueueWait(h.ticket_));
    h.request_.observer = trace.get();
    h.trace_ = trace;
  }
  std::function<bool()> may_write;
  if (options_.cluster) may_write = [this, hp = &h] { return StillLeased(*hp); };
  LogSink sink(h.spec_.stream_modes, h.log_, std::move(may_write));
  // From here until the co_await below nothing suspends, so a cancel posted to this executor
  // runs only once the executor's coroutine is attached to signal_.
  h.executing_ = true;
  // run_timeout: the timer lives on the run's executor, as signal_ requires.
  std::optional<asio::steady_timer> deadline;
  if (options_.limits.run_timeout.count() > 0) {
    deadline.emplace(h.executor_, options_.limits.run_timeout);
    deadline->async_wait([hp = &h](boost::system::error_code ec) {
      // A cancelled timer (the run ended first) never touches the handle.
      if (ec || !hp->executing_) return;
      hp->timed_out_ = true;
      hp->signal_.emit(asio::cancellation_type::terminal);
    });
  }
  try {
    outcome = co_await asio::co_spawn(
        h.executor_, executor_.Execute(*h.graph_, h.request_, sink),
        asio::bind_cancellation_slot(h.signal_.slot(), asio::use_awaitable));
  } catch (const std::exception& e) {
    bool cancelled = false;
    {
      std::lock_guard lock(mutex_);
      cancelled = h.cancel_.has_value() || h.timed_out_;
    }
    outcome = runtime::RunOutcome{};
    outcome.kind = cancelled ? Kind::kCancelled : Kind::kError;
    outcome.error = Error(cancelled ? Errc::kCancelled : Errc::kInternal, e.what());
    if (!cancelled) spdlog::error("{}: executor threw: {}", observe::RunLog{h.run_id_}, e.what());
  }
  h.executing_ = false;
  if (deadline) deadline->cancel();
  h.signal_.slot().clear();
  if (h.timed_out_) {
    outcome.kind = Kind::kError;
    outcome.error_type = "TimeoutError";
    outcome.error = Error(Errc::kTimeout, fmt::format("the run exceeded run_timeout ({} ms)",
                                                      options_.limits.run_timeout.count()));
  }
  if (trace) {
    h.request_.observer = nullptr;
    trace->Finished(outcome.kind == Kind::kSuccess   ? "success"
                    : outcome.kind == Kind::kCancelled ? "interrupted"
                    : h.timed_out_                     ? "timeout"
                                                       : "error",
                    outcome);
    if (options_.trace_exporter != nullptr) options_.trace_exporter->Export(*trace);
  }
  co_return outcome;
}

asio::awaitable<void> RunManager::Finish(std::shared_ptr<RunHandle> h,
                                         runtime::RunOutcome outcome, bool executed,
                                         json::value values_before,
                                         json::object interrupts_before) {
  const TimestampMs ended = NowMs();
  std::optional<CancelAction> action;
  bool others = false;
  {
    std::lock_guard lock(mutex_);
    action = h->cancel_;
    if (auto it = slots_.find(h->thread_id_); it != slots_.end()) {
      others = std::any_of(it->second.runs.begin(), it->second.runs.end(),
                           [&](const auto& r) { return r != h; });
    }
  }
  const bool cancelled = outcome.kind == Kind::kCancelled;
  const bool rollback = cancelled && action == CancelAction::kRollback;
  model::RunStatus status = model::RunStatus::kSuccess;
  if (rollback || cancelled) {
    status = model::RunStatus::kInterrupted;
  } else if (outcome.kind == Kind::kError) {
    status = h->timed_out_ ? model::RunStatus::kTimeout : model::RunStatus::kError;
  }
  const auto idle_or_busy = others ? model::ThreadStatus::kBusy : model::ThreadStatus::kIdle;
  const bool delete_thread = h->stateless_ && h->spec_.delete_on_completion;

  // The thread's end state and the /join body; nothing is written yet.
  json::value body;
  storage::ThreadPatch patch;
  if (rollback) {
    if (executed) {
      patch.values = values_before;
      patch.interrupts = interrupts_before;
      patch.error = nullptr;
    }
    patch.status = idle_or_busy;
    body = values_before.is_null() ? json::value(json::object{}) : values_before;
  } else {
    if (executed) {
      if (!outcome.values.is_null()) patch.values = outcome.values;
      patch.interrupts = outcome.interrupts;
      if (outcome.kind == Kind::kError) {
        patch.error = json::object{{"error", ErrorType(outcome)}, {"message", ErrorMessage(outcome)}};
        patch.status = model::ThreadStatus::kError;
      } else {
        patch.error = nullptr;
        // A paused graph leaves the thread interrupted; a cancelled one stops mid-step with
        // `next` set but nothing to resume, so it is idle unless it holds real interrupts.
        bool paused = cancelled ? !outcome.interrupts.empty() : !outcome.next.empty();
        patch.status = paused ? model::ThreadStatus::kInterrupted : idle_or_busy;
      }
    } else {
      patch.status = idle_or_busy;
    }
    json::value current = outcome.values.is_null() ? values_before : outcome.values;
    if (outcome.kind == Kind::kError) {
      body = json::object{
          {"__error__", json::object{{"error", ErrorType(outcome)}, {"message", ErrorMessage(outcome)}}}};
    } else if (!outcome.interrupts.empty()) {
      body = json::object{{"__interrupt__", MergedInterrupts(outcome.interrupts)}};
    } else {
      body = current.is_null() ? json::value(json::object{}) : current;
    }
  }

  // The trace goes in before the run's end, so whoever sees the run ended (any instance, after
  // a restart) finds its trace too. Best effort: a refused write costs the trace, not the run.
  if (h->trace_ && !rollback && !delete_thread) {
    auto stored = co_await storage_.runs().SetTrace(h->tenant_, h->run_id_, h->trace_->Stored());
    if (!stored && stored.error().code != Errc::kNotFound) {
      spdlog::warn("{}: trace not stored: {}", observe::RunLog{h->run_id_},
                   stored.error().message);
    }
  }

  if (options_.cluster) {
    // The fence: only the run's current owner writes its end, and the thread's end state goes
    // in the same transaction. An instance that lost the lease (paused past it, partitioned)
    // finds the run taken over and writes nothing.
    storage::RunLeases::Ending ending;
    ending.status = status;
    if (!rollback) ending.usage = UsageJson(outcome.usage);
    if (!delete_thread) ending.thread = patch;
    const ClusterOptions& cluster = *options_.cluster;
    auto fenced = co_await cluster.leases->Finish(h->tenant_, h->thread_id_, h->run_id_,
                                                  cluster.instance_id, ending);
    // A transient failure (pool exhausted under a burst, a dropped connection) is retried a
    // few times while the lease is still ours: giving up hands a finished run to another
    // instance, which resumes and re-runs its last step.
    for (int retry = 1; !fenced && retry <= 3 && fenced.error().code == Errc::kUnavailable;
         ++retry) {
      asio::steady_timer pause(h->executor_, std::chrono::milliseconds(100 * retry));
      co_await pause.async_wait(asio::use_awaitable);
      fenced = co_await cluster.leases->Finish(h->tenant_, h->thread_id_, h->run_id_,
                                               cluster.instance_id, ending);
    }
    if (!fenced || !fenced->owned) {
      if (!fenced) {
        spdlog::warn("{}: recording its end failed ({}); its lease will expire and another "
                     "instance resumes it",
                     observe::RunLog{h->run_id_}, fenced.error().message);
      }
      DropLost(h);
      Abandon(h);
      co_return;
    }
  }

  // Embedded mode: every write below is retried while storage refuses writes (WriteEnd); the
  // run gives up its thread only once its end is recorded, or is abandoned when the server
  // stops meanwhile.
  auto& threads = storage_.threads();
  auto& runs = storage_.runs();
  const std::string& tenant = h->tenant_;
  const std::string& run_id = h->run_id_;
  const std::string& thread_id = h->thread_id_;
  std::function<bool()> stopping = [this, h] {
    std::lock_guard lock(mutex_);
    return stopping_ || h->abandon_;
  };
  if (rollback) {
    // The outcome lists what the executor wrote; an executor that threw lists nothing, so
    // the newest checkpoints tagged with this run are collected too.
    std::vector<std::string> written = outcome.checkpoints_written;
    storage::HistoryQuery query;
    query.thread_id = h->thread_id_;
    query.limit = 1000;
    if (auto recent = co_await storage_.checkpoints().List(std::move(query))) {
      for (const auto& cp : *recent) {
        if (cp.run_id == h->run_id_ &&
            std::find(written.begin(), written.end(), cp.checkpoint_id) == written.end()) {
          written.push_back(cp.checkpoint_id);
        }
      }
    }
    if (!written.empty()) {
      auto removed = co_await WriteEnd(h->executor_, run_id, "rollback", stopping, [&] {
        return storage_.checkpoints().Remove(thread_id, written);
      });
      if (!removed) {
        Abandon(h);
        co_return;
      }
      if (!*removed) spdlog::warn("{}: rollback: {}", observe::RunLog{h->run_id_}, removed->error().message);
    }
    auto deleted = co_await WriteEnd(h->executor_, run_id, "rollback", stopping,
                                     [&] { return runs.Delete(tenant, run_id); });
    if (!deleted) {
      Abandon(h);
      co_return;
    }
  } else if (!options_.cluster) {
    auto set = co_await WriteEnd(h->executor_, run_id, "status", stopping,
                                 [&] { return runs.SetStatus(tenant, run_id, status); });
    if (!set) {
      Abandon(h);
      co_return;
    }
    auto stored = co_await WriteEnd(h->executor_, run_id, "usage", stopping, [&] {
      return runs.SetUsage(tenant, run_id, UsageJson(outcome.usage));
    });
    if (!stored) {
      Abandon(h);
      co_return;
    }
    if (!*stored && stored->error().code != Errc::kNotFound) {
      spdlog::warn("{}: usage: {}", observe::RunLog{h->run_id_}, stored->error().message);
    }
  }
  if (delete_thread) {
    if (!options_.cluster) {
      auto deleted = co_await WriteEnd(h->executor_, run_id, "thread deletion", stopping,
                                       [&] { return threads.Delete(tenant, thread_id); });
      if (!deleted) {
        Abandon(h);
        co_return;
      }
    } else {
      (void)co_await threads.Delete(h->tenant_, h->thread_id_);
    }
  } else if (!options_.cluster) {
    auto updated = co_await WriteEnd(h->executor_, run_id, "thread's end state", stopping,
                                     [&] { return threads.Update(tenant, thread_id, patch); });
    if (!updated) {
      Abandon(h);
      co_return;
    }
    if (!*updated && updated->error().code != Errc::kNotFound) {
      spdlog::warn("{}: thread update: {}", observe::RunLog{h->run_id_}, updated->error().message);
    }
  }
  if (options_.charge_tokens && outcome.usage.total() > 0) {
    options_.charge_tokens(h->tenant_, h->tier_, outcome.usage.total());
  }
  if (outcome.kind == Kind::kError) {
    (void)h->log_->AppendIfOpen("error", ToJson(json::object{{"error", ErrorType(outcome)},
                                                             {"message", ErrorMessage(outcome)}}));
  }

  // Release the thread, then tell waiters and readers: the stored state is already final.
  h->final_status_ = status;
  h->final_body_ = body;
  if (h->ticket_) admission_.Release(h->ticket_);
  if (options_.cluster) ReleasePermit(h);
  UpdateGauges();
  if (options_.metrics != nullptr) {
    options_.metrics
        ->GetCounter("agentd_runs_total", "Runs ended, by final status",
                     {{"status", std::string(model::ToString(status))}})
        .Inc();
  }
  spdlog::debug("{}: ended status={} thread_id={}", observe::RunLog{h->run_id_},
                model::ToString(status), h->thread_id_);
  bool still_active = false;
  Forget(h, &still_active);
  h->admitted_.Set();
  h->done_.Set();
  h->log_->Close();
  if (rollback) bus_.Remove(LogKey(h->tenant_, h->run_id_));
  Pump(h->thread_id_);
  // Runs of this thread waiting on other instances (and this one) may go now.
  if (options_.cluster) {
    WakeThread(h->thread_id_);
    Publish("free " + h->thread_id_);
  }

  if (h->spec_.webhook && !rollback) {
    model::Run run = h->run_;
    run.status = status;
    run.updated_at = ended;
    run.usage = UsageJson(outcome.usage);
    std::string error = outcome.kind == Kind::kError ? ErrorMessage(outcome) : std::string();
    json::value values = outcome.values.is_null() ? values_before : outcome.values;
    std::string run_id = h->run_id_;
    asio::co_spawn(h->executor_,
                   SendWebhook(h, std::move(run), std::move(values), std::move(error),
                               h->run_.created_at, ended),
                   [run_id](std::exception_ptr e) {
                     if (!e) return;
                     try {
                       std::rethrow_exception(e);
                     } catch (const std::exception& ex) {
                       spdlog::error("{}: webhook coroutine threw: {}", observe::RunLog{run_id}, ex.what());
                     }
                   });
  }
}

asio::awaitable<Result<json::value>> RunManager::FinishedBody(std::string tenant, model::Run run) {
  auto thread = co_await storage_.threads().Get(tenant, run.thread_id);
  if (!thread) {
    if (thread.error().code == Errc::kNotFound) co_return json::value(json::object{});
    co_return thread.error();
  }
  if (run.status == model::RunStatus::kError) {
    json::value error = thread->error.is_object()
                            ? thread->error
                            : json::value(json::object{{"error", "Error"}, {"message", "run failed"}});
    co_return json::value(json::object{{"__error__", std::move(error)}});
  }
  if (thread->status == model::ThreadStatus::kInterrupted && !thread->interrupts.empty()) {
    co_return json::value(json::object{{"__interrupt__", MergedInterrupts(thread->interrupts)}});
  }
  if (thread->values.is_null()) co_return json::value(json::object{});
  co_return thread->values;
}

}  // namespace agentd::scheduler
