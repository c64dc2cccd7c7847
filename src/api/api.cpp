#include "api/api.hpp"

#include <algorithm>

#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include "api/errors.hpp"
#include "api/gate.hpp"
#include "api/handlers.hpp"
#include "api/run_handlers.hpp"
#include "api/validate.hpp"
#include "common/json.hpp"
#include "common/uuid.hpp"

namespace agentd::api {

void RegisterRoutes(http::Router& router, ApiContext& context) {
  if (!context.gate) context.gate = Gate::Make(context.config, context.metrics);
  detail::RegisterSystemRoutes(router, context);
  detail::RegisterAssistantRoutes(router, context);
  detail::RegisterThreadRoutes(router, context);
  detail::RegisterStateRoutes(router, context);
  detail::RegisterStoreRoutes(router, context);
  detail::RegisterRunRoutes(router, context);
  detail::RegisterBroadcastRoutes(router, context);
  detail::RegisterMcpRoutes(router, context);
  detail::RegisterA2aRoutes(router, context);
  detail::RegisterConsoleRoutes(router, context);
}

boost::asio::awaitable<Status> EnsureSystemAssistants(ApiContext& context, std::vector<std::string> refresh) {
  for (const auto& graph : context.graphs.all()) {
    model::Assistant a;
    a.assistant_id = SystemAssistantId(graph.graph_id);
    a.graph_id = graph.graph_id;
    a.name = graph.graph_id;
    if (!graph.spec.description.empty()) a.description = graph.spec.description;
    a.config = graph.spec.config;
    a.context = graph.spec.context;
    a.metadata = json::object{{"created_by", "system"}};
    auto created =
        co_await context.storage.assistants().Create(std::move(a), storage::IfExists::kDoNothing);
    if (!created) {
      co_return MakeError(created.error().code,
                          fmt::format("system assistant of graph \"{}\": {}", graph.graph_id,
                                      created.error().message));
    }
    if (std::find(refresh.begin(), refresh.end(), graph.graph_id) == refresh.end()) continue;
    storage::AssistantPatch patch;
    if (created->config != graph.spec.config) patch.config = graph.spec.config;
    if (created->context != graph.spec.context) patch.context = graph.spec.context;
    std::optional<std::string> description;
    if (!graph.spec.description.empty()) description = graph.spec.description;
    if (created->description != description) patch.description = description;
    if (!patch.config && !patch.context && !patch.description) continue;
    auto updated = co_await context.storage.assistants().Update(created->tenant, created->assistant_id,
                                                                std::move(patch));
    if (!updated) {
      co_return MakeError(updated.error().code,
                          fmt::format("system assistant of graph \"{}\": {}", graph.graph_id,
                                      updated.error().message));
    }
  }
  co_return Status{};
}

namespace detail {

Response JsonReply(const json::value& body, int status) {
  return http::Response::Json(status, ToJson(body));
}

std::string ResolveAssistantId(const ApiContext& ctx, std::string_view id) {
  if (ctx.graphs.Find(id) != nullptr) return SystemAssistantId(id);
  return std::string(id);
}

std::optional<std::string> PathUuid(const Request& request, std::string_view name,
                                    Response* refusal) {
  std::string_view value = request.PathParam(name);
  if (IsUuid(value)) return std::string(value);
  Validator v;
  v.InvalidUuid(json::array{json::value(name)});
  *refusal = v.Response();
  return std::nullopt;
}

void SetPagination(Response& response, std::int64_t total, std::int64_t offset,
                   std::int64_t limit) {
  response.SetHeader("X-Pagination-Total", std::to_string(total));
  if (offset + limit < total) {
    response.SetHeader("X-Pagination-Next", std::to_string(offset + limit));
  }
}

model::SortOrder ToSortOrder(const std::optional<std::string>& text) {
  return text && *text == "asc" ? model::SortOrder::kAsc : model::SortOrder::kDesc;
}

}  // namespace detail
}  // namespace agentd::api
