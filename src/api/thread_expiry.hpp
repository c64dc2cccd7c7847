#pragma once
// Thread and assistant TTL, visible and explicit (issue "Never hang, never lose").
//
// Visible: storage reads an expired thread or assistant as kNotFound "Thread <id> expired at
// <ISO time>" / "Assistant <id> expired at <ISO time>" (storage.hpp, query.hpp ExpiredError),
// which Reword keeps, so the handler's own read answers 404 with the reason. Routes whose
// handler does not read the thread first (PATCH, runs list/get/join/stream/cancel/delete) are
// registered with ThreadTtl::kGate and get IfThreadLive after auth: still one thread read per
// request. Listings (search, count) leave expired objects out in storage.
//
// Explicit: ThreadSweeper deletes expired threads (with their runs and checkpoints) and expired
// assistants (with their versions) every `interval`, skipping a thread with an active run
// (RunManager) and an assistant with a pending or running run (storage), logging one line per
// object and counting agentd_threads_expired_total / agentd_assistants_expired_total.
// Start() and Stop() are called from one non-loop thread; Stop() waits for the sweep
// coroutine, so it must run before storage closes.

#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "api/handlers.hpp"
#include "observe/metrics.hpp"
#include "scheduler/run_manager.hpp"
#include "storage/clock.hpp"
#include "storage/storage.hpp"

namespace agentd::api {

namespace detail {
// Runs `fn` unless the path's thread exists for this tenant and has expired (then 404 with the
// reason). A missing thread or a non-UUID id is left to `fn`, which owns those answers.
Reply IfThreadLive(ApiContext& ctx, Request& request, HandlerFn fn);
}  // namespace detail

struct ThreadSweeperOptions {
  std::chrono::milliseconds interval{std::chrono::seconds(60)};  // thread_sweep_interval_ms
  std::int64_t batch = 100;  // threads, and assistants, deleted per sweep at most
  storage::Clock clock;      // empty: NowMs()
};

class ThreadSweeper {
 public:
  // `runs` may be null (no scheduler: no thread is active). All references outlive the sweeper.
  ThreadSweeper(boost::asio::any_io_executor executor, storage::Storage& storage,
                scheduler::RunManager* runs, observe::Metrics& metrics,
                ThreadSweeperOptions options = {});
  ~ThreadSweeper();
  ThreadSweeper(const ThreadSweeper&) = delete;
  ThreadSweeper& operator=(const ThreadSweeper&) = delete;

  void Start();
  // Cancels the timer and waits (bounded, 10 s) until the sweep coroutine has finished.
  void Stop();
  // One sweep now, on the caller's executor; the number of threads and assistants deleted.
  boost::asio::awaitable<std::int64_t> SweepOnce();

  struct State;  // defined in the .cpp; shared with the sweep coroutine

 private:
  std::shared_ptr<State> state_;
};

}  // namespace agentd::api
