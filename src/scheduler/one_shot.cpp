#include "scheduler/one_shot.hpp"

#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace agentd::scheduler {

namespace asio = boost::asio;

void OneShot::Set() {
  std::vector<std::shared_ptr<asio::steady_timer>> waiters;
  {
    std::lock_guard lock(mutex_);
    if (set_) return;
    set_ = true;
    waiters.swap(waiters_);
  }
  for (auto& timer : waiters) {
    asio::post(timer->get_executor(),
               [timer] { timer->expires_at(asio::steady_timer::time_point::min()); });
  }
}

bool OneShot::is_set() const {
  std::lock_guard lock(mutex_);
  return set_;
}

asio::awaitable<bool> OneShot::WaitFor(std::chrono::steady_clock::duration timeout) {
  auto executor = co_await asio::this_coro::executor;
  auto timer = std::make_shared<asio::steady_timer>(executor, timeout);
  {
    std::lock_guard lock(mutex_);
    if (set_) co_return true;
    waiters_.push_back(timer);
  }
  co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
  std::lock_guard lock(mutex_);
  std::erase(waiters_, timer);
  co_return set_;
}

asio::awaitable<void> OneShot::Wait() {
  // A day at a time: the loop only matters for a process that waits that long.
  while (!co_await WaitFor(std::chrono::hours(24))) {
    auto state = co_await asio::this_coro::cancellation_state;
    if (state.cancelled() != asio::cancellation_type::none) co_return;
  }
}

}  // namespace agentd::scheduler
