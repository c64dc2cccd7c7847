// /store endpoints (agent-protocol.md 8): namespaced key/value items.

#include <utility>

#include "api/errors.hpp"
#include "api/handlers.hpp"
#include "api/render.hpp"
#include "api/validate.hpp"

namespace agentd::api::detail {
namespace {

std::string Join(const std::vector<std::string>& labels) {
  std::string out;
  for (const auto& l : labels) {
    if (!out.empty()) out += '.';
    out += l;
  }
  return out;
}

// The GET form sends labels joined by dots.
std::vector<std::string> Split(std::string_view joined) {
  std::vector<std::string> labels;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = joined.find('.', start);
    labels.emplace_back(joined.substr(start, dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return labels;
}

// ref: 400 `Namespace is required` when empty (and `required`); 422 for an empty label or one
// containing a period. Returns the error to answer, or nullopt when the namespace is valid.
std::optional<Error> CheckNamespace(const std::vector<std::string>& ns, bool required) {
  if (ns.empty() && required) {
    return MakeError(Errc::kInvalidArgument, std::string(text::kNamespaceRequired));
  }
  for (const auto& label : ns) {
    if (label.empty() || label.find('.') != std::string::npos) {
      return MakeError(Errc::kUnprocessable, text::BadNamespaceLabel(Join(ns)));
    }
  }
  return std::nullopt;
}

Reply Put(ApiContext& ctx, Request& req) {
  auto body = ParseBody(req, ctx.config.server.json_max_depth);
  if (!body) co_return std::move(body.error());
  Validator v(*body);
  auto ns = v.Strings("namespace", kRequired);
  auto key = v.String("key", kRequired);
  auto value = v.Object("value");
  if (!value && v.Raw("value") == nullptr) {
    v.AddIssue({{"code", "invalid_type"},
                {"expected", "object"},
                {"received", "undefined"},
                {"path", json::array{"value"}},
                {"message", "Required"}});
  }
  // index: false | string[] | null. Accepted and ignored (no semantic index yet).
  if (const json::value* index = v.Raw("index");
      index != nullptr && !(index->is_bool() && !index->get_bool())) {
    v.Strings("index");
  }
  auto ttl = v.Number("ttl");
  if (!v.ok()) co_return v.Response();
  if (auto bad = CheckNamespace(*ns, true)) co_return ErrorResponse(*bad);

  model::StoreItem item;
  item.tenant = Tenant(req);
  item.namespace_path = std::move(*ns);
  item.key = std::move(*key);
  item.value = std::move(*value);
  if (ttl && *ttl > 0) item.ttl_minutes = *ttl;
  auto put = co_await ctx.storage.items().Put(std::move(item));
  if (!put) co_return ErrorResponse(put.error());
  co_return http::Response::Empty(204);
}

Reply Get(ApiContext& ctx, Request& req) {
  Validator v;
  auto key = req.Query("key");
  if (!key) v.Required(json::array{"key"});
  bool refresh_ttl = v.QueryBool(req, "refresh_ttl").value_or(false);
  if (!v.ok()) co_return v.Response();
  std::vector<std::string> ns;
  if (auto joined = req.Query("namespace"); joined && !joined->empty()) ns = Split(*joined);
  if (auto bad = CheckNamespace(ns, true)) co_return ErrorResponse(*bad);
  auto item = co_await ctx.storage.items().Get(Tenant(req), std::move(ns), std::string(*key),
                                               refresh_ttl);
  if (!item) co_return ErrorResponse(item.error());
  // Absent: 200 null (captured), not 404.
  if (!*item) co_return JsonReply(nullptr);
  co_return JsonReply(ItemJson(**item));
}

Reply Delete(ApiContext& ctx, Request& req) {
  auto body = ParseBody(req, ctx.config.server.json_max_depth);
  if (!body) co_return std::move(body.error());
  Validator v(*body);
  auto ns = v.Strings("namespace", kRequired);
  auto key = v.String("key", kRequired);
  if (!v.ok()) co_return v.Response();
  if (auto bad = CheckNamespace(*ns, true)) co_return ErrorResponse(*bad);
  auto deleted = co_await ctx.storage.items().Delete(Tenant(req), std::move(*ns), std::move(*key));
  if (!deleted) co_return ErrorResponse(deleted.error());
  co_return http::Response::Empty(204);
}

Reply Search(ApiContext& ctx, Request& req) {
  auto body = ParseBody(req, ctx.config.server.json_max_depth);
  if (!body) co_return std::move(body.error());
  Validator v(*body);
  storage::ItemSearch q;
  q.tenant = Tenant(req);
  q.namespace_prefix = v.Strings("namespace_prefix").value_or(std::vector<std::string>{});
  q.filter = v.Object("filter");
  q.limit = v.Limit();
  q.offset = v.Offset();
  auto query = v.String("query");
  q.refresh_ttl = v.Bool("refresh_ttl").value_or(false);
  if (!v.ok()) co_return v.Response();
  // No store index exists to rank by: answering every item unranked would pretend to have
  // searched. An empty query asks for nothing and reads as absent.
  if (query && !query->empty()) {
    co_return ErrorReply(HttpStatus(Errc::kUnsupported), code::kSemanticSearchNotConfigured,
                         text::kSemanticSearchNotConfigured);
  }
  if (auto bad = CheckNamespace(q.namespace_prefix, false)) co_return ErrorResponse(*bad);
  auto items = co_await ctx.storage.items().Search(std::move(q));
  if (!items) co_return ErrorResponse(items.error());
  json::array out;
  for (const auto& item : *items) out.push_back(ItemJson(item, /*with_score=*/true));
  co_return JsonReply(json::object{{"items", std::move(out)}});
}

Reply Namespaces(ApiContext& ctx, Request& req) {
  auto body = ParseBody(req, ctx.config.server.json_max_depth);
  if (!body) co_return std::move(body.error());
  Validator v(*body);
  storage::NamespaceQuery q;
  q.tenant = Tenant(req);
  q.prefix = v.Strings("prefix");
  q.suffix = v.Strings("suffix");
  q.max_depth = v.Int("max_depth");
  if (q.max_depth && *q.max_depth < 1) {
    v.AddIssue({{"code", "too_small"},
                {"minimum", 1},
                {"type", "number"},
                {"inclusive", true},
                {"exact", false},
                {"path", json::array{"max_depth"}},
                {"message", "Number must be greater than or equal to 1"}});
  }
  q.limit = v.Limit(100);
  q.offset = v.Offset();
  if (!v.ok()) co_return v.Response();
  auto found = co_await ctx.storage.items().ListNamespaces(std::move(q));
  if (!found) co_return ErrorResponse(found.error());
  json::array out;
  for (const auto& ns : *found) {
    json::array labels;
    for (const auto& l : ns) labels.emplace_back(l);
    out.push_back(std::move(labels));
  }
  co_return JsonReply(json::object{{"namespaces", std::move(out)}});
}

}  // namespace

void RegisterStoreRoutes(http::Router& router, ApiContext& ctx) {
  using http::Method;
  Route(router, Method::kPut, "/store/items", ctx, &Put);
  Route(router, Method::kGet, "/store/items", ctx, &Get);
  Route(router, Method::kDelete, "/store/items", ctx, &Delete);
  Route(router, Method::kPost, "/store/items/search", ctx, &Search);
  Route(router, Method::kPost, "/store/namespaces", ctx, &Namespaces);
}

}  // namespace agentd::api::detail
