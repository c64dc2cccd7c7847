#include "storage/sqlite/worker.hpp"

#include <unistd.h>

#include <algorithm>
#include <exception>
#include <utility>
#include <vector>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/time.hpp"
#include "observe/log.hpp"
#include "observe/metrics.hpp"

namespace agentd::storage::sqlite {
namespace asio = boost::asio;
namespace {

std::shared_ptr<spdlog::logger> Log() { return observe::Logger("storage"); }

// Holds the caller's completion handler and keeps its executor's work count up, so the
// caller's io_context does not run dry while the job waits on the storage thread.
template <class Handler>
class HandlerJob final : public Worker::Job {
 public:
  explicit HandlerJob(Handler handler)
      : work_(asio::prefer(asio::get_associated_executor(handler),
                           asio::execution::outstanding_work.tracked)),
        handler_(std::move(handler)) {}

  void Complete(Status status) override {
    auto work = std::move(work_);
    asio::post(work, [h = std::move(handler_), s = std::move(status)]() mutable {
      std::move(h)(std::move(s));
    });
  }

 private:
  using Executor = std::decay_t<decltype(asio::prefer(
      std::declval<asio::associated_executor_t<Handler>>(),
      asio::execution::outstanding_work.tracked))>;
  Executor work_;
  Handler handler_;
};

}  // namespace

Worker::Worker(std::unique_ptr<Db> db, WorkerHooks hooks, WorkerOptions options)
    : db_(std::move(db)),
      hooks_(std::move(hooks)),
      max_batch_(options.max_batch ? options.max_batch : 1),
      guard_(std::move(options.guard)),
      check_interval_(options.check_interval.count() > 0 ? options.check_interval
                                                         : std::chrono::milliseconds(1000)),
      failing_gauge_(options.metrics == nullptr
                         ? nullptr
                         : &options.metrics->GetGauge(
                               "agentd_storage_writes_failing",
                               "1 while storage fails or refuses writes (disk full, I/O errors, "
                               "database file lost)")),
      lost_gauge_(options.metrics == nullptr
                      ? nullptr
                      : &options.metrics->GetGauge("agentd_storage_file_lost",
                                                   "1 once the SQLite database file was deleted, "
                                                   "moved or replaced under the server")),
      next_check_(std::chrono::steady_clock::now()),
      thread_([this] { Loop(); }) {}

Worker::~Worker() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

asio::awaitable<Status> Worker::Run(JobFn fn) {
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(Status)>(
      [this](auto handler, JobFn job_fn) {
        auto job = std::make_unique<HandlerJob<decltype(handler)>>(std::move(handler));
        job->fn = std::move(job_fn);
        Enqueue(std::move(job));
      },
      asio::use_awaitable, std::move(fn));
}

void Worker::Enqueue(std::unique_ptr<Job> job) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      queue_.push_back(std::move(job));
      cv_.notify_one();
      return;
    }
  }
  job->Complete(MakeError(Errc::kUnavailable, "sqlite storage is closed"));
}

void Worker::Loop() {
  // The reserve first: without it a full disk would leave runs `running` (file_guard.hpp).
  if (guard_) {
    if (Status reserved = guard_->EnsureReserve(); !reserved) {
      EnterFailing(fmt::format("no room for the reserve ({})", reserved.error().message), false);
    }
  }
  std::deque<std::unique_ptr<Job>> batch;
  while (true) {
    std::unique_lock lock(mu_);
    const bool woken =
        cv_.wait_until(lock, next_check_, [&] { return stopping_ || !queue_.empty(); });
    if (!woken) {
      lock.unlock();
      CheckHealth();
      continue;
    }
    if (queue_.empty()) return;  // stopping, and everything queued has been finished
    if (hooks_.before_batch) {
      lock.unlock();
      hooks_.before_batch();
      lock.lock();
    }
    while (!queue_.empty() && batch.size() < max_batch_) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    lock.unlock();
    std::size_t n = batch.size();
    RunBatch(batch);
    if (hooks_.after_batch) hooks_.after_batch(n);
    // A busy thread checks too: a deleted file must not go unnoticed behind a steady load.
    if (std::chrono::steady_clock::now() >= next_check_) CheckHealth();
  }
}

