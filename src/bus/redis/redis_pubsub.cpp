#include "bus/redis/redis_pubsub.hpp"

#include <string>
#include <utility>
#include <vector>

#include "bus/detail/local_fanout.hpp"
#include "bus/redis/detail/connection.hpp"
#include "bus/redis/detail/redis_url.hpp"
#include "bus/redis/detail/sync_client.hpp"
#include "observe/metrics.hpp"

namespace agentd::bus::redis {

namespace {

namespace asio = boost::asio;
using detail::Connection;
using detail::Reply;

class RedisPubSub final : public PubSub {
 public:
  RedisPubSub(RedisOptions options, std::shared_ptr<Connection> subscriber,
              std::shared_ptr<Connection> publisher, std::shared_ptr<bus::detail::LocalFanout> fanout,
              observe::Counter* publish_failed)
      : options_(std::move(options)),
        subscriber_(std::move(subscriber)),
        publisher_(std::move(publisher)),
        fanout_(std::move(fanout)),
        publish_failed_(publish_failed) {}

  ~RedisPubSub() override {
    subscriber_->Stop();
    publisher_->Stop();
  }

  asio::awaitable<Status> Publish(std::string channel, std::string payload) override {
    std::vector<std::string> args = {"PUBLISH", options_.key_prefix + "ps:" + channel,
                                     std::move(payload)};
    auto reply = co_await publisher_->Command(std::move(args), options_.command_timeout);
    if (!reply) {
      if (publish_failed_ != nullptr) publish_failed_->Inc();
      if (reply.error().code == Errc::kTimeout || reply.error().code == Errc::kUnavailable) {
        co_return Error(Errc::kUnavailable, reply.error().message);
      }
      co_return reply.error();
    }
    co_return Status{};
  }

  std::unique_ptr<PubSubListener> Listen(std::string channel, Handler handler) override {
    return fanout_->Listen(std::move(channel), std::move(handler));
  }

  bool healthy() const override { return subscriber_->connected() && publisher_->connected(); }

 private:
  const RedisOptions options_;
  const std::shared_ptr<Connection> subscriber_;
  const std::shared_ptr<Connection> publisher_;
  const std::shared_ptr<bus::detail::LocalFanout> fanout_;
  observe::Counter* const publish_failed_;
};

}  // namespace

Result<std::unique_ptr<PubSub>> MakeRedisPubSub(RedisOptions options,
                                                asio::any_io_executor executor,
                                                observe::Metrics* metrics) {
  auto endpoint = detail::ParseRedisUrl(options.url);
  if (!endpoint) return endpoint.error();
  {
    // Startup only: one blocking PING on a throwaway link, so a bad url fails fast.
    detail::SyncClient probe(*endpoint, options.connect_timeout);
    if (auto pong = probe.Command({"PING"}); !pong) {
      return Error(Errc::kUnavailable, "redis at " + options.url + ": " + pong.error().message);
    }
  }
  observe::Counter* publish_failed = nullptr;
  observe::Counter* received = nullptr;
  if (metrics != nullptr) {
    publish_failed = &metrics->GetCounter("agentd_pubsub_publish_failed_total",
                                          "Pub/sub messages that could not be published");
    received = &metrics->GetCounter("agentd_pubsub_received_total",
                                    "Pub/sub messages received from Redis by this process");
  }
  detail::ConnectionOptions conn{options.connect_timeout, options.reconnect_backoff_min,
                                 options.reconnect_backoff_max};
  auto subscriber = Connection::Make(executor, *endpoint, conn, "pubsub-subscriber");
  auto publisher = Connection::Make(executor, *endpoint, conn, "pubsub-publisher");
  const std::string prefix = options.key_prefix + "ps:";

  // Subscribe / unsubscribe are queued under the fanout's lock, in decision order.
  auto fanout = std::make_shared<bus::detail::LocalFanout>(
      executor,
      [subscriber, prefix](const std::string& channel) {
        subscriber->SendSubscribe({"SUBSCRIBE", prefix + channel});
      },
      [subscriber, prefix](const std::string& channel) {
        subscriber->SendSubscribe({"UNSUBSCRIBE", prefix + channel});
      });
  std::weak_ptr<bus::detail::LocalFanout> weak_fanout = fanout;
  subscriber->SetPushHandler([weak_fanout, prefix, received](const Reply& reply) {
    // ["message", channel, payload]; subscribe / unsubscribe confirmations are ignored.
    if (!reply.is_array() || reply.elements.size() != 3 || reply.elements[0].str != "message") {
      return;
    }
    const std::string& full = reply.elements[1].str;
    if (full.compare(0, prefix.size(), prefix) != 0) return;
    auto fanout = weak_fanout.lock();
    if (!fanout) return;
    if (received != nullptr) received->Inc();
    fanout->Deliver(full.substr(prefix.size()), reply.elements[2].str);
  });
  // Runs on the subscriber's strand once its link is up (first connect and every reconnect).
  Connection* raw_subscriber = subscriber.get();  // the hook is owned by that connection
  subscriber->SetConnectedHook([weak_fanout, prefix, raw_subscriber] {
    auto fanout = weak_fanout.lock();
    if (!fanout) return;
    std::vector<std::string> args = {"SUBSCRIBE"};
    for (const auto& channel : fanout->Channels()) args.push_back(prefix + channel);
    if (args.size() > 1) raw_subscriber->SendSubscribe(std::move(args));
  });
  subscriber->Start();
  publisher->Start();
  return std::unique_ptr<PubSub>(std::make_unique<RedisPubSub>(
      std::move(options), std::move(subscriber), std::move(publisher), std::move(fanout),
      publish_failed));
}

}  // namespace agentd::bus::redis
