#pragma once
// RedisRunPermits: scheduler::RunPermits in Redis, so a tier's max_concurrent_runs holds
// across every agentd instance of a cluster, not once per instance.
//
// One lease-based semaphore per (tier, tenant): a ZSET <key_prefix>permits:<tier>:<tenant> of
// holders scored by their lease expiry in milliseconds of Redis TIME (read inside the script,
// so instances whose clocks disagree still agree). One Lua script (permit_script.hpp) acquires
// (drops expired members, grants when the holder is already a member or ZCARD < limit) and
// renews (ZADD XX); release is a ZREM. The key's PEXPIRE covers its longest lease, so a tenant
// that stops running leaves nothing behind.
//
// Its own command connection (CLIENT SETNAME agentd-permits), EVALSHA with SCRIPT LOAD and one
// retry on NOSCRIPT.
//
// Degraded mode: an error, an unexpected reply or no reply within command_timeout answers
// kUnavailable (the scheduler then runs the run under per-instance limits only), counts
// agentd_run_permits_fallback_total, sets agentd_run_permits_degraded to 1 and logs one
// warning per outage (rate-limited against flapping). The next call Redis answers sets the
// gauge back to 0 and logs the outage's length. While disconnected the connection refuses at
// once, so a Redis that is down costs no wait; a stalled one costs command_timeout per call.

#include <chrono>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "common/error.hpp"
#include "observe/metrics.hpp"
#include "scheduler/run_permits.hpp"

namespace agentd::limits::redis {

struct RedisRunPermitsOptions {
  std::string url = "redis://127.0.0.1:6379";  // redis://[:password@]host[:port][/db]
  std::string key_prefix = "agentd:";
  // The longest a run start waits on Redis before it goes on without a permit.
  std::chrono::milliseconds command_timeout{500};
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds reconnect_backoff_max{1000};
};

// kInvalidArgument for a bad url. Does not wait for Redis (a Redis down at start means
// answering kUnavailable until it answers). The connection runs on `executor` (its own
// strand); the object must be destroyed before the executor's io_context, and `metrics` must
// outlive it.
Result<std::unique_ptr<scheduler::RunPermits>> MakeRedisRunPermits(
    RedisRunPermitsOptions options, boost::asio::any_io_executor executor,
    observe::Metrics& metrics);

}  // namespace agentd::limits::redis
