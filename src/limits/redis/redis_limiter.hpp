#pragma once
// Rate limits shared by every agentd instance: the token buckets of limit_specs.hpp kept in
// Redis and changed only by one Lua script (bucket_script.hpp), so N instances behind a load
// balancer together allow each limit once, not N times. Time is Redis' TIME, read inside the
// script: instances whose clocks disagree still agree on every bucket.
//
// Keys: <key_prefix>rl:per_ip:<ip>, rl:per_key:<credential>, rl:tier_requests:<tier>:<tenant>,
// rl:tier_tokens:<tier>:<tenant>; each expires once its bucket would have refilled.
// One command connection per limiter (CLIENT SETNAME agentd-limits); a process makes one.
//
// Degraded mode: when a script call fails (Redis down, error reply, no reply within
// command_timeout) the request is decided by an in-process RequestLimits built from the same
// config, so the API keeps answering, with per-instance limits (N instances allow N times).
// The switch logs one warning per outage (also rate-limited against flapping), counts every
// decision made in-process in agentd_limits_fallback_total and sets agentd_limits_degraded
// to 1. While degraded, requests do not touch Redis; one probe per probe_interval (SCRIPT
// LOAD, which also restores the script after a Redis restart) decides when to go back, and
// the gauge returns to 0. Buckets are not carried across the switch either way.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "common/error.hpp"
#include "config/config.hpp"
#include "limits/limiter.hpp"
#include "observe/metrics.hpp"

namespace agentd::limits::redis {

struct RedisLimiterOptions {
  std::string url = "redis://127.0.0.1:6379";  // redis://[:password@]host[:port][/db]
  std::string key_prefix = "agentd:";
  // The longest a check waits for Redis before the request is decided in-process (and the
  // limiter degrades): what a Redis stall can add to a request's latency.
  std::chrono::milliseconds command_timeout{250};
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds reconnect_backoff_max{1000};
  // While degraded: how often one probe asks Redis whether it is back.
  std::chrono::milliseconds probe_interval{1000};
  // The clock of the in-process fallback.
  Clock fallback_clock = SteadyClock();
  // Tests only: the script's "now" (microseconds) instead of Redis TIME.
  std::function<std::int64_t()> now_for_test;
};

// kInvalidArgument for a bad url. Does not wait for Redis: the connection is made in the
// background, and a Redis that is down at start means starting degraded. The connection runs
// on `executor` (its own strand); the limiter must be destroyed before the executor's
// io_context. `metrics` must outlive it.
Result<std::unique_ptr<Limiter>> MakeRedisLimiter(const config::Limits& limits,
                                                  RedisLimiterOptions options,
                                                  boost::asio::any_io_executor executor,
                                                  observe::Metrics& metrics);

}  // namespace agentd::limits::redis
