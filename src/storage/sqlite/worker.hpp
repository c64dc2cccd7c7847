#pragma once
// Private to sqlite/: the thread that owns the connection. Callers on any event loop submit a
// job and co_await it; the thread drains every queued job as one batch, runs the batch in one
// transaction with a SAVEPOINT per job (a failing job rolls back only its own writes), COMMITs
// once (group commit), and only then completes each job on its caller's executor: a job is
// reported done once it is durable. The destructor finishes what is queued and joins.
//
// Write health (Writable(), for /ready), kept by the same thread:
// - ok: writes commit.
// - failing: a write failed because the disk refused it (full, I/O error, read-only). The
//   reserve (file_guard.hpp) is deleted at once, so that what runs can still record its end;
//   writes are still attempted. Every check_interval the thread commits a test write (table
//   health_probe) and, once that works, recreates the reserve; then storage is ok again.
// - lost: the database file is no longer the one at its path (deleted with its directory,
//   moved, replaced), found by a check before every COMMIT that wrote something and every
//   check_interval. Batches that wrote are rolled back and their jobs fail kUnavailable
//   ("storage refuses writes: ..."); reads still answer from the open file. Until restart.
// Each change of state is logged once (error level when writes stop working) and shown by the
// gauges agentd_storage_writes_failing and agentd_storage_file_lost.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <boost/asio/awaitable.hpp>

#include "common/error.hpp"
#include "storage/sqlite/db.hpp"
#include "storage/sqlite/file_guard.hpp"

namespace agentd::observe {
class Gauge;
class Metrics;
}  // namespace agentd::observe

namespace agentd::storage::sqlite {

using JobFn = std::function<Status(Db&)>;

struct WorkerHooks {
  // Called on the storage thread once jobs are waiting, before it takes the batch.
  std::function<void()> before_batch;
  // Called on the storage thread after a batch committed (or failed), with its job count.
  std::function<void(std::size_t)> after_batch;
  // Asked before each COMMIT that writes (a batch's or the health probe's): true fails it as a
  // full disk would, rolled back. Tests use it to fill the "disk" without a small filesystem.
  std::function<bool()> fail_commit;
};

struct WorkerOptions {
  std::size_t max_batch = 256;
  // Watches the database file and holds the reserve; null when there is no file to watch.
  std::unique_ptr<FileGuard> guard;
  // How often the thread checks the file and, while writes fail, probes (also when busy).
  std::chrono::milliseconds check_interval{1000};
  // Where the health gauges go; may be null.
  observe::Metrics* metrics = nullptr;
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

  Worker(std::unique_ptr<Db> db, WorkerHooks hooks, WorkerOptions options);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Runs `fn` on the storage thread inside the current batch's transaction. Results travel
  // through state `fn` captures (by shared_ptr: the caller's frame may be gone if its
  // io_context was destroyed). kUnavailable once the worker is shutting down, and for a job
  // that wrote while the database file is lost.
  boost::asio::awaitable<Status> Run(JobFn fn);

  void Enqueue(std::unique_ptr<Job> job);

  // False, with `why` set, while writes fail or the file is lost (see above). Thread-safe.
  bool Writable(std::string* why) const;

 private:
  enum class WriteState { kOk, kFailing, kLost };

  void Loop();
  void RunBatch(std::deque<std::unique_ptr<Job>>& batch);
  // COMMIT; `wrote`: the transaction changed something (only such a COMMIT can be failed by
  // the fail_commit hook).
  Status Commit(bool wrote);
  // The periodic check: the file's identity; while failing, the reserve and a test write.
  void CheckHealth();
  Status ProbeWrite();
  WriteState state() const;
  // A write the disk refused: the reserve goes (again), and the state becomes failing.
  void OnDiskFailure(const std::string& reason);
  void EnterFailing(const std::string& reason, bool released_reserve);
  void EnterOk();
  void EnterLost(const std::string& reason);
  // Moves what the WAL holds into the (deleted) main file, so that a copy of the open file
  // (/proc/<pid>/fd/<n>) has everything. Outside any transaction.
  void SaveLostFile();

  std::unique_ptr<Db> db_;
  WorkerHooks hooks_;
  std::size_t max_batch_;
  std::unique_ptr<FileGuard> guard_;
  std::chrono::milliseconds check_interval_;
  observe::Gauge* failing_gauge_ = nullptr;
  observe::Gauge* lost_gauge_ = nullptr;
  std::chrono::steady_clock::time_point next_check_;  // storage thread only
  bool save_lost_file_ = false;                        // storage thread only
  bool injected_failure_ = false;                      // storage thread only (fail_commit)

  mutable std::mutex state_mu_;
  WriteState state_ = WriteState::kOk;
  std::string reason_;
  std::chrono::steady_clock::time_point failing_since_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Job>> queue_;
  bool stopping_ = false;
  std::thread thread_;  // last: starts after everything above exists
};

}  // namespace agentd::storage::sqlite
