// Crash recovery at start: runs a previous process left pending/running are resumed from their
// thread's latest checkpoint (or ended `error` when resume_on_start is off).
//
// What "resume" means: the stored kwargs are the run's original request. If the thread's
// latest checkpoint was written by this run and holds progress, the executor continues from it
// with input null (the graph picks up at `next`). If the run wrote none, or only its first
// checkpoint (next ["__start__"], the input not yet applied), the original input/command is
// run again. Either way the run keeps its id, its place in its thread's order, and gets a fresh
// event log whose `metadata` event carries the next attempt number.
#include <algorithm>
#include <utility>
#include <vector>

#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include "common/json.hpp"
#include "scheduler/run_manager.hpp"
#include "observe/log.hpp"

namespace agentd::scheduler {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr std::int64_t kRecoverLimit = 1'000'000;

// The RunSpec a stored run was created from (BuildRun's kwargs, read back).
RunSpec SpecFromKwargs(const model::Run& run) {
  RunSpec spec;
  const json::object& kw = run.kwargs;
  spec.assistant_id = run.assistant_id;
  if (const auto* v = kw.if_contains("input")) spec.input = *v;
  if (const auto* v = kw.if_contains("command"); v && v->is_object()) spec.command = v->as_object();
  if (const auto* v = kw.if_contains("context"); v && v->is_object()) spec.context = v->as_object();
  if (const auto* v = kw.if_contains("stream_mode"); v && v->is_array()) {
    for (const auto& m : v->as_array()) {
      if (!m.is_string()) continue;
      if (auto mode = runtime::ParseStreamMode(m.as_string())) spec.stream_modes.push_back(*mode);
    }
  }
  auto breakpoints = [&](std::string_view key) -> std::optional<std::vector<std::string>> {
    const auto* v = kw.if_contains(key);
    if (v == nullptr) return std::nullopt;
    if (v->is_string()) return std::vector<std::string>{std::string(v->as_string())};
    std::vector<std::string> out;
    if (v->is_array()) {
      for (const auto& n : v->as_array()) {
        if (n.is_string()) out.emplace_back(n.as_string());
      }
    }
    return out;
  };
  spec.interrupt_before = breakpoints("interrupt_before");
  spec.interrupt_after = breakpoints("interrupt_after");
  if (const auto* v = kw.if_contains("checkpoint_id"); v && v->is_string()) {
    spec.checkpoint_id = std::string(v->as_string());
  }
  if (const auto* v = kw.if_contains("webhook"); v && v->is_string()) {
    spec.webhook = std::string(v->as_string());
  }
  if (const auto* v = kw.if_contains("feedback_keys"); v && v->is_array()) {
    spec.feedback_keys = v->as_array();
  }
  if (const auto* v = kw.if_contains("durability"); v && v->is_string()) {
    spec.durability = std::string(v->as_string());
  }
  if (const auto* v = kw.if_contains("subgraphs"); v && v->is_bool()) spec.stream_subgraphs = v->as_bool();
  if (const auto* v = kw.if_contains("resumable"); v && v->is_bool()) spec.stream_resumable = v->as_bool();
  const auto* temporary = kw.if_contains("temporary");
  spec.delete_on_completion = temporary && temporary->is_bool() && temporary->as_bool();
  if (auto s = ParseMultitaskStrategy(run.multitask_strategy)) spec.multitask_strategy = *s;
  return spec;
}

constexpr std::int64_t kLaterRunsLimit = 1'000;

bool Executed(const model::Run& run) {
  switch (run.status) {
    case model::RunStatus::kRunning:
    case model::RunStatus::kSuccess:
    case model::RunStatus::kError:
    case model::RunStatus::kTimeout: return true;
    // Pending: never ran. Interrupted: maybe cancelled while pending; the checkpoint test in
    // LaterTurn sees the ones that did run.
    default: return false;
  }
}

}  // namespace

