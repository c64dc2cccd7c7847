#pragma once
// Broadcast channels: named pub/sub channels (a dispatch board, a presence list) that clients
// follow over SSE or WebSocket and publish to over HTTP. A message published on any instance
// reaches every subscriber on every instance, at most once, with no replay: whoever is not
// subscribed when it passes never sees it.
//
// A channel is keyed by tenant + name ("<tenant>/<name>"), so tenants never share one. Each
// process listens to a channel's PubSub topic once, while it has at least one local subscriber,
// and fans every message out to its local subscribers. Each subscriber has its own bounded
// queue: one that falls behind past `queue_limit` is cut (Next() fails with kResourceExhausted,
// its queued messages are dropped) and never slows the bus thread or the other subscribers.
//
// A message is encoded once, on the publishing instance, as the JSON every client receives:
//   {"channel":"<name>","id":"<uuid7>","data":<any JSON>}
// and that same payload travels on the bus; each receiving process wraps it once into the
// shared frame of each format (SSE: "event: message\ndata: <json>\n\n"; WebSocket: the JSON).
//
// Threading: every method may be called from any thread. Next() completes on the awaiting
// coroutine's executor. The PubSub and the Metrics must outlive the Hub, and the Hub must
// outlive its subscriptions (the server is stopped before the Hub is destroyed).
// Test double: a bus::PubSub fake (tests/unit/broadcast/hub_test.cpp) or bus/inproc.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>

#include "bus/event_log.hpp"
#include "bus/pubsub.hpp"
#include "common/error.hpp"
#include "observe/metrics.hpp"

namespace agentd::broadcast {

struct HubOptions {
  std::size_t queue_limit = 1024;             // messages a subscriber may have queued; over: cut
  std::size_t max_message_bytes = 64 * 1024;  // the encoded message; over: kInvalidArgument
  std::string topic_prefix = "agentd:broadcast:";  // PubSub topic = prefix + tenant + "/" + name
};

// 1..128 characters of [A-Za-z0-9._:-]. The name never contains '/', so "<tenant>/<name>"
// is unambiguous whatever the tenant is.
bool IsValidChannelName(std::string_view name);
inline constexpr std::size_t kMaxChannelNameLength = 128;

// What Next() hands out: the SSE frame or the bare JSON of each message.
enum class Format { kSse, kJson };

class Hub {
 public:
  Hub(bus::PubSub& pubsub, observe::Metrics& metrics, HubOptions options = {});
  ~Hub();  // Close()s
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  // Sends `data` to channel `name` of `tenant` on every instance and returns the message id.
  // kInvalidArgument: bad name, or the encoded message exceeds max_message_bytes.
  // kUnavailable: the bus is down (the message is dropped) or the Hub is closed.
  boost::asio::awaitable<Result<std::string>> Publish(std::string tenant, std::string name,
                                                      boost::json::value data);

  // Follows channel `name` of `tenant` from now on. Next() returns the queued messages (at
  // least one) as frames of `format`; an empty vector once the Hub is closed (end the stream);
  // kResourceExhausted when this subscriber was cut for falling behind; kCancelled when the
  // wait is cancelled. Destroying the subscription leaves the channel (the last local one
  // stops listening to the topic). `name` must be valid (IsValidChannelName).
  [[nodiscard]] std::unique_ptr<bus::Subscription> Subscribe(std::string_view tenant,
                                                             std::string_view name, Format format);

  // Ends every subscription (after what is queued) and refuses new publishes and
  // subscriptions. Call before the HTTP server drains, so that streams end promptly.
  void Close();

  // False while the bus cannot deliver (publishes then fail with kUnavailable).
  bool healthy() const;
  std::size_t subscribers() const;     // local subscribers
  std::size_t listened_topics() const;  // channels with at least one local subscriber

  struct Core;  // shared with subscriptions and bus handlers (hub.cpp)

 private:
  std::shared_ptr<Core> core_;
};

}  // namespace agentd::broadcast
