#include "bus/inproc/inproc_pubsub.hpp"

#include <utility>

#include "bus/detail/local_fanout.hpp"

namespace agentd::bus::inproc {

namespace {

class InprocPubSub final : public PubSub {
 public:
  explicit InprocPubSub(boost::asio::any_io_executor executor)
      : fanout_(std::make_shared<detail::LocalFanout>(std::move(executor), nullptr, nullptr)) {}

  boost::asio::awaitable<Status> Publish(std::string channel, std::string payload) override {
    fanout_->Deliver(std::move(channel), std::move(payload));
    co_return Status{};
  }

  std::unique_ptr<PubSubListener> Listen(std::string channel, Handler handler) override {
    return fanout_->Listen(std::move(channel), std::move(handler));
  }

  bool healthy() const override { return true; }

 private:
  std::shared_ptr<detail::LocalFanout> fanout_;
};

}  // namespace

std::unique_ptr<PubSub> MakeInprocPubSub(boost::asio::any_io_executor executor) {
  return std::make_unique<InprocPubSub>(std::move(executor));
}

}  // namespace agentd::bus::inproc