asio::awaitable<Result<std::string>> RunManager::LaterTurn(const model::Run& run) {
  storage::RunQuery query;
  query.tenant = run.tenant;
  query.thread_id = run.thread_id;
  query.limit = kLaterRunsLimit;
  auto listed = co_await storage_.runs().List(std::move(query));
  if (!listed) {
    if (listed.error().code == Errc::kNotFound) co_return std::string();  // thread gone
    co_return listed.error();
  }
  // Newest first: the runs before this one in the list were created after it.
  std::vector<std::string> newer;
  for (const auto& other : *listed) {
    if (other.run_id == run.run_id) break;
    if (Executed(other)) co_return other.run_id;
    newer.push_back(other.run_id);
  }
  if (newer.empty()) co_return std::string();
  auto latest = co_await storage_.checkpoints().Latest(run.thread_id, "");
  if (!latest) co_return latest.error();
  if (*latest && std::find(newer.begin(), newer.end(), (*latest)->run_id) != newer.end()) {
    co_return (*latest)->run_id;
  }
  co_return std::string();
}

asio::awaitable<Result<std::size_t>> RunManager::Recover() {
  if (options_.cluster) {
    // Cluster mode: runs of instances that are alive are theirs; only runs whose lease expired
    // are taken, by the lease keeper (now, then every lease/3).
    StartCluster();
    co_return 0;
  }
  std::vector<model::RunStatus> statuses{model::RunStatus::kPending, model::RunStatus::kRunning};
  auto found = co_await storage_.runs().ListByStatus(statuses, kRecoverLimit);
  if (!found) co_return found.error();
  std::size_t resumed = 0;
  for (auto& run : *found) {
    if (co_await ResumeRun(run)) ++resumed;
  }
  if (!found->empty()) {
    spdlog::info("runs: {} run(s) left by the previous process: {} resumed, {} ended",
                 found->size(), resumed, found->size() - resumed);
  }
  co_return found->size();
}

