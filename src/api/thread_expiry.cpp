#include "api/thread_expiry.hpp"

#include <exception>
#include <set>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "api/errors.hpp"
#include "common/uuid.hpp"
#include "observe/log.hpp"
#include "storage/query.hpp"

namespace agentd::api {

namespace asio = boost::asio;

namespace detail {

Reply IfThreadLive(ApiContext& ctx, Request& request, HandlerFn fn) {
  Response ignored;
  if (auto id = PathUuid(request, "thread_id", &ignored)) {
    // The store decides (its clock, the same one listings use): an expired thread reads as
    // kNotFound with the reason.
    auto t = co_await ctx.storage.threads().Get(Tenant(request), *id);
    if (!t && storage::IsExpiredError(t.error())) co_return ErrorResponse(t.error());
  }
  co_return co_await fn(ctx, request);
}

}  // namespace detail

struct ThreadSweeper::State {
  asio::any_io_executor executor;
  storage::Storage& storage;
  scheduler::RunManager* runs;
  observe::Counter& expired;
  observe::Counter& assistants_expired;
  ThreadSweeperOptions options;
  asio::steady_timer timer;
  bool stopping = false;  // on `executor`
  std::promise<void> done;
  std::future<void> done_future = done.get_future();
  bool started = false;

  State(asio::any_io_executor ex, storage::Storage& s, scheduler::RunManager* r,
        observe::Metrics& metrics, ThreadSweeperOptions o)
      : executor(ex),
        storage(s),
        runs(r),
        expired(metrics.GetCounter("agentd_threads_expired_total",
                                   "Threads deleted by the TTL sweeper after expiring")),
        assistants_expired(metrics.GetCounter(
            "agentd_assistants_expired_total",
            "Assistants deleted by the TTL sweeper after expiring")),
        options(std::move(o)),
        timer(ex) {
    options.clock = storage::OrSystemClock(std::move(options.clock));
  }
};

namespace {

asio::awaitable<std::int64_t> Sweep(std::shared_ptr<ThreadSweeper::State> s);

}  // namespace

ThreadSweeper::ThreadSweeper(asio::any_io_executor executor, storage::Storage& storage,
                             scheduler::RunManager* runs, observe::Metrics& metrics,
                             ThreadSweeperOptions options)
    : state_(std::make_shared<State>(executor, storage, runs, metrics, std::move(options))) {}

ThreadSweeper::~ThreadSweeper() { Stop(); }

asio::awaitable<std::int64_t> ThreadSweeper::SweepOnce() { return Sweep(state_); }

namespace {

// Most active runs looked at to find the assistants that must not be swept yet.
constexpr std::int64_t kActiveRunScan = 100'000;

asio::awaitable<std::int64_t> SweepAssistants(std::shared_ptr<ThreadSweeper::State> s,
                                              TimestampMs now) {
  static auto log = observe::Logger("api");
  auto expired = co_await s->storage.assistants().ListExpired(now, s->options.batch);
  if (!expired) {
    log->warn("assistant sweep: listing expired assistants failed: {}", expired.error().message);
    co_return 0;
  }
  if (expired->empty()) co_return 0;
  // Deleting an assistant deletes its runs: one with a pending or running run waits for the
  // next sweep. Stored runs, so runs of every instance (and not yet resumed ones) count.
  // A named vector: a braced list inside co_await does not compile on GCC 12.
  std::vector<model::RunStatus> statuses{model::RunStatus::kPending, model::RunStatus::kRunning};
  auto active = co_await s->storage.runs().ListByStatus(std::move(statuses), kActiveRunScan);
  if (!active) {
    log->warn("assistant sweep: listing active runs failed: {}", active.error().message);
    co_return 0;
  }
  std::set<std::string> busy;
  for (const auto& run : *active) busy.insert(run.assistant_id);
  std::int64_t deleted = 0;
  for (const auto& a : *expired) {
    if (busy.contains(a.assistant_id)) continue;
    auto st = co_await s->storage.assistants().Delete(a.tenant, a.assistant_id, false);
    if (!st) {
      if (st.error().code != Errc::kNotFound) {
        log->warn("assistant sweep: deleting {} failed: {}", a.assistant_id, st.error().message);
      }
      continue;
    }
    ++deleted;
    s->assistants_expired.Inc();
    log->info("assistant expired and deleted: assistant_id={} tenant={} expired_at={}",
              a.assistant_id, a.tenant, FormatIso8601(a.expires_at));
  }
  co_return deleted;
}

asio::awaitable<std::int64_t> Sweep(std::shared_ptr<ThreadSweeper::State> s) {
  static auto log = observe::Logger("api");
  const TimestampMs now = s->options.clock();
  std::int64_t deleted = co_await SweepAssistants(s, now);
  auto expired = co_await s->storage.threads().ListExpired(now, s->options.batch);
  if (!expired) {
    log->warn("thread sweep: listing expired threads failed: {}", expired.error().message);
    co_return deleted;
  }
  for (const auto& t : *expired) {
    // A running thread is never pulled from under its run; the next sweep retries it.
    if (s->runs != nullptr && co_await s->runs->IsThreadBusy(t.tenant, t.thread_id)) continue;
    auto st = co_await s->storage.threads().Delete(t.tenant, t.thread_id);
    if (!st) {
      if (st.error().code != Errc::kNotFound) {
        log->warn("thread sweep: deleting {} failed: {}", t.thread_id, st.error().message);
      }
      continue;
    }
    ++deleted;
    s->expired.Inc();
    log->info("thread expired and deleted: thread_id={} tenant={} expired_at={}", t.thread_id,
              t.tenant, FormatIso8601(t.expires_at));
  }
  co_return deleted;
}

asio::awaitable<void> Loop(std::shared_ptr<ThreadSweeper::State> s) {
  while (!s->stopping) {
    s->timer.expires_after(s->options.interval);
    auto [ec] = co_await s->timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (s->stopping) break;
    (void)ec;
    co_await Sweep(s);
  }
}

}  // namespace

void ThreadSweeper::Start() {
  if (state_->started) return;
  state_->started = true;
  auto s = state_;
  asio::co_spawn(s->executor, Loop(s), [s](std::exception_ptr e) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        observe::Logger("api")->error("thread sweeper escaped: {}", ex.what());
      } catch (...) {
        observe::Logger("api")->error("thread sweeper escaped: unknown exception");
      }
    }
    s->done.set_value();
  });
}

void ThreadSweeper::Stop() {
  if (!state_->started) return;
  state_->started = false;
  auto s = state_;
  asio::dispatch(s->executor, [s] {
    s->stopping = true;
    s->timer.cancel();
  });
  // A sweep in flight finishes its current storage call first; bounded so a stuck backend
  // cannot hang shutdown.
  if (s->done_future.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    observe::Logger("api")->warn("thread sweeper did not stop within 10 s");
  }
}

}  // namespace agentd::api