Status Worker::Commit(bool wrote) {
  // A full disk fails only transactions that write: reads commit nothing.
  if (wrote && hooks_.fail_commit && hooks_.fail_commit()) {
    (void)db_->Exec("ROLLBACK");
    injected_failure_ = true;
    return MakeError(Errc::kUnavailable, "sqlite: database or disk is full (COMMIT, injected)");
  }
  return db_->Run("COMMIT");
}

void Worker::RunBatch(std::deque<std::unique_ptr<Job>>& batch) {
  std::vector<Status> results(batch.size());
  std::vector<char> wrote(batch.size(), 0);
  // The disk refused a write (full, I/O error): SQLite's words, for the log and /ready.
  std::optional<std::string> disk_failure;
  auto note = [&] {
    auto failed = db_->TakeWriteFailure();
    if (std::exchange(injected_failure_, false)) failed = "database or disk is full";
    if (failed && !disk_failure) disk_failure = std::move(failed);
  };
  Status begun = db_->Run("BEGIN IMMEDIATE");
  note();
  if (!begun) {
    for (auto& r : results) r = begun;
  } else {
    // Set when SQLite rolled the whole transaction back by itself (it may on a full disk or
    // an I/O error): then nothing of the batch is kept, whatever the jobs answered.
    std::optional<Error> aborted;
    for (std::size_t i = 0; i < batch.size() && !aborted; ++i) {
      Status sp = db_->Run("SAVEPOINT job");
      if (!sp) {
        results[i] = sp;
        note();
        if (!db_->InTransaction()) aborted = sp.error();
        continue;
      }
      const std::int64_t changes_before = db_->TotalChanges();
      try {
        results[i] = batch[i]->fn(*db_);
      } catch (const std::exception& e) {
        // A bug (or bad_alloc) in one job must not take the storage thread down.
        results[i] = MakeError(Errc::kInternal, std::string("sqlite job threw: ") + e.what());
      }
      note();
      if (!db_->InTransaction()) {
        aborted = results[i]
                      ? MakeError(Errc::kUnavailable, "sqlite: the transaction was rolled back")
                      : results[i].error();
        break;
      }
      if (results[i]) {
        wrote[i] = db_->TotalChanges() != changes_before;
      } else {
        (void)db_->Run("ROLLBACK TO job");
      }
      (void)db_->Run("RELEASE job");
    }
    if (aborted) {
      for (auto& r : results) {
        if (r) r = *aborted;
      }
    } else {
      // Writes into a file nobody will open again are refused, not acknowledged.
      std::string lost;
      const bool any_write = std::any_of(wrote.begin(), wrote.end(), [](char w) { return w; });
      if (state() == WriteState::kLost) {
        std::lock_guard lock(state_mu_);
        lost = reason_;
      } else if (any_write && guard_) {
        lost = guard_->CheckLinked();
        if (!lost.empty()) EnterLost(lost);
      }
      if (!lost.empty()) {
        (void)db_->Exec("ROLLBACK");
        for (std::size_t i = 0; i < batch.size(); ++i) {
          if (wrote[i]) {
            results[i] = MakeError(Errc::kUnavailable, "storage refuses writes: " + lost);
          }
        }
      } else {
        Status committed = Commit(any_write);
        note();
        if (!committed) {
          (void)db_->Exec("ROLLBACK");
          for (auto& r : results) {
            if (r) r = committed;
          }
        }
      }
    }
  }
  (void)db_->TakeWriteFailure();  // the ROLLBACKs above
  if (disk_failure) OnDiskFailure(*disk_failure);
  if (save_lost_file_) SaveLostFile();
  for (std::size_t i = 0; i < batch.size(); ++i) batch[i]->Complete(std::move(results[i]));
  batch.clear();
}

Worker::WriteState Worker::state() const {
  std::lock_guard lock(state_mu_);
  return state_;
}

bool Worker::Writable(std::string* why) const {
  std::lock_guard lock(state_mu_);
  if (state_ == WriteState::kOk) return true;
  if (why != nullptr) {
    if (state_ == WriteState::kLost) {
      *why = reason_ + ": writes are refused until agentd restarts";
    } else {
      auto seconds = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::steady_clock::now() - failing_since_)
                         .count();
      std::string until = guard_ && guard_->reserve_bytes() > 0
                              ? fmt::format("its {}-byte reserve can be allocated again and a test "
                                            "write commits",
                                            guard_->reserve_bytes())
                              : std::string("a test write commits");
      *why = fmt::format("{} since {} s; ready again once {}", reason_, seconds, until);
    }
  }
  return false;
}

