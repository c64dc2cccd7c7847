#include "broadcast/hub.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include <boost/asio/error.hpp>
#include <boost/json/object.hpp>
#include <fmt/format.h>

#include "broadcast/detail/core.hpp"
#include "broadcast/detail/subscription.hpp"
#include "common/json.hpp"
#include "common/uuid.hpp"
#include "observe/log.hpp"

namespace agentd::broadcast {

namespace asio = boost::asio;
using detail::Channel;
using detail::Subscriber;
using detail::Waiter;

namespace detail {

Metrics::Metrics(observe::Metrics& m)
    : subscribers(m.GetGauge("agentd_broadcast_subscribers",
                             "Broadcast channel subscribers connected to this process")),
      channels(m.GetGauge("agentd_broadcast_channels",
                          "Broadcast channels this process listens to (one bus topic each)")),
      published(m.GetCounter("agentd_broadcast_published_total",
                             "Broadcast messages accepted by the bus from this process")),
      publish_failures(m.GetCounter("agentd_broadcast_publish_failures_total",
                                    "Broadcast publishes refused because the bus was down")),
      delivered(m.GetCounter("agentd_broadcast_messages_delivered_total",
                             "Broadcast messages handed to a local subscriber's connection")),
      dropped(m.GetCounter("agentd_broadcast_messages_dropped_total",
                           "Broadcast messages discarded from the queue of a cut subscriber")),
      cut(m.GetCounter("agentd_broadcast_subscribers_cut_total",
                       "Broadcast subscribers cut for falling behind their queue limit")),
      malformed(m.GetCounter("agentd_broadcast_malformed_total",
                             "Bus payloads on a broadcast topic that were not a message")) {}

}  // namespace detail

bool IsValidChannelName(std::string_view name) {
  if (name.empty() || name.size() > kMaxChannelNameLength) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-' || c == ':';
  });
}

void Hub::Core::Deliver(const std::shared_ptr<Channel>& channel, std::string_view payload) {
  // The payload reaches SSE clients inside one `data:` line: a line break would let another
  // publisher on the bus forge frames. Our own encoder never writes one (compact JSON).
  if (payload.empty() || payload.front() != '{' ||
      payload.find_first_of("\r\n") != std::string_view::npos) {
    metrics.malformed.Inc();
    static observe::RateLimit limit(std::chrono::seconds(10));
    observe::WarnLimited(limit, *observe::Logger("broadcast"),
                         "dropping malformed bus payload topic={} bytes={}", channel->topic,
                         payload.size());
    return;
  }
  // Built at most once per format, whatever the number of subscribers.
  bus::Frame json_frame, sse_frame;
  std::vector<std::unique_ptr<Waiter>> woken;
  std::size_t cut_now = 0;
  {
    std::lock_guard lock(channel->mu);
    for (auto& sub : channel->subscribers) {
      if (sub->cut || sub->ended) continue;
      if (sub->queue.size() >= options.queue_limit) {
        sub->cut = true;
        metrics.dropped.Inc(sub->queue.size() + 1);
        sub->queue.clear();
        ++cut_now;
      } else if (sub->format == Format::kJson) {
        if (!json_frame) json_frame = std::make_shared<const std::string>(payload);
        sub->queue.push_back(json_frame);
      } else {
        if (!sse_frame) {
          sse_frame = std::make_shared<const std::string>(
              fmt::format("event: message\ndata: {}\n\n", payload));
        }
        sub->queue.push_back(sse_frame);
      }
      if (sub->waiter) woken.push_back(std::move(sub->waiter));
    }
  }
  if (cut_now > 0) {
    metrics.cut.Inc(cut_now);
    observe::Logger("broadcast")
        ->info("cut subscribers that fell behind channel={} count={} queue_limit={}",
               channel->key, cut_now, options.queue_limit);
  }
  for (auto& w : woken) w->Complete({});
}

void Hub::Core::Leave(const std::shared_ptr<Channel>& channel,
                      const std::shared_ptr<Subscriber>& subscriber) {
  std::unique_ptr<Waiter> waiter;
  std::unique_ptr<bus::PubSubListener> listener;
  {
    std::lock_guard lock(mu);
    bool empty = false;
    {
      std::lock_guard channel_lock(channel->mu);
      std::erase(channel->subscribers, subscriber);
      waiter = std::move(subscriber->waiter);
      empty = channel->subscribers.empty();
    }
    --subscriber_count;
    metrics.subscribers.Add(-1);
    if (empty) {
      auto it = channels.find(channel->key);
      if (it != channels.end() && it->second == channel) {
        channels.erase(it);
        metrics.channels.Add(-1);
      }
      listener = std::move(channel->listener);
    }
  }
  if (waiter) waiter->Complete(asio::error::operation_aborted);
  // Destroyed with no lock held: it may wait for a handler that is delivering right now.
  listener.reset();
}

