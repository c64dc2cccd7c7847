#include "api/gate.hpp"

#include <chrono>
#include <cmath>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "api/errors.hpp"
#include "api/handlers.hpp"
#include "api/thread_expiry.hpp"
#include "common/assert.hpp"
#include "limits/in_process_limiter.hpp"

namespace agentd::api {
namespace {

namespace json = boost::json;
using http::Response;

constexpr std::string_view kPublicPaths[] = {"/ok", "/health", "/ready", "/metrics", "/info"};

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::int64_t CeilSeconds(std::chrono::milliseconds d) {
  return std::max<std::int64_t>(0, (d.count() + 999) / 1000);
}

// An admitted request's RateLimit-* headers: what is left of its tightest limit, and when that
// limit's bucket is full again.
void AddRateHeaders(http::HeaderList& out, const limits::Decision& d) {
  out.emplace_back("RateLimit-Limit", std::to_string(static_cast<std::int64_t>(d.limit)));
  out.emplace_back("RateLimit-Remaining", std::to_string(static_cast<std::int64_t>(d.remaining)));
  out.emplace_back("RateLimit-Reset", std::to_string(CeilSeconds(d.reset)));
}

// A refusal's Retry-After and RateLimit-* headers, from one number: the whole seconds until the
// refused request would pass (at least 1). RateLimit-Reset names the same moment as
// Retry-After (draft-ietf-httpapi-ratelimit-headers: when both are sent they SHOULD agree) and
// RateLimit-Remaining is 0, whichever limit refused (per_ip, per_key, tier_requests,
// tier_tokens, or a full key table).
std::int64_t AddRefusalHeaders(http::HeaderList& out, const limits::Decision& d) {
  const std::int64_t retry = std::max<std::int64_t>(1, CeilSeconds(d.retry_after));
  out.emplace_back("Retry-After", std::to_string(retry));
  out.emplace_back("RateLimit-Limit", std::to_string(static_cast<std::int64_t>(d.limit)));
  out.emplace_back("RateLimit-Remaining", "0");
  out.emplace_back("RateLimit-Reset", std::to_string(retry));
  return retry;
}

bool HasHeader(const http::HeaderList& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (http::EqualsIgnoreCase(key, name)) return true;
  }
  return false;
}

// The tighter of two verdicts (fewer requests remaining) for the response headers.
const limits::Verdict* Tighter(const limits::Verdict* a, const limits::Verdict* b) {
  if (a == nullptr || !a->limited) return b && b->limited ? b : nullptr;
  if (b == nullptr || !b->limited) return a;
  return b->decision.remaining < a->decision.remaining ? b : a;
}

// The gated path: a coroutine, since the limiter may wait on Redis.
detail::Reply Admitted(ApiContext& ctx, http::Request& request, detail::HandlerFn fn,
                       RouteKind kind, bool thread_scoped) {
  http::HeaderList headers;
  if (auto refusal = co_await ctx.gate->Admit(request, kind, &headers)) co_return std::move(*refusal);
  detail::Reply inner = thread_scoped ? detail::IfThreadLive(ctx, request, fn) : fn(ctx, request);
  Response response = co_await std::move(inner);
  // A handler's own refusal (a run admission limit: 429/503 + Retry-After) is about another
  // limit: request-limit headers saying "requests remain, reset in N s" next to its Retry-After
  // would contradict it, so they are left off.
  if (!HasHeader(response.headers, "Retry-After")) {
    for (auto& h : headers) response.headers.push_back(std::move(h));
  }
  co_return response;
}

}  // namespace

RouteKind ClassifyRoute(http::Method method, std::string_view pattern) {
  for (auto p : kPublicPaths) {
    if (pattern == p) return RouteKind::kPublic;
  }
  if (pattern.rfind("/internal/", 0) == 0) return RouteKind::kInternal;
  if (method == http::Method::kPost &&
      (EndsWith(pattern, "/runs") || EndsWith(pattern, "/runs/stream") ||
       EndsWith(pattern, "/runs/wait") || EndsWith(pattern, "/runs/batch") ||
       pattern == "/mcp" || pattern == "/a2a/{assistant_id}")) {
    return RouteKind::kCreatesRuns;
  }
  return RouteKind::kNormal;
}

std::shared_ptr<Gate> Gate::Make(const config::Config& config, observe::Metrics& metrics,
                                 limits::Clock clock) {
  return Make(config, metrics, limits::MakeInProcessLimiter(config.limits, clock), clock);
}

std::shared_ptr<Gate> Gate::Make(const config::Config& config, observe::Metrics& metrics,
                                 std::unique_ptr<limits::Limiter> limiter, limits::Clock clock) {
  AGENTD_ASSERT(limiter != nullptr);  // the application always builds one
  return std::shared_ptr<Gate>(new Gate(config, metrics, std::move(limiter), std::move(clock)));
}

