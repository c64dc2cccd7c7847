// GET /ok, /info, /health, /ready, /metrics and POST /internal/truncate
// (agent-protocol.md 3.6, 3.7; design.md "Health and limits").

#include <chrono>

#include "api/errors.hpp"
#include "api/handlers.hpp"
#include "api/validate.hpp"

namespace agentd::api::detail {
namespace {

Reply Ok(ApiContext&, Request&) { co_return JsonReply(json::object{{"ok", true}}); }

Reply Info(ApiContext& ctx, Request&) {
  co_return JsonReply(json::object{
      {"version", ctx.version},
      {"flags", json::object{{"assistants", true},
                             {"crons", false},
                             {"langsmith", false},
                             {"langsmith_tracing_replicas", true}}},
  });
}

json::array LoopsJson(const observe::Health& health) {
  json::array loops;
  for (const auto& loop : health.Loops(std::chrono::steady_clock::now())) {
    loops.push_back(json::object{
        {"index", loop.index},
        {"since_last_tick_ms", loop.since_last_tick.count()},
        {"last_lag_us", loop.last_lag.count()},
        {"stalled", loop.stalled},
    });
  }
  return loops;
}

// Liveness is measured by the loop probes: a stuck event loop fails it.
Reply HealthCheck(ApiContext& ctx, Request&) {
  std::string why;
  if (ctx.health.Live(&why)) {
    co_return JsonReply(json::object{{"status", "ok"}, {"loops", LoopsJson(ctx.health)}});
  }
  co_return JsonReply(
      json::object{{"status", "stalled"}, {"error", why}, {"loops", LoopsJson(ctx.health)}}, 503);
}

// Readiness: not draining, admission not saturated, every dependency up, and storage answers.
Reply Ready(ApiContext& ctx, Request&) {
  if (ctx.health.draining()) {
    co_return JsonReply(json::object{{"status", "draining"}}, 503);
  }
  // A full admission queue means new runs are refused: a load balancer should look elsewhere.
  if (ctx.runs != nullptr && ctx.runs->saturated()) {
    auto stats = ctx.runs->admission_stats();
    co_return JsonReply(json::object{{"status", "saturated"},
                                     {"runs_executing", stats.executing},
                                     {"runs_waiting", stats.waiting}},
                        503);
  }
  if (std::string why; !ctx.health.DependenciesUp(&why)) {
    co_return JsonReply(json::object{{"status", "unavailable"}, {"error", why}}, 503);
  }
  auto ping = co_await ctx.storage.Ping();
  if (!ping) {
    co_return JsonReply(
        json::object{{"status", "unavailable"}, {"error", "storage: " + ping.error().message}},
        503);
  }
  co_return JsonReply(json::object{{"status", "ready"}});
}

Reply MetricsText(ApiContext& ctx, Request&) {
  // Built by hand: Prometheus wants its own content type, not Text()'s.
  http::Response response;
  response.status = 200;
  response.headers.emplace_back("Content-Type", "text/plain; version=0.0.4");
  response.body = ctx.metrics.RenderPrometheus();
  co_return response;
}

Reply Truncate(ApiContext& ctx, Request& req) {
  auto body = ParseBody(req, ctx.config.server.json_max_depth);
  if (!body) co_return std::move(body.error());
  Validator v(*body);
  storage::TruncateOptions options;
  options.runs = v.Bool("runs").value_or(false);
  options.threads = v.Bool("threads").value_or(false);
  options.assistants = v.Bool("assistants").value_or(false);
  options.checkpointer = v.Bool("checkpointer").value_or(false);
  options.store = v.Bool("store").value_or(false);
  if (!v.ok()) co_return v.Response();
  auto done = co_await ctx.storage.Truncate(options);
  if (!done) co_return ErrorResponse(done.error());
  co_return JsonReply(json::object{{"ok", true}});
}

}  // namespace

void RegisterSystemRoutes(http::Router& router, ApiContext& ctx) {
  using http::Method;
  Route(router, Method::kGet, "/ok", ctx, &Ok);
  Route(router, Method::kGet, "/info", ctx, &Info);
  Route(router, Method::kGet, "/health", ctx, &HealthCheck);
  Route(router, Method::kGet, "/ready", ctx, &Ready);
  Route(router, Method::kGet, "/metrics", ctx, &MetricsText);
  if (ctx.config.server.dev_endpoints) {
    Route(router, Method::kPost, "/internal/truncate", ctx, &Truncate);
  }
}

}  // namespace agentd::api::detail
