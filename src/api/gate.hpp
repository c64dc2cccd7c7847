#pragma once
// The gate every API handler is registered behind (handlers.hpp Route()): per-IP limit, then
// authentication (auth.hpp) filling Request::principal, then the per-credential and per-tier
// request limits and, for run creation, the tier's token budget; refusals are 401/404/429
// answered here, before any handler runs.
//
//   public paths (/ok /health /ready /metrics /info): no auth, no limits (probes must pass);
//   /internal/*: 404 when auth is required (truncate is not tenant-scoped);
//   CORS preflights never reach the router (http/ answers them).
//
// 401: WWW-Authenticate: Bearer realm="agentd" (+ error="invalid_token", error_description
// for a bad credential) and {"error":"unauthorized","detail":...}.
// 429: {"error":"rate_limited","limit":"per_ip"|"per_key"|"tier_requests"|"tier_tokens",
// "retry_after":<s>,"detail":...} with Retry-After: <s>, RateLimit-Remaining: 0 and
// RateLimit-Reset: <s> (the same moment). Routes under a limit also carry RateLimit-Limit /
// RateLimit-Remaining / RateLimit-Reset (until the bucket is full) on every admitted response,
// except one the handler refused with its own Retry-After (a run admission limit).
// Every body is an errors.hpp error body.
// Metrics: agentd_auth_failures_total{reason}, agentd_ratelimit_rejections_total{limit}.
//
// The limits are a limits::Limiter: in-process by default (embedded mode, one instance), or
// the one the application passes in (limits/redis: shared by every instance). Admit() awaits
// it; the responses and headers are the same either way.
//
// Reload (SIGHUP, docs/operations.md): Reload() swaps the credentials (auth.mode, API keys,
// JWT settings, the public key file read again) as one immutable snapshot and reconfigures the
// limiter. A request admitted before keeps the principal it was given; the next one is judged
// by the new settings. Thread-safe: Admit() and Reload() may run on any threads at once.

#include <atomic>
#include <memory>
#include <optional>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "api/auth.hpp"
#include "common/error.hpp"
#include "common/snapshot.hpp"
#include "config/config.hpp"
#include "http/message.hpp"
#include "limits/limiter.hpp"
#include "observe/metrics.hpp"

namespace agentd::api {

enum class RouteKind { kNormal, kPublic, kInternal, kCreatesRuns };
RouteKind ClassifyRoute(http::Method method, std::string_view pattern);

class Gate {
 public:
  // A configuration the loader accepted always builds; should the key file have changed since,
  // the gate fails closed (503 on every non-public route) and logs why. This one limits
  // in-process (limits::InProcessLimiter on `clock`).
  static std::shared_ptr<Gate> Make(const config::Config& config, observe::Metrics& metrics,
                                    limits::Clock clock = limits::SteadyClock());
  // The same, enforcing `limiter`'s limits (non-null). `clock` paces its EvictIdle() calls.
  static std::shared_ptr<Gate> Make(const config::Config& config, observe::Metrics& metrics,
                                    std::unique_ptr<limits::Limiter> limiter,
                                    limits::Clock clock = limits::SteadyClock());

  // nullopt: admitted (request.principal set; `*headers` are the RateLimit-* headers to add to
  // the handler's response). Otherwise the refusal to send. `request` and `headers` must
  // outlive the awaitable (co_await it at once).
  boost::asio::awaitable<std::optional<http::Response>> Admit(http::Request& request,
                                                              RouteKind kind,
                                                              http::HeaderList* headers);

  // The limiter, e.g. for the scheduler to charge finished runs' LLM usage.
  limits::Limiter& limits() { return *limits_; }

  // Applies a reloaded configuration's auth and limits. kInvalidArgument naming the problem
  // when its credentials do not build (the JWT key file became unreadable...): then nothing
  // changes, and a gate that was failing closed stays so.
  Status Reload(const config::Config& config);

 private:
  // The credentials in force. `auth` null: misconfigured at start, fail closed.
  struct Access {
    std::unique_ptr<Authenticator> auth;
    bool required = false;
  };
  Gate(const config::Config& config, observe::Metrics& metrics,
       std::unique_ptr<limits::Limiter> limiter, limits::Clock clock);
  http::Response Unauthorized(const AuthOutcome& outcome);
  http::Response TooMany(const limits::Verdict& verdict);
  void MaybeEvict();

  Snapshot<const Access> access_;
  std::unique_ptr<limits::Limiter> limits_;
  limits::Clock clock_;
  observe::Metrics& metrics_;
  std::atomic<std::int64_t> last_evict_ms_{0};
};

}  // namespace agentd::api
