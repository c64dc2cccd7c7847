#pragma once
// LocalFanout: the in-process half of every PubSub backend. It keeps channel -> local
// listeners, tells the backend when a channel gets its first / loses its last listener (so a
// transport subscribes each channel once per process), and delivers each message to the
// channel's listeners on one strand, so handlers run one at a time (pubsub.hpp).
//
// A listener's handler never starts after its PubSubListener was destroyed: each call holds
// the listener's own recursive mutex, and destruction takes it (waits for a call on another
// thread; from inside the handler itself it just marks it inactive).
//
// Thread safety: every method may be called from any thread. The first/last hooks run with
// the registry mutex held, so the transport sees subscribe/unsubscribe in decision order; they
// must only queue work (Connection::SendSubscribe posts) and never call back into the fanout.

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/strand.hpp>

#include "bus/pubsub.hpp"

namespace agentd::bus::detail {

class LocalFanout : public std::enable_shared_from_this<LocalFanout> {
 public:
  using ChannelHook = std::function<void(const std::string& channel)>;

  // Hooks may be empty (in-process backend).
  LocalFanout(boost::asio::any_io_executor executor, ChannelHook on_first, ChannelHook on_last);

  // Registers a listener; the returned object unregisters it when destroyed.
  std::unique_ptr<PubSubListener> Listen(std::string channel, PubSub::Handler handler);
  // Queues delivery of one message to the channel's current listeners (on the strand).
  void Deliver(std::string channel, std::string payload);
  // Channels with at least one listener (resubscribe after a reconnect).
  std::vector<std::string> Channels() const;
  std::size_t ListenerCount(const std::string& channel) const;

 private:
  struct Entry;
  class Listener;
  void Remove(const std::shared_ptr<Entry>& entry);

  boost::asio::strand<boost::asio::any_io_executor> strand_;
  const ChannelHook on_first_;
  const ChannelHook on_last_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::vector<std::shared_ptr<Entry>>> channels_;
};

}  // namespace agentd::bus::detail
