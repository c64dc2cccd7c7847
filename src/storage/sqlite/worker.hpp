#pragma once
// Private to sqlite/: the thread that owns the connection. Callers on any event loop submit a
// job and co_await it; the thread drains every queued job as one batch, runs the batch in one
// transaction with a SAVEPOINT per job (a failing job rolls back only its own writes), COMMITs
// once (group commit), and only then completes each job on its caller's executor: a job is
// reported done once it is durable. The destructor finishes what is queued and joins.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include <boost/asio/awaitable.hpp>

#include "common/error.hpp"
#include "storage/sqlite/db.hpp"

namespace agentd::storage::sqlite {

using JobFn = std::function<Status(Db&)>;

struct WorkerHooks {
  // Called on the storage thread once jobs are waiting, before it takes the batch.
  std::function<void()> before_batch;
  // Called on the storage thread after a batch committed (or failed), with its job count.
  std::function<void(std::size_t)> after_batch;
};

class Worker {
 public:
  // A job waiting for the storage thread; Complete() hands the result back to its caller.
  class Job {
   public:
    virtual ~Job() = default;
    virtual void Complete(Status status) = 0;
    JobFn fn;
  };

  Worker(std::unique_ptr<Db> db, WorkerHooks hooks, std::size_t max_batch);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Runs `fn` on the storage thread inside the current batch's transaction. Results travel
  // through state `fn` captures (by shared_ptr: the caller's frame may be gone if its
  // io_context was destroyed). kUnavailable once the worker is shutting down.
  boost::asio::awaitable<Status> Run(JobFn fn);

  void Enqueue(std::unique_ptr<Job> job);

 private:
  void Loop();
  void RunBatch(std::deque<std::unique_ptr<Job>>& batch);

  std::unique_ptr<Db> db_;
  WorkerHooks hooks_;
  std::size_t max_batch_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Job>> queue_;
  bool stopping_ = false;
  std::thread thread_;  // last: starts after everything above exists
};

}  // namespace agentd::storage::sqlite
