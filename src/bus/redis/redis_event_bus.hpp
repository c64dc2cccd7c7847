#pragma once
// The Redis backend of bus/event_log.hpp: each run's log is the Redis Stream
// `<key_prefix>run:<run_id>:events`, so any instance serves any run's stream (Find works for
// runs another process writes). Design and trade-offs: README.md in this folder.
//
// Connections: O(1) per process whatever the number of runs and subscribers: one command
// connection (XADD, XRANGE, EXPIRE, DEL), one shared blocking reader (XREAD BLOCK over every
// stream with local subscribers), and one blocking connection for the calls EventBus makes
// synchronous (Create's existence check, Find).
//
// Errors: Append/Close cannot fail by signature; a write Redis refuses or never sees (link
// down: kUnavailable) is counted, logged rate-limited, and reported by RedisRunEventLog::Flush.
// Subscribers of a stream whose reader lost Redis get kUnavailable from Next() and resume
// with StartAt::kAfterId (Last-Event-ID) once it is back.

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "bus/event_log.hpp"
#include "common/error.hpp"

namespace agentd::observe {
class Metrics;
}

namespace agentd::bus::redis {

struct RedisOptions {
  std::string url = "redis://127.0.0.1:6379";  // redis://[:password@]host[:port][/db]
  std::string key_prefix = "agentd:";
  std::chrono::milliseconds command_timeout{2000};  // every command; then the link is redone
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds reconnect_backoff_min{50};
  std::chrono::milliseconds reconnect_backoff_max{2000};
  std::chrono::milliseconds read_block{1000};  // XREAD BLOCK per round of the shared reader
  std::size_t read_batch = 512;                // entries per XREAD / XRANGE
  // A stream whose writer died without Close() still expires after this.
  std::chrono::milliseconds open_stream_ttl{24 * 60 * 60 * 1000};
  // Options of logs this process did not create (found in Redis): backlog for subscribers.
  EventLogOptions found_log_options{};
};

// Connects (fails fast with kUnavailable when Redis does not answer a PING within
// connect_timeout, kInvalidArgument for a bad url). Every connection runs on `executor` (one
// strand each). `metrics` (may be null, must outlive the bus) gets
// agentd_bus_subscribers_cut_total. Destroying the bus ends open subscriptions with
// kUnavailable; it must not outlive the executor's io_context.
Result<std::unique_ptr<EventBus>> MakeRedisEventBus(RedisOptions options,
                                                    boost::asio::any_io_executor executor,
                                                    observe::Metrics* metrics = nullptr);

// What a RunEventLog from this backend adds: waiting for durability.
class RedisRunEventLogApi : public RunEventLog {
 public:
  // Completes when every Append/Close issued before it reached Redis; returns the first write
  // error since the previous Flush (kUnavailable while Redis is down), else success.
  virtual boost::asio::awaitable<Status> Flush() = 0;
  // The stream's key, for tests and tooling.
  virtual const std::string& key() const = 0;
};

// Test hook: one blocking command on a fresh connection (CLIENT LIST, TTL, DEBUG ...).
// Strings/statuses as-is, integers in decimal, arrays one element per line.
Result<std::string> TEST_RedisCommand(const std::string& url, const std::vector<std::string>& args);

}  // namespace agentd::bus::redis
