#pragma once
// The Redis PubSub (bus/pubsub.hpp): PUBLISH / SUBSCRIBE, so a message reaches every agentd
// instance on the same Redis. Per process: ONE subscriber connection (a channel is SUBSCRIBEd
// when its first local listener appears and UNSUBSCRIBEd when its last goes; messages are fanned
// out locally) and one publishing connection, whatever the number of channels and listeners.
// Channels live under `<key_prefix>ps:` so deployments sharing a Redis stay apart.
//
// Failure: while either link is down healthy() is false, Publish fails with kUnavailable, and
// listeners receive nothing; once the subscriber reconnects every channel with listeners is
// subscribed again. Messages published meanwhile are lost (pub/sub keeps nothing).

#include <memory>

#include <boost/asio/any_io_executor.hpp>

#include "bus/pubsub.hpp"
#include "bus/redis/redis_event_bus.hpp"
#include "common/error.hpp"

namespace agentd::observe {
class Metrics;
}

namespace agentd::bus::redis {

// Uses url, key_prefix, command_timeout, connect_timeout and the reconnect backoff of
// `options`. Fails fast like MakeRedisEventBus (kUnavailable: no PING answer within
// connect_timeout; kInvalidArgument: bad url). Handlers run on a strand of `executor`, which
// must outlive the PubSub and its listeners. `metrics` (may be null, must outlive the PubSub)
// gets agentd_pubsub_publish_failed_total and agentd_pubsub_received_total.
Result<std::unique_ptr<PubSub>> MakeRedisPubSub(RedisOptions options,
                                                boost::asio::any_io_executor executor,
                                                observe::Metrics* metrics = nullptr);

}  // namespace agentd::bus::redis