Gate::Gate(const config::Config& config, observe::Metrics& metrics,
           std::unique_ptr<limits::Limiter> limiter, limits::Clock clock)
    : limits_(std::move(limiter)), clock_(std::move(clock)), metrics_(metrics) {
  auto access = std::make_shared<Access>();
  access->required = config.auth.mode == "required";
  auto auth = Authenticator::Make(config.auth, config.limits);
  if (auth) {
    access->auth = std::move(*auth);
    access->auth->AcceptStreamTokens(config.console.stream_token_secret);  // stream_token.hpp
  } else {
    spdlog::error("api: auth is misconfigured, refusing every request: {}", auth.error().message);
  }
  access_.Set(std::move(access));
  for (auto kind : {limits::LimitKind::kPerIp, limits::LimitKind::kPerKey,
                    limits::LimitKind::kTierRequests, limits::LimitKind::kTierTokens}) {
    metrics_.GetCounter("agentd_ratelimit_rejections_total", "Requests refused with 429, by limit",
                        {{"limit", std::string(limits::LimitName(kind))}});
  }
}

Status Gate::Reload(const config::Config& config) {
  auto auth = Authenticator::Make(config.auth, config.limits);
  if (!auth) return Error(Errc::kInvalidArgument, "auth: " + auth.error().message);
  auto access = std::make_shared<Access>();
  access->required = config.auth.mode == "required";
  access->auth = std::move(*auth);
  // The key is restart-only (PlanReload keeps the running one): tokens outlive a reload.
  access->auth->AcceptStreamTokens(config.console.stream_token_secret);
  access_.Set(std::move(access));
  limits_->Reconfigure(config.limits);
  return {};
}

void Gate::MaybeEvict() {
  // Idle buckets are dropped at most every 10 s, by whichever request comes first.
  const std::int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  clock_().time_since_epoch()).count();
  std::int64_t last = last_evict_ms_.load(std::memory_order_relaxed);
  if (now_ms - last < 10'000) return;
  if (!last_evict_ms_.compare_exchange_strong(last, now_ms)) return;
  limits_->EvictIdle();
}

Response Gate::Unauthorized(const AuthOutcome& outcome) {
  metrics_.GetCounter("agentd_auth_failures_total", "Requests refused with 401, by reason",
                      {{"reason", outcome.reason}}).Inc();
  std::string challenge = "Bearer realm=\"agentd\"";
  std::string detail = "Authentication required: send x-api-key or Authorization: Bearer <token>";
  if (outcome.bad_token) {
    challenge += fmt::format(", error=\"invalid_token\", error_description=\"{}\"", outcome.description);
    detail = "Invalid credentials: " + outcome.description;
  }
  Response r = ErrorReply(401, code::kUnauthorized, detail);
  r.SetHeader("WWW-Authenticate", std::move(challenge));
  return r;
}

Response Gate::TooMany(const limits::Verdict& verdict) {
  const std::string_view name = limits::LimitName(verdict.kind);
  metrics_.GetCounter("agentd_ratelimit_rejections_total", "Requests refused with 429, by limit",
                      {{"limit", std::string(name)}}).Inc();
  http::HeaderList headers;
  const std::int64_t retry = AddRefusalHeaders(headers, verdict.decision);
  Response r = ErrorReply(429, code::kRateLimited,
                          verdict.kind == limits::LimitKind::kTierTokens
                              ? "Token budget exhausted; retry later"
                              : "Too many requests; retry later",
                          json::object{{"limit", name}, {"retry_after", retry}});
  for (auto& h : headers) r.headers.push_back(std::move(h));
  return r;
}

boost::asio::awaitable<std::optional<Response>> Gate::Admit(http::Request& request, RouteKind kind,
                                                            http::HeaderList* headers) {
  if (kind == RouteKind::kPublic) co_return std::nullopt;
  // This request is judged by the credentials in force now, even if a reload comes meanwhile.
  const std::shared_ptr<const Access> access = access_.Get();
  if (kind == RouteKind::kInternal && access->required) {
    // The same answer as a route that does not exist (http/ router).
    co_return ErrorReply(404, ErrorCode(Errc::kNotFound), "404 Not Found");
  }
  if (access->auth == nullptr) {
    co_return ErrorReply(503, ErrorCode(Errc::kUnavailable), "authentication is misconfigured");
  }
  MaybeEvict();
  limits::Verdict by_ip = co_await limits_->AdmitIp(request.remote_address);
  if (!by_ip.allowed) co_return TooMany(by_ip);

  const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch()).count();
  AuthOutcome who = access->auth->Authenticate(request, now);
  if (!who.ok) co_return Unauthorized(who);
  request.principal = std::move(who.principal);

  limits::Verdict by_principal = co_await limits_->AdmitPrincipal(
      who.credential, request.principal.tenant, request.principal.tier);
  if (!by_principal.allowed) co_return TooMany(by_principal);
  if (kind == RouteKind::kCreatesRuns) {
    limits::Verdict tokens =
        co_await limits_->CheckTokens(request.principal.tenant, request.principal.tier);
    if (!tokens.allowed) co_return TooMany(tokens);
  }
  if (const limits::Verdict* v = Tighter(&by_ip, &by_principal)) AddRateHeaders(*headers, v->decision);
  co_return std::nullopt;
}

namespace detail {

Reply Guarded(ApiContext& ctx, Request& request, HandlerFn fn, RouteKind kind,
              bool thread_scoped) {
  // Public paths and gate-less contexts skip the coroutine frame of the gated path.
  if (!ctx.gate || kind == RouteKind::kPublic) {
    return thread_scoped ? IfThreadLive(ctx, request, fn) : fn(ctx, request);
  }
  return Admitted(ctx, request, fn, kind, thread_scoped);
}

}  // namespace detail
}  // namespace agentd::api
