#pragma once
// The state a Hub shares with its subscriptions and bus handlers. Private to broadcast/.
//
// Locks: Core::mu guards the channel map, `closed` and every Channel::listener; Channel::mu
// guards that channel's subscriber list and each subscriber's queue. Order: Core::mu, then
// Channel::mu. Bus handlers take only Channel::mu. No lock is held while calling the PubSub
// (Listen, or destroying a listener, which may wait for a running handler) or completing a
// waiter.

#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bus/parked_handler.hpp"
#include "broadcast/hub.hpp"
#include "bus/event_log.hpp"
#include "bus/pubsub.hpp"
#include "observe/metrics.hpp"

namespace agentd::broadcast::detail {

using bus::Waiter;
using bus::WaiterImpl;

struct Subscriber {
  Format format = Format::kSse;
  std::deque<bus::Frame> queue;
  bool cut = false;    // fell behind: queue dropped, Next() fails
  bool ended = false;  // the Hub closed: Next() drains the queue, then returns empty
  std::unique_ptr<Waiter> waiter;  // set while parked in Next()
};

struct Channel {
  std::string key;    // "<tenant>/<name>"
  std::string topic;  // the PubSub channel
  std::mutex mu;
  std::vector<std::shared_ptr<Subscriber>> subscribers;
  // Guarded by Core::mu. Null until Listen() returned (or after Close()).
  std::unique_ptr<bus::PubSubListener> listener;
};

struct Metrics {
  explicit Metrics(observe::Metrics& m);
  observe::Gauge& subscribers;
  observe::Gauge& channels;
  observe::Counter& published;
  observe::Counter& publish_failures;
  observe::Counter& delivered;
  observe::Counter& dropped;
  observe::Counter& cut;
  observe::Counter& malformed;
};

}  // namespace agentd::broadcast::detail

namespace agentd::broadcast {

struct Hub::Core {
  Core(bus::PubSub& p, observe::Metrics& m, HubOptions o) : pubsub(p), metrics(m), options(o) {}

  bus::PubSub& pubsub;
  detail::Metrics metrics;
  const HubOptions options;

  mutable std::mutex mu;
  bool closed = false;
  std::map<std::string, std::shared_ptr<detail::Channel>, std::less<>> channels;
  std::size_t subscriber_count = 0;

  // Fans one bus payload out to the channel's local subscribers (the bus handler).
  void Deliver(const std::shared_ptr<detail::Channel>& channel, std::string_view payload);
  // Removes one subscriber (its Subscription is being destroyed).
  void Leave(const std::shared_ptr<detail::Channel>& channel,
             const std::shared_ptr<detail::Subscriber>& subscriber);
};

}  // namespace agentd::broadcast