void Worker::CheckHealth() {
  next_check_ = std::chrono::steady_clock::now() + check_interval_;
  const WriteState current = state();
  if (current == WriteState::kLost) return;
  if (guard_) {
    if (std::string lost = guard_->CheckLinked(); !lost.empty()) {
      EnterLost(lost);
      SaveLostFile();
      return;
    }
  }
  if (current != WriteState::kFailing) return;
  // The test write first: while it fails, the reserve stays free for the runs recording their
  // end. Then the reserve: its space must be there too (a write alone may fit in old WAL pages).
  if (!ProbeWrite()) return;
  if (guard_ && !guard_->EnsureReserve()) return;
  EnterOk();
}

Status Worker::ProbeWrite() {
  Status st = db_->Run("BEGIN IMMEDIATE");
  if (st) {
    st = db_->Run(
        "INSERT INTO health_probe (id, probed_at) VALUES (1, ?1) "
        "ON CONFLICT (id) DO UPDATE SET probed_at = excluded.probed_at",
        static_cast<std::int64_t>(NowMs()));
    if (st) {
      st = Commit(true);
    } else {
      (void)db_->Exec("ROLLBACK");
    }
  }
  (void)db_->TakeWriteFailure();  // still failing: nothing new to report
  injected_failure_ = false;
  return st;
}

void Worker::OnDiskFailure(const std::string& reason) {
  // Released on every such failure, not only the first: a probe may have made it again.
  const bool released = guard_ && guard_->ReleaseReserve();
  EnterFailing(fmt::format("writes fail ({})", reason), released);
}

void Worker::EnterFailing(const std::string& reason, bool released) {
  {
    std::lock_guard lock(state_mu_);
    if (state_ != WriteState::kOk) return;
    state_ = WriteState::kFailing;
    reason_ = reason;
    failing_since_ = std::chrono::steady_clock::now();
  }
  if (failing_gauge_ != nullptr) failing_gauge_->Set(1);
  Log()->error(
      "sqlite {} path={}; /ready fails meanwhile{}", reason,
      guard_ ? guard_->path() : std::string("?"),
      released ? fmt::format("; released the {}-byte reserve {} so that running work can "
                             "record how it ended",
                             guard_->reserve_bytes(), guard_->reserve_path())
               : std::string());
}

void Worker::EnterOk() {
  std::chrono::steady_clock::duration failed_for{};
  {
    std::lock_guard lock(state_mu_);
    if (state_ != WriteState::kFailing) return;
    state_ = WriteState::kOk;
    failed_for = std::chrono::steady_clock::now() - failing_since_;
    reason_.clear();
  }
  if (failing_gauge_ != nullptr) failing_gauge_->Set(0);
  Log()->warn("sqlite writes work again path={} outage_ms={}{}",
              guard_ ? guard_->path() : std::string("?"),
              std::chrono::duration_cast<std::chrono::milliseconds>(failed_for).count(),
              guard_ && guard_->reserve_held() ? "; reserve restored" : "");
}

void Worker::EnterLost(const std::string& reason) {
  {
    std::lock_guard lock(state_mu_);
    if (state_ == WriteState::kLost) return;
    state_ = WriteState::kLost;
    reason_ = reason;
  }
  if (failing_gauge_ != nullptr) failing_gauge_->Set(1);
  if (lost_gauge_ != nullptr) lost_gauge_->Set(1);
  save_lost_file_ = true;
  Log()->error(
      "{}: agentd refuses every write from now on (503) and /ready fails. The data is still "
      "readable until agentd exits: copy /proc/{}/fd/{} to keep it (the WAL is merged into it "
      "now), then restart agentd, which opens {}",
      reason, ::getpid(), guard_ ? guard_->fd() : -1,
      guard_ ? guard_->path() : std::string("the database"));
}

void Worker::SaveLostFile() {
  if (!save_lost_file_) return;
  save_lost_file_ = false;
  if (Status st = db_->Exec("PRAGMA wal_checkpoint(TRUNCATE)"); !st) {
    Log()->warn("sqlite: merging the WAL into the lost database file failed: {}",
                st.error().message);
  }
  (void)db_->TakeWriteFailure();
}

}  // namespace agentd::storage::sqlite