Hub::Hub(bus::PubSub& pubsub, observe::Metrics& metrics, HubOptions options)
    : core_(std::make_shared<Core>(pubsub, metrics, std::move(options))) {}

Hub::~Hub() { Close(); }

asio::awaitable<Result<std::string>> Hub::Publish(std::string tenant, std::string name,
                                                  boost::json::value data) {
  if (!IsValidChannelName(name)) {
    co_return Error(Errc::kInvalidArgument, "invalid channel name");
  }
  {
    std::lock_guard lock(core_->mu);
    if (core_->closed) co_return Error(Errc::kUnavailable, "broadcast is shutting down");
  }
  std::string id = NewUuid7();
  boost::json::object message{{"channel", name}, {"id", id}, {"data", std::move(data)}};
  std::string payload = ToJson(message);
  if (payload.size() > core_->options.max_message_bytes) {
    co_return Error(Errc::kInvalidArgument,
                    fmt::format("message exceeds {} bytes", core_->options.max_message_bytes));
  }
  std::string topic = core_->options.topic_prefix + tenant + "/" + name;
  // `core_` stays alive with the Hub, which outlives every handler awaiting this.
  Status sent = co_await core_->pubsub.Publish(std::move(topic), std::move(payload));
  if (!sent) {
    core_->metrics.publish_failures.Inc();
    co_return Error(Errc::kUnavailable, "broadcast bus is unavailable: " + sent.error().message);
  }
  core_->metrics.published.Inc();
  co_return id;
}

std::unique_ptr<bus::Subscription> Hub::Subscribe(std::string_view tenant, std::string_view name,
                                                  Format format) {
  auto sub = std::make_shared<Subscriber>();
  sub->format = format;
  std::string key = fmt::format("{}/{}", tenant, name);
  std::shared_ptr<Channel> channel;
  bool created = false;
  {
    std::lock_guard lock(core_->mu);
    if (core_->closed || !IsValidChannelName(name)) {
      // Never joins a channel: ends at once (Next() returns empty).
      sub->ended = true;
      auto alone = std::make_shared<Channel>();
      alone->key = std::move(key);
      alone->subscribers.push_back(sub);
      ++core_->subscriber_count;
      core_->metrics.subscribers.Add(1);
      return detail::MakeSubscription(core_, std::move(alone), std::move(sub));
    }
    auto& slot = core_->channels[key];
    if (!slot) {
      slot = std::make_shared<Channel>();
      slot->key = key;
      slot->topic = core_->options.topic_prefix + key;
      created = true;
      core_->metrics.channels.Add(1);
    }
    channel = slot;
    {
      std::lock_guard channel_lock(channel->mu);
      channel->subscribers.push_back(sub);
    }
    ++core_->subscriber_count;
    core_->metrics.subscribers.Add(1);
  }
  if (created) {
    // Outside every lock: the PubSub has locks of its own, and may run a handler meanwhile.
    auto listener = core_->pubsub.Listen(
        channel->topic, [weak_core = std::weak_ptr<Core>(core_),
                         weak_channel = std::weak_ptr<Channel>(channel)](std::string_view,
                                                                         std::string_view payload) {
          auto core = weak_core.lock();
          auto ch = weak_channel.lock();
          if (core && ch) core->Deliver(ch, payload);
        });
    {
      std::lock_guard lock(core_->mu);
      auto it = core_->channels.find(channel->key);
      if (!core_->closed && it != core_->channels.end() && it->second == channel) {
        channel->listener = std::move(listener);
      }
    }
    listener.reset();  // not kept: the channel was left, or the Hub closed, meanwhile
  }
  return detail::MakeSubscription(core_, std::move(channel), std::move(sub));
}

void Hub::Close() {
  std::vector<std::unique_ptr<bus::PubSubListener>> listeners;
  std::vector<std::unique_ptr<Waiter>> woken;
  {
    std::lock_guard lock(core_->mu);
    if (core_->closed) return;
    core_->closed = true;
    for (auto& [key, channel] : core_->channels) {
      if (channel->listener) listeners.push_back(std::move(channel->listener));
      std::lock_guard channel_lock(channel->mu);
      for (auto& sub : channel->subscribers) {
        sub->ended = true;
        if (sub->waiter) woken.push_back(std::move(sub->waiter));
      }
    }
  }
  for (auto& w : woken) w->Complete({});
  listeners.clear();
}

bool Hub::healthy() const { return core_->pubsub.healthy(); }

std::size_t Hub::subscribers() const {
  std::lock_guard lock(core_->mu);
  return core_->subscriber_count;
}

std::size_t Hub::listened_topics() const {
  std::lock_guard lock(core_->mu);
  std::size_t n = 0;
  for (const auto& [key, channel] : core_->channels) n += channel->listener != nullptr;
  return n;
}

}  // namespace agentd::broadcast
