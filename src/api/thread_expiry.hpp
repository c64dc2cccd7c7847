#pragma once
// Thread TTL, visible and explicit (issue "Never hang, never lose").
//
// Visible: every route whose path names a {thread_id} is wrapped (handlers.hpp Route ->
// Guarded) so that, after auth, a thread whose expires_at has passed answers 404
// "Thread <id> expired at <ISO time>" before its handler runs. This is the one place the check
// lives; handlers never repeat it. Listings (search, count) leave expired threads out in
// storage (ThreadStore::Search/Count).
//
// Explicit: ThreadSweeper deletes expired threads (with their runs and checkpoints) every
// `interval`, skipping any thread with an active run, logging one line per thread and counting
// agentd_threads_expired_total. Start() and Stop() are called from one non-loop thread;
// Stop() waits for the sweep coroutine, so it must run before storage closes.

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

// "Thread <id> expired at <ISO time>".
std::string ThreadExpiredText(const std::string& thread_id, TimestampMs expired_at);

struct ThreadSweeperOptions {
  std::chrono::milliseconds interval{std::chrono::seconds(60)};
  std::int64_t batch = 100;  // threads deleted per sweep at most
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
  // One sweep now, on the caller's executor; the number of threads deleted.
  boost::asio::awaitable<std::int64_t> SweepOnce();

  struct State;  // defined in the .cpp; shared with the sweep coroutine

 private:
  std::shared_ptr<State> state_;
};

}  // namespace agentd::api
