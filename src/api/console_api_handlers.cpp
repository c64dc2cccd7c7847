// The console's API (docs/console.md). Behind the gate like every API route: with auth on they
// need a credential (or, for the streams, a stream token), and tenants see only their own.
//
//   GET  /console/api/session        who the credential is: tenant, user, tier, admin, ...
//   GET  /console/api/ops            one operations sample (JSON)             admin only
//   GET  /console/api/ops/stream     operations samples as SSE (hello, sample) admin only
//   POST /auth/stream-token          a short-lived token for EventSource/WebSocket URLs
//   GET  /threads/{thread_id}/runs/{run_id}/trace   the run's trace (runtime/run_trace.hpp)
//
// Admin: with auth off everyone; with auth required, principals whose tenant is listed in
// console_admin_tenants. Others get 403 {"error":"forbidden","detail":...}.

#include <algorithm>
#include <chrono>

#include <boost/asio/this_coro.hpp>
#include <fmt/format.h>

#include "api/errors.hpp"
#include "api/handlers.hpp"
#include "api/ops_sampler.hpp"
#include "api/stream_token.hpp"
#include "common/json.hpp"
#include "common/time.hpp"
#include "runtime/run_trace.hpp"

namespace agentd::api::detail {
namespace {

namespace asio = boost::asio;

bool AuthRequired(const ApiContext& ctx) { return ctx.config.auth.mode == "required"; }

bool IsAdmin(const ApiContext& ctx, const Request& request) {
  if (!AuthRequired(ctx)) return true;
  const auto& admins = ctx.config.console.admin_tenants;
  return std::find(admins.begin(), admins.end(), request.principal.tenant) != admins.end();
}

Response Forbidden(std::string detail) {
  return JsonReply(json::object{{"error", "forbidden"}, {"detail", std::move(detail)}}, 403);
}

Response NotAdmin() {
  return Forbidden(
      "The operations view needs an admin credential: a tenant listed in console_admin_tenants");
}

Reply Session(ApiContext& ctx, Request& request) {
  const model::Principal& who = request.principal;
  co_return JsonReply(json::object{
      {"auth", ctx.config.auth.mode},
      {"tenant", who.tenant},
      {"user_id", who.user_id},
      {"tier", who.tier},
      {"admin", IsAdmin(ctx, request)},
      {"version", ctx.version},
      {"ops", ctx.ops != nullptr},
      {"traces", ctx.traces != nullptr && ctx.traces->max_bytes() > 0},
      {"stream_token_ttl_s", ctx.config.console.stream_token_ttl.count()},
      {"graphs", [&] {
         json::array ids;
         for (const auto& g : ctx.graphs.all()) ids.emplace_back(g.graph_id);
         return ids;
       }()},
  });
}

Reply OpsSnapshot(ApiContext& ctx, Request& request) {
  if (!IsAdmin(ctx, request)) co_return NotAdmin();
  if (!ctx.ops) co_return ErrorResponse(Error(Errc::kUnavailable, "operations view is off"));
  // A sample of its own (the streaming sampler's history is not touched): latency quantiles
  // are then over everything since start.
  OpsSampler::Previous previous;
  OpsSources sources{ctx.metrics, ctx.health, ctx.config, ctx.runs, ctx.broadcast, &ctx.storage,
                     ctx.version, ctx.runs != nullptr ? ctx.runs->instance_id() : std::string()};
  co_return JsonReply(OpsSampler::BuildSample(sources, previous, std::nullopt, {}));
}

asio::awaitable<void> StreamOps(std::shared_ptr<OpsSampler> ops, http::BodyWriter& out) {
  auto viewer = ops->Join(co_await asio::this_coro::executor);
  if (!co_await out.Write(ops->HelloFrame())) co_return;
  for (;;) {
    auto frames = co_await viewer->Next(std::chrono::seconds(10));
    if (!frames || out.closed()) co_return;  // the sampler stopped, or the server is draining
    if (frames->empty()) {
      if (!co_await out.Write(std::string_view(": hb\n\n"))) co_return;
      continue;
    }
    std::string batch;
    for (const auto& f : *frames) batch += *f;
    if (!co_await out.Write(std::string_view(batch))) co_return;
  }
}

Reply OpsStream(ApiContext& ctx, Request& request) {
  if (!IsAdmin(ctx, request)) co_return NotAdmin();
  if (!ctx.ops) co_return ErrorResponse(Error(Errc::kUnavailable, "operations view is off"));
  auto response = Response::Stream(200, "text/event-stream",
                                   [ops = ctx.ops](http::BodyWriter& out) { return StreamOps(ops, out); });
  response.SetHeader("Cache-Control", "no-cache");
  response.SetHeader("X-Accel-Buffering", "no");
  co_return response;
}

Reply MintToken(ApiContext& ctx, Request& request) {
  const std::string& key = ctx.config.console.stream_token_secret;
  if (key.size() < 32) {
    co_return ErrorResponse(Error(Errc::kUnavailable, "stream tokens are not configured"));
  }
  const std::int64_t ttl = ctx.config.console.stream_token_ttl.count();
  const std::int64_t expires_at = NowMs() / 1000 + ttl;
  std::string token = MintStreamToken(key, request.principal, expires_at);
  Response r = JsonReply(json::object{{"token", token},
                                      {"token_type", "stream"},
                                      {"expires_in", ttl},
                                      {"expires_at", FormatIso8601(expires_at * 1000)},
                                      {"tenant", request.principal.tenant}});
  // The cookie lets a page open streams without putting the token in a URL; Strict keeps it
  // off cross-site requests, and it is accepted only on GET stream routes anyway.
  r.SetHeader("Set-Cookie", fmt::format("{}={}; Path=/; Max-Age={}; HttpOnly; SameSite=Strict",
                                        kStreamTokenCookie, token, ttl));
  r.SetHeader("Cache-Control", "no-store");
  co_return r;
}

Reply GetRunTrace(ApiContext& ctx, Request& request) {
  Response refusal;
  auto thread_id = PathUuid(request, "thread_id", &refusal);
  if (!thread_id) co_return refusal;
  auto run_id = PathUuid(request, "run_id", &refusal);
  if (!run_id) co_return refusal;
  // A running (or recent) run's trace is in this process's memory, live; an ended run's is
  // stored with the run, for any instance and after a restart.
  std::shared_ptr<const runtime::RunTrace> trace;
  if (ctx.traces != nullptr) trace = ctx.traces->Find(Tenant(request), *run_id);
  if (trace && trace->info().thread_id == *thread_id) co_return JsonReply(trace->Json());
  auto stored = co_await ctx.storage.runs().GetTrace(Tenant(request), *thread_id, *run_id);
  if (!stored && stored.error().code != Errc::kNotFound) co_return ErrorResponse(stored.error());
  if (!stored) {
    co_return ErrorResponse(
        Error(Errc::kNotFound, fmt::format("Run {} not found on thread {}", *run_id, *thread_id)));
  }
  if (!*stored) {
    co_return ErrorResponse(Error(
        Errc::kNotFound,
        fmt::format("No trace for run {}: it has not executed on a live instance, traces are "
                    "off (trace_max_bytes=0), or it ran before traces were stored",
                    *run_id)));
  }
  co_return Response::Json(200, std::move(**stored));
}

}  // namespace

void RegisterConsoleApiRoutes(http::Router& router, ApiContext& ctx) {
  using http::Method;
  Route(router, Method::kPost, "/auth/stream-token", ctx, &MintToken);
  Route(router, Method::kGet, "/threads/{thread_id}/runs/{run_id}/trace", ctx, &GetRunTrace);
  if (!ctx.config.console.enabled) return;
  Route(router, Method::kGet, "/console/api/session", ctx, &Session);
  Route(router, Method::kGet, "/console/api/ops", ctx, &OpsSnapshot);
  Route(router, Method::kGet, "/console/api/ops/stream", ctx, &OpsStream);
}

}  // namespace agentd::api::detail
