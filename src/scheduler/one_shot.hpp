#pragma once
// OneShot: a thread-safe, one-time broadcast. Set() once from any thread; any number of
// coroutines on any event loops Wait() for it, with or without a bound. Each waiter parks on a
// steady_timer of its own executor, and Set() posts to that executor to release it, so no
// timer is ever touched from a foreign thread.
//
// Releasing works by moving the timer's expiry to the past (expires_at(min)): that cancels a
// wait in progress and also makes a wait that has not started yet complete at once, so there is
// no lost wake-up between registering and awaiting. Cancelling the awaiting coroutine (its
// cancellation slot) ends the wait early; Wait then reports whether the event was set.

#include <chrono>
#include <memory>
#include <mutex>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

namespace agentd::scheduler {

class OneShot {
 public:
  void Set();
  bool is_set() const;
  // Waits until Set() (true) or until `timeout` passes (false).
  boost::asio::awaitable<bool> WaitFor(std::chrono::steady_clock::duration timeout);
  boost::asio::awaitable<void> Wait();

 private:
  mutable std::mutex mutex_;
  bool set_ = false;
  std::vector<std::shared_ptr<boost::asio::steady_timer>> waiters_;
};

}  // namespace agentd::scheduler
