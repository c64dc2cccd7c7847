#pragma once
// ModelSemaphore: the per-model concurrency limit (config models[].max_concurrency) as an
// async semaphore with a FIFO waiter queue. Callers over the limit queue (they never fail for
// being over it); a queued caller whose coroutine is cancelled (terminal cancellation through
// its cancellation slot) leaves the queue with kCancelled. A Permit releases on destruction,
// handing its slot straight to the oldest waiter.
//
// Threading: Acquire() may be called from any event loop at once; each waiter resumes on its
// own executor. Permits may be released from any thread.

#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>

#include <boost/asio/awaitable.hpp>

#include "common/error.hpp"

namespace agentd::runtime {

class ModelSemaphore {
 public:
  explicit ModelSemaphore(std::size_t limit);  // limit 0 is treated as 1
  ModelSemaphore(const ModelSemaphore&) = delete;
  ModelSemaphore& operator=(const ModelSemaphore&) = delete;

  class Permit {
   public:
    Permit() = default;
    explicit Permit(ModelSemaphore* owner) : owner_(owner) {}
    Permit(Permit&& other) noexcept : owner_(other.owner_) { other.owner_ = nullptr; }
    Permit& operator=(Permit&& other) noexcept;
    ~Permit();

   private:
    ModelSemaphore* owner_ = nullptr;
  };

  // A permit, after queueing behind earlier callers if the limit is reached.
  // Errors: kCancelled when the caller was cancelled while queued.
  boost::asio::awaitable<Result<Permit>> Acquire();

  std::size_t in_use() const;
  std::size_t waiting() const;

 private:
  struct Waiter;
  void Release();

  mutable std::mutex mutex_;
  const std::size_t limit_;
  std::size_t in_use_ = 0;
  std::deque<std::shared_ptr<Waiter>> waiters_;
};

}  // namespace agentd::runtime
