#pragma once
// Private to api/: the route groups RegisterRoutes() installs and the helpers their handlers
// share. Handlers are coroutines taking (ApiContext&, http::Request&): both outlive the call
// (the router owns the context reference, the server awaits the handler before dropping the
// request).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>

#include "api/api.hpp"
#include "api/gate.hpp"
#include "http/message.hpp"
#include "http/router.hpp"
#include "model/types.hpp"

namespace agentd::api::detail {

namespace json = boost::json;
using http::Request;
using http::Response;
using Reply = boost::asio::awaitable<http::Response>;
using HandlerFn = Reply (*)(ApiContext&, Request&);

void RegisterSystemRoutes(http::Router& router, ApiContext& ctx);
void RegisterAssistantRoutes(http::Router& router, ApiContext& ctx);
void RegisterThreadRoutes(http::Router& router, ApiContext& ctx);
void RegisterStateRoutes(http::Router& router, ApiContext& ctx);
void RegisterStoreRoutes(http::Router& router, ApiContext& ctx);
void RegisterBroadcastRoutes(http::Router& router, ApiContext& ctx);
void RegisterConsoleRoutes(http::Router& router, ApiContext& ctx);  // console_handlers.cpp
// The console's API (console_api_handlers.cpp): session, operations, stream tokens, traces.
void RegisterConsoleApiRoutes(http::Router& router, ApiContext& ctx);
// agentd as an MCP server (mcp_handlers.cpp) and an A2A agent (a2a_handlers.cpp).
void RegisterMcpRoutes(http::Router& router, ApiContext& ctx);
void RegisterA2aRoutes(http::Router& router, ApiContext& ctx);

// Runs `fn` behind the context's gate (gate.hpp): auth, rate limits, Request::principal.
// A coroutine for every gated route (the limiter may ask Redis); public routes and contexts
// without a gate call `fn` directly. `thread_scoped` adds the TTL check of thread_expiry.hpp
// (one thread read) after auth.
Reply Guarded(ApiContext& ctx, Request& request, HandlerFn fn, RouteKind kind,
              bool thread_scoped = false);

// Who answers for an expired {thread_id} (thread_expiry.hpp): the gate, with a thread read of
// its own, or the handler, whose own storage read already says so (ThreadStore::Get, Copy:
// kNotFound "Thread <id> expired at ..." that Reword keeps). kHandler keeps the request to
// one thread read; use it only for handlers that read the thread before acting on it.
enum class ThreadTtl { kGate, kHandler };

// Binds a handler function to the context, behind the gate. The lambda is not a coroutine: it
// returns the handler's awaitable, whose frame holds the two references.
inline void Route(http::Router& router, http::Method method, std::string pattern, ApiContext& ctx,
                  HandlerFn fn, ThreadTtl ttl = ThreadTtl::kGate) {
  const RouteKind kind = ClassifyRoute(method, pattern);
  const bool thread_scoped =
      ttl == ThreadTtl::kGate && pattern.find("{thread_id}") != std::string::npos;
  router.Add(method, std::move(pattern), [&ctx, fn, kind, thread_scoped](Request& request) {
    return Guarded(ctx, request, fn, kind, thread_scoped);
  });
}

// The owner of every object a request touches: the gate's principal ("" with auth off).
inline std::string Tenant(const Request& request) { return request.principal.tenant; }

// 200 (or `status`) with `body` as compact JSON.
Response JsonReply(const json::value& body, int status = 200);

// A registered graph's name stands for its system assistant (agent-protocol.md 1.3).
std::string ResolveAssistantId(const ApiContext& ctx, std::string_view id);

// The path parameter `name` when it is a UUID; otherwise nullopt and `*refusal` is the 400
// validation response naming ["<name>"].
std::optional<std::string> PathUuid(const Request& request, std::string_view name,
                                    Response* refusal);

// X-Pagination-Total, and X-Pagination-Next when matches remain past this page.
void SetPagination(Response& response, std::int64_t total, std::int64_t offset,
                   std::int64_t limit);

model::SortOrder ToSortOrder(const std::optional<std::string>& text);

}  // namespace agentd::api::detail
