#pragma once
// A parked Next(): the type-erased completion handler of one wait (Boost 1.81 has no
// any_completion_handler). Complete() posts to the handler's own executor, never inline, so
// the code that wakes it (an appender, the shared Redis reader, a broadcast delivery) never
// runs subscriber code and holds no lock while it runs. Shared by the bus backends and
// broadcast/, whose subscriptions park the same way.

#include <memory>
#include <utility>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/system/error_code.hpp>

namespace agentd::bus {

class Waiter {
 public:
  virtual ~Waiter() = default;
  virtual void Complete(boost::system::error_code ec) = 0;
};

template <class Handler>
class WaiterImpl final : public Waiter {
 public:
  explicit WaiterImpl(Handler handler)
      : handler_(std::move(handler)),
        // A parked wait keeps the subscriber's io_context running, as any Asio operation would.
        work_(boost::asio::prefer(boost::asio::get_associated_executor(handler_),
                                  boost::asio::execution::outstanding_work.tracked)) {}

  void Complete(boost::system::error_code ec) override {
    auto executor = boost::asio::get_associated_executor(handler_);
    boost::asio::post(executor,
                      [handler = std::move(handler_), work = std::move(work_), ec]() mutable {
                        // The slot's handler may only be removed on the subscriber's executor.
                        boost::asio::get_associated_cancellation_slot(handler).clear();
                        std::move(handler)(ec);
                      });
  }

 private:
  Handler handler_;
  decltype(boost::asio::prefer(
      std::declval<boost::asio::associated_executor_t<Handler>>(),
      boost::asio::execution::outstanding_work.tracked)) work_;
};

}  // namespace agentd::bus
