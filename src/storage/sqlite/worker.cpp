#include "storage/sqlite/worker.hpp"

#include <exception>
#include <utility>
#include <vector>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace agentd::storage::sqlite {
namespace asio = boost::asio;
namespace {

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

Worker::Worker(std::unique_ptr<Db> db, WorkerHooks hooks, std::size_t max_batch)
    : db_(std::move(db)), hooks_(std::move(hooks)), max_batch_(max_batch ? max_batch : 1),
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
  std::deque<std::unique_ptr<Job>> batch;
  while (true) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
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
  }
}

void Worker::RunBatch(std::deque<std::unique_ptr<Job>>& batch) {
  std::vector<Status> results(batch.size());
  Status begun = db_->Run("BEGIN IMMEDIATE");
  if (begun) {
    for (std::size_t i = 0; i < batch.size(); ++i) {
      Status sp = db_->Run("SAVEPOINT job");
      if (!sp) {
        results[i] = sp;
        continue;
      }
      try {
        results[i] = batch[i]->fn(*db_);
      } catch (const std::exception& e) {
        // A bug (or bad_alloc) in one job must not take the storage thread down.
        results[i] = MakeError(Errc::kInternal, std::string("sqlite job threw: ") + e.what());
      }
      if (!results[i]) (void)db_->Run("ROLLBACK TO job");
      (void)db_->Run("RELEASE job");
    }
    Status committed = db_->Run("COMMIT");
    if (!committed) {
      (void)db_->Exec("ROLLBACK");
      for (auto& r : results) {
        if (r) r = committed;
      }
    }
  } else {
    for (auto& r : results) r = begun;
  }
  for (std::size_t i = 0; i < batch.size(); ++i) batch[i]->Complete(std::move(results[i]));
  batch.clear();
}

}  // namespace agentd::storage::sqlite
