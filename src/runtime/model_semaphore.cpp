#include "runtime/model_semaphore.hpp"

#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace agentd::runtime {

namespace asio = boost::asio;

// A concurrent_channel (buffer 1) rather than a timer: Release() may run on another thread,
// and a buffered send cannot be lost even if it happens before the waiter starts receiving.
struct ModelSemaphore::Waiter {
  explicit Waiter(const asio::any_io_executor& executor) : wakeup(executor, 1) {}
  asio::experimental::concurrent_channel<void(boost::system::error_code)> wakeup;
  bool granted = false;  // guarded by ModelSemaphore::mutex_
};

ModelSemaphore::ModelSemaphore(std::size_t limit) : limit_(std::max<std::size_t>(limit, 1)) {}

ModelSemaphore::Permit& ModelSemaphore::Permit::operator=(Permit&& other) noexcept {
  if (this != &other) {
    if (owner_ != nullptr) owner_->Release();
    owner_ = other.owner_;
    other.owner_ = nullptr;
  }
  return *this;
}

ModelSemaphore::Permit::~Permit() {
  if (owner_ != nullptr) owner_->Release();
}

asio::awaitable<Result<ModelSemaphore::Permit>> ModelSemaphore::Acquire() {
  std::shared_ptr<Waiter> waiter;
  {
    std::lock_guard lock(mutex_);
    if (in_use_ < limit_ && waiters_.empty()) {
      ++in_use_;
      co_return Permit(this);
    }
    waiter = std::make_shared<Waiter>(co_await asio::this_coro::executor);
    waiters_.push_back(waiter);
  }
  auto [ec] = co_await waiter->wakeup.async_receive(asio::as_tuple(asio::use_awaitable));
  bool pass_on = false;
  {
    std::lock_guard lock(mutex_);
    if (waiter->granted) {
      if (!ec) co_return Permit(this);
      pass_on = true;  // granted and cancelled at once: the slot is ours to hand on
    } else {
      waiters_.erase(std::find(waiters_.begin(), waiters_.end(), waiter));
    }
  }
  if (pass_on) Release();
  co_return MakeError(Errc::kCancelled, "cancelled while waiting for a model slot");
}

void ModelSemaphore::Release() {
  std::lock_guard lock(mutex_);
  if (waiters_.empty()) {
    --in_use_;
    return;
  }
  // The slot passes to the oldest waiter: in_use_ stays the same.
  auto next = std::move(waiters_.front());
  waiters_.pop_front();
  next->granted = true;
  next->wakeup.try_send(boost::system::error_code{});
}

std::size_t ModelSemaphore::in_use() const {
  std::lock_guard lock(mutex_);
  return in_use_;
}

std::size_t ModelSemaphore::waiting() const {
  std::lock_guard lock(mutex_);
  return waiters_.size();
}

}  // namespace agentd::runtime