asio::awaitable<bool> RunManager::ResumeRun(
    model::Run run, std::optional<std::chrono::steady_clock::time_point> leased_at) {
  const std::string tenant = run.tenant;
  // `permanent`: the run can never resume (its assistant or graph is gone). Otherwise, in
  // cluster mode, the failure may pass (storage or Redis unreachable): the run is left to its
  // lease, which expires, and an instance adopts it again later.
  auto fail = [&](std::string reason, bool permanent = true) -> asio::awaitable<bool> {
    if (options_.cluster && !permanent) {
      spdlog::warn("{}: not resumed now, left to its lease: {}", observe::RunLog{run.run_id}, reason);
      co_return false;
    }
    spdlog::warn("{}: not resumed: {}", observe::RunLog{run.run_id}, reason);
    storage::ThreadPatch patch;
    patch.status = model::ThreadStatus::kError;
    patch.error = json::object{{"error", "ServerRestartError"}, {"message", reason}};
    if (options_.cluster) {
      // The fence: write the end (and the thread's error) only while this instance holds it.
      storage::RunLeases::Ending ending;
      ending.status = model::RunStatus::kError;
      ending.thread = std::move(patch);
      (void)co_await options_.cluster->leases->Finish(tenant, run.thread_id, run.run_id,
                                                      options_.cluster->instance_id,
                                                      std::move(ending));
      co_return false;
    }
    (void)co_await storage_.runs().SetStatus(tenant, run.run_id, model::RunStatus::kError);
    (void)co_await storage_.threads().Update(tenant, run.thread_id, std::move(patch));
    co_return false;
  };
  // Embedded mode: a run whose end was never recorded while later runs of its thread executed
  // (a process before Finish retried refused writes; a database edited by hand) must not run
  // again behind them: its input would land after theirs and its tools would be called twice.
  // It is ended `error`; the thread's state belongs to the later runs and is left alone.
  // (Cluster mode needs no such check: ClaimTurn gives the turn only to a thread's oldest
  // active run.)
  if (!options_.cluster) {
    auto later = co_await LaterTurn(run);
    if (!later) {
      spdlog::warn("{}: checking for later runs of its thread failed: {}", observe::RunLog{run.run_id},
                   later.error().message);
    } else if (!later->empty()) {
      spdlog::error("{}: not resumed: its end was never recorded, and run {} of its thread "
                    "has executed since; it ends `error` instead of running behind it",
                    observe::RunLog{run.run_id}, *later);
      auto ended = co_await storage_.runs().SetStatus(tenant, run.run_id, model::RunStatus::kError);
      if (!ended) {
        spdlog::warn("{}: recording its end failed: {}", observe::RunLog{run.run_id}, ended.error().message);
      }
      co_return false;
    }
  }
  // An adopted run (cluster mode) always resumes: its instance died, the cluster did not restart.
  if (!options_.resume_on_start && !options_.cluster) {
    co_return co_await fail("the server restarted while the run was active (resume_on_start is off)");
  }
  auto assistant = co_await storage_.assistants().Get(tenant, run.assistant_id);
  if (!assistant) {
    co_return co_await fail("its assistant is gone: " + assistant.error().message,
                            assistant.error().code == Errc::kNotFound);
  }
  std::shared_ptr<const runtime::GraphInfo> graph = graphs_.Find(assistant->graph_id);
  if (graph == nullptr) co_return co_await fail("graph " + assistant->graph_id + " is not registered");
  auto thread = co_await storage_.threads().Get(tenant, run.thread_id);
  if (!thread) {
    co_return co_await fail("its thread is gone: " + thread.error().message,
                            thread.error().code == Errc::kNotFound);
  }
  auto attempt = co_await storage_.runs().NextAttempt(tenant, run.run_id);
  if (!attempt) {
    co_return co_await fail("attempt not recorded: " + attempt.error().message, false);
  }

  RunSpec spec = SpecFromKwargs(run);
  RunIds ids{run.run_id, run.thread_id, assistant->assistant_id, assistant->graph_id};
  runtime::RunRequest request = BuildRunRequest(spec, ids, run, *assistant);
  // Continue from this run's own progress when it made any. Its first checkpoint (the input
  // before it is applied, next ["__start__"]) is not progress: it does not hold the input, and
  // continuing from it with input null fails `unknown node "__start__"`. A process killed
  // between that checkpoint and the next one re-runs the original input instead.
  auto latest = co_await storage_.checkpoints().Latest(run.thread_id, "");
  const auto unapplied_input = [](const model::Checkpoint& cp) {
    return cp.next.size() == 1 && cp.next[0].is_string() && cp.next[0].as_string() == "__start__";
  };
  if (latest && *latest && (*latest)->run_id == run.run_id && !unapplied_input(**latest)) {
    request.input = nullptr;
    request.command.reset();
    request.checkpoint_id.reset();
  }

  auto h = std::make_shared<RunHandle>();
  h->run_id_ = run.run_id;
  h->thread_id_ = run.thread_id;
  h->tenant_ = tenant;
  h->attempt_ = static_cast<int>(*attempt);
  if (leased_at) ExtendLease(*h, *leased_at);
  TierQuota quota = QuotaFor("");
  h->tier_ = quota.tier;
  // A run accepted once is never refused again.
  auto ticket = admission_.Admit(tenant, quota, /*force=*/true);
  if (!ticket) co_return co_await fail(ticket.error().message);
  h->ticket_ = *ticket;
  h->stateless_ = spec.delete_on_completion;
  h->resumable_ = spec.stream_resumable;
  h->graph_ = graph;
  h->executor_ = pick_();
  h->run_ = run;
  h->request_ = std::move(request);
  // The log may exist: another instance died while running this run (Redis bus), or it
  // closed it on shutdown. The resumed attempt continues it after its last id.
  auto log_options = options_.log_options;
  log_options.continue_existing = true;
  auto log = co_await bus_.Create(LogKey(run.tenant, run.run_id), log_options);
  if (!log) {
    admission_.Release(h->ticket_);
    co_return co_await fail("event log: " + log.error().message, false);
  }
  h->log_ = std::move(*log);
  h->spec_ = std::move(spec);
  {
    std::lock_guard lock(mutex_);
    slots_[h->thread_id_].runs.push_back(h);
    active_[h->run_id_] = h;
    h->state_ = RunHandle::State::kQueued;
  }
  UpdateGauges();
  Spawn(h);
  Pump(h->thread_id_);
  co_return true;
}

}  // namespace agentd::scheduler
