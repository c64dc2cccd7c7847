#pragma once
// Cross-instance messages: cancellation and control of runs, "a thread is free" wakeups,
// broadcast channels. Fire-and-forget, at most once, delivered to every process subscribed to
// the channel (the publisher included). Whatever must not be lost is written to storage
// first; a message only says "look now" sooner than a bounded safety-net timer would.
//
// One shared subscriber connection per process (O(1) connections whatever the number of
// channels and local listeners): a backend subscribes a channel once, when its first local
// listener appears, and fans each message out to the local listeners.
//
// Backends: inproc/ (one process: delivers to local listeners only) and redis/ (PUBLISH /
// SUBSCRIBE on one connection; resubscribes after a reconnect; messages published while the
// link is down are lost, and `healthy()` says so).
//
// Threading: every method may be called from any thread. Handlers run on the backend's
// executor, one at a time per process, and must not block (post work elsewhere).

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "common/error.hpp"

namespace agentd::bus {

class PubSubListener {
 public:
  virtual ~PubSubListener() = default;  // unsubscribes; no handler call starts after it returns
};

class PubSub {
 public:
  using Handler = std::function<void(std::string_view channel, std::string_view payload)>;
  virtual ~PubSub() = default;

  // Sends `payload` to every subscriber of `channel` on every instance. Completes once the
  // transport accepted it; kUnavailable while the link is down (the message is dropped).
  virtual boost::asio::awaitable<Status> Publish(std::string channel, std::string payload) = 0;
  // Listens to `channel` until the returned object is destroyed. Never fails: while the link
  // is down the listener simply receives nothing, and it is resubscribed when it returns.
  [[nodiscard]] virtual std::unique_ptr<PubSubListener> Listen(std::string channel,
                                                               Handler handler) = 0;
  // False while the backend cannot deliver (Redis link down); /ready reports it.
  virtual bool healthy() const = 0;
};

}  // namespace agentd::bus
