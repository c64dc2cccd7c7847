#include "broadcast/detail/subscription.hpp"

#include <optional>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

namespace agentd::broadcast::detail {

namespace asio = boost::asio;
using boost::system::error_code;
using Frames = std::vector<bus::Frame>;

namespace {

bool ReadyLocked(const Subscriber& s) { return s.cut || s.ended || !s.queue.empty(); }

// What Next() returns now, or nullopt when it has to wait. Caller holds channel.mu.
std::optional<Result<Frames>> TryTakeLocked(Hub::Core& core, Subscriber& s) {
  if (s.cut) {
    return Result<Frames>(Error(
        Errc::kResourceExhausted,
        fmt::format("subscriber fell behind: more than {} messages queued", core.options.queue_limit)));
  }
  if (!s.queue.empty()) {
    Frames frames(std::make_move_iterator(s.queue.begin()), std::make_move_iterator(s.queue.end()));
    s.queue.clear();
    core.metrics.delivered.Inc(frames.size());
    return Result<Frames>(std::move(frames));
  }
  if (s.ended) return Result<Frames>(Frames{});
  return std::nullopt;
}

// Completes with success once `sub` has something to take, or with operation_aborted when the
// wait is cancelled or the subscription destroyed.
template <class Token>
auto AsyncWaitReady(std::shared_ptr<Channel> channel, std::shared_ptr<Subscriber> sub,
                    Token&& token) {
  return asio::async_initiate<Token, void(error_code)>(
      [channel = std::move(channel), sub = std::move(sub)](auto handler) {
        using Handler = decltype(handler);
        std::unique_lock lock(channel->mu);
        if (ReadyLocked(*sub)) {
          lock.unlock();
          WaiterImpl<Handler>(std::move(handler)).Complete({});
          return;
        }
        auto slot = asio::get_associated_cancellation_slot(handler);
        if (slot.is_connected()) {
          slot.assign([weak_channel = std::weak_ptr<Channel>(channel),
                       weak_sub = std::weak_ptr<Subscriber>(sub)](asio::cancellation_type) {
            auto c = weak_channel.lock();
            auto s = weak_sub.lock();
            if (!c || !s) return;
            std::unique_ptr<Waiter> waiter;
            {
              std::lock_guard guard(c->mu);
              waiter = std::move(s->waiter);
            }
            // Null: a delivery already woke it; Next() sees the cancellation when it resumes.
            if (waiter) waiter->Complete(asio::error::operation_aborted);
          });
        }
        sub->waiter = std::make_unique<WaiterImpl<Handler>>(std::move(handler));
      },
      token);
}

Error CancelledError() { return Error(Errc::kCancelled, "broadcast wait cancelled"); }

// A free coroutine holding the shared state by value: the Subscription may be destroyed while
// this is parked (it then completes with kCancelled) without leaving a dangling `this`.
asio::awaitable<Result<Frames>> NextFrames(std::shared_ptr<Hub::Core> core,
                                           std::shared_ptr<Channel> channel,
                                           std::shared_ptr<Subscriber> sub) {
  for (;;) {
    {
      std::lock_guard lock(channel->mu);
      if (auto taken = TryTakeLocked(*core, *sub)) co_return std::move(*taken);
    }
    // Checked before parking: awaiting an operation after cancellation would throw instead.
    auto cs = co_await asio::this_coro::cancellation_state;
    if (cs.cancelled() != asio::cancellation_type::none) co_return CancelledError();
    auto [ec] = co_await AsyncWaitReady(channel, sub, asio::as_tuple(asio::use_awaitable));
    cs = co_await asio::this_coro::cancellation_state;
    if (ec || cs.cancelled() != asio::cancellation_type::none) co_return CancelledError();
  }
}

class HubSubscription final : public bus::Subscription {
 public:
  HubSubscription(std::shared_ptr<Hub::Core> core, std::shared_ptr<Channel> channel,
                  std::shared_ptr<Subscriber> sub)
      : core_(std::move(core)), channel_(std::move(channel)), sub_(std::move(sub)) {}
  ~HubSubscription() override { core_->Leave(channel_, sub_); }

  asio::awaitable<Result<Frames>> Next() override { return NextFrames(core_, channel_, sub_); }

 private:
  std::shared_ptr<Hub::Core> core_;
  std::shared_ptr<Channel> channel_;
  std::shared_ptr<Subscriber> sub_;
};

}  // namespace

std::unique_ptr<bus::Subscription> MakeSubscription(std::shared_ptr<Hub::Core> core,
                                                    std::shared_ptr<Channel> channel,
                                                    std::shared_ptr<Subscriber> subscriber) {
  return std::make_unique<HubSubscription>(std::move(core), std::move(channel),
                                           std::move(subscriber));
}

}  // namespace agentd::broadcast::detail
