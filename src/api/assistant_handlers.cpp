// /assistants endpoints (agent-protocol.md 3.1).

#include <array>
#include <utility>

#include "api/errors.hpp"
#include "api/handlers.hpp"
#include "api/render.hpp"
#include "api/validate.hpp"
#include "common/time.hpp"
#include "common/uuid.hpp"
#include "runtime/graph_file_nodes.hpp"

namespace agentd::api::detail {
namespace {

constexpr std::array<std::string_view, 5> kSortBy = {"assistant_id", "graph_id", "name",
                                                     "created_at", "updated_at"};

// The current assistant named by the path (a UUID or a graph name), or the 404 to answer.
boost::asio::awaitable<Result<model::Assistant>> LoadAssistant(ApiContext& ctx, Request& req) {
  std::string id = ResolveAssistantId(ctx, req.PathParam("assistant_id"));
  auto found = co_await ctx.storage.assistants().Get(Tenant(req), id);
  if (!found) {
    co_return Reword(found.error(), Errc::kNotFound, std::string(text::kAssistantNotFound));
  }
  co_return found;
}

Reply Create(ApiContext& ctx, Request& req) {
  auto body = ParseBody(req, ctx.config.server.json_max_depth);
  if (!body) co_return std::move(body.error());
  Validator v(*body);
  auto graph_id = v.String("graph_id", kRequired);
  auto assistant_id = v.Uuid("assistant_id");
  auto config = v.Object("config");
  auto context = v.Object("context");
  auto metadata = v.Object("metadata");
  auto if_exists = v.Enum("if_exists", {"raise", "do_nothing"});
  auto name = v.String("name");
  auto description = v.String("description");
  auto expires_at = ReadTtl(v, NowMs());
  if (!v.ok()) co_return v.Response();
  if (ctx.graphs.Find(*graph_id) == nullptr) {
    co_return ErrorResponse(MakeError(Errc::kNotFound, text::GraphNotFound(*graph_id)));
  }
  if (auto problem = runtime::CheckKnobTypes(*ctx.graphs.Find(*graph_id), config.value_or(json::object{}),
                                             context.value_or(json::object{}))) {
    co_return ErrorResponse(MakeError(Errc::kUnprocessable, *problem));
  }

  model::Assistant a;
  a.tenant = Tenant(req);
  a.assistant_id = assistant_id ? *assistant_id : NewUuid4();
  a.graph_id = *graph_id;
  if (name) a.name = *name;
  a.description = description;
  a.config = config.value_or(json::object{});
  a.context = context.value_or(json::object{});
  a.metadata = metadata.value_or(json::object{});
  a.expires_at = expires_at.value_or(0);
  auto mode = if_exists && *if_exists == "do_nothing" ? storage::IfExists::kDoNothing
                                                       : storage::IfExists::kRaise;
  auto created = co_await ctx.storage.assistants().Create(std::move(a), mode);
  if (!created) {
    co_return ErrorResponse(
        Reword(created.error(), Errc::kConflict, std::string(text::kAssistantExists)));
  }
  co_return JsonReply(AssistantJson(*created));
}

Reply Get(ApiContext& ctx, Request& req) {
  auto a = co_await LoadAssistant(ctx, req);
  if (!a) co_return ErrorResponse(a.error());
  co_return JsonReply(AssistantJson(*a));
}

Reply Patch(ApiContext& ctx, Request& req) {
  auto body = ParseBody(req, ctx.config.server.json_max_depth);
  if (!body) co_return std::move(body.error());
  Validator v(*body);
  storage::AssistantPatch patch;
  patch.graph_id = v.String("graph_id");
  patch.config = v.Object("config");
  patch.context = v.Object("context");
  patch.metadata = v.Object("metadata");
  patch.name = v.String("name");
  if (auto description = v.String("description")) patch.description = description;
  patch.expires_at = ReadTtl(v, NowMs());
  if (!v.ok()) co_return v.Response();
  if (patch.graph_id && ctx.graphs.Find(*patch.graph_id) == nullptr) {
    co_return ErrorResponse(MakeError(Errc::kNotFound, text::GraphNotFound(*patch.graph_id)));
  }
  std::string id = ResolveAssistantId(ctx, req.PathParam("assistant_id"));
  // The knobs are checked against the graph the assistant will have: the patch's, else its own.
  std::optional<std::string> graph_id = patch.graph_id;
  if (!graph_id && (patch.config || patch.context)) {
    auto current = co_await ctx.storage.assistants().Get(Tenant(req), id);
    if (current) graph_id = current->graph_id;  // a missing assistant is Update's 404
  }
  if (auto graph = graph_id ? ctx.graphs.Find(*graph_id) : nullptr) {
    if (auto problem = runtime::CheckKnobTypes(*graph, patch.config.value_or(json::object{}),
                                               patch.context.value_or(json::object{}))) {
      co_return ErrorResponse(MakeError(Errc::kUnprocessable, *problem));
    }
  }
  auto updated = co_await ctx.storage.assistants().Update(Tenant(req), id, std::move(patch));
  if (!updated) {
    co_return ErrorResponse(
        Reword(updated.error(), Errc::kNotFound, std::string(text::kAssistantNotFound)));
  }
  co_return JsonReply(AssistantJson(*updated));
}

// ref answers 200 ["<id>"]; py 204. The SDKs accept both; we follow ref.
Reply Delete(ApiContext& ctx, Request& req) {
  Validator v;
  bool delete_threads = v.QueryBool(req, "delete_threads").value_or(false);
  if (!v.ok()) co_return v.Response();
  std::string id = ResolveAssistantId(ctx, req.PathParam("assistant_id"));
  auto deleted = co_await ctx.storage.assistants().Delete(Tenant(req), id, delete_threads);
  if (!deleted) {
    co_return ErrorResponse(
        Reword(deleted.error(), Errc::kNotFound, std::string(text::kAssistantNotFound)));
  }
  co_return JsonReply(json::array{json::value(id)});
}

// Reads the filters shared by search and count.
storage::AssistantQuery ReadQuery(Validator& v, const Request& req) {
  storage::AssistantQuery q;
  q.tenant = Tenant(req);
  q.metadata = v.Object("metadata");
  q.graph_id = v.String("graph_id");
  q.name = v.String("name");
  return q;
}

Reply Search(ApiContext& ctx, Request& req) {
  auto body = ParseBody(req, ctx.config.server.json_max_depth);
  if (!body) co_return std::move(body.error());
  Validator v(*body);
  storage::AssistantQuery q = ReadQuery(v, req);
  q.limit = v.Limit();
  q.offset = v.Offset();
  q.sort_by = v.Enum("sort_by", kSortBy).value_or("created_at");
  q.sort_order = ToSortOrder(v.Enum("sort_order", {"asc", "desc"}));
  auto select = v.Select(AssistantFields());
  if (!v.ok()) co_return v.Response();
  std::int64_t limit = q.limit, offset = q.offset;
  auto page = co_await ctx.storage.assistants().Search(std::move(q));
  if (!page) co_return ErrorResponse(page.error());
  json::array out;
  for (const auto& a : page->items) out.push_back(SelectFields(AssistantJson(a), select));
  Response response = JsonReply(out);
  SetPagination(response, page->total, offset, limit);
  co_return response;
}

Reply Count(ApiContext& ctx, Request& req) {
  auto body = ParseBody(req, ctx.config.server.json_max_depth);
  if (!body) co_return std::move(body.error());
  Validator v(*body);
  storage::AssistantQuery q = ReadQuery(v, req);
  if (!v.ok()) co_return v.Response();
  auto count = co_await ctx.storage.assistants().Count(std::move(q));
  if (!count) co_return ErrorResponse(count.error());
  co_return JsonReply(json::value(*count));
}

// The assistant's graph, or the 404 to answer (assistant or graph missing).
boost::asio::awaitable<Result<std::shared_ptr<const runtime::GraphInfo>>> LoadGraph(ApiContext& ctx,
                                                                    Request& req) {
  auto a = co_await LoadAssistant(ctx, req);
  if (!a) co_return a.error();
  std::shared_ptr<const runtime::GraphInfo> graph = ctx.graphs.Find(a->graph_id);
  if (graph == nullptr) co_return MakeError(Errc::kNotFound, text::GraphNotFound(a->graph_id));
  co_return graph;
}

json::object NodeJson(const std::string& node, const std::string& kind) {
  if (node == "__start__" || node == "__end__") {
    return {{"id", node}, {"type", "schema"}, {"data", node}};
  }
  return {{"id", node},
          {"type", "runnable"},
          {"data", json::object{{"id", json::array{"agentd", kind, node}}, {"name", node}}}};
}

// Built-in graphs have no subgraphs, so xray (bool or depth) changes nothing; it is still
// validated so a typo answers 400.
Reply Graph(ApiContext& ctx, Request& req) {
  Validator v;
  if (auto xray = req.Query("xray"); xray && !ParseBool(*xray)) {
    v.QueryInt(req, "xray", 0, 1000);
  }
  if (!v.ok()) co_return v.Response();
  auto graph = co_await LoadGraph(ctx, req);
  if (!graph) co_return ErrorResponse(graph.error());
  json::array nodes, edges;
  for (const auto& n : (*graph)->nodes) nodes.push_back(NodeJson(n, (*graph)->kind));
  for (const auto& e : (*graph)->edges) {
    json::object edge{{"source", e.source}, {"target", e.target}};
    if (e.conditional) edge["conditional"] = true;
    edges.push_back(std::move(edge));
  }
  co_return JsonReply(json::object{{"nodes", std::move(nodes)}, {"edges", std::move(edges)}});
}

Reply Schemas(ApiContext& ctx, Request& req) {
  auto graph = co_await LoadGraph(ctx, req);
  if (!graph) co_return ErrorResponse(graph.error());
  const runtime::GraphInfo& g = **graph;
  co_return JsonReply(json::object{
      {"graph_id", g.graph_id},
      {"input_schema", g.input_schema},
      {"output_schema", g.output_schema},
      {"state_schema", g.state_schema},
      {"config_schema", g.config_schema},
      {"context_schema", g.context_schema},
  });
}

// Built-in graphs have no subgraphs.
Reply Subgraphs(ApiContext& ctx, Request& req) {
  Validator v;
  v.QueryBool(req, "recurse");
  if (!v.ok()) co_return v.Response();
  auto graph = co_await LoadGraph(ctx, req);
  if (!graph) co_return ErrorResponse(graph.error());
  co_return JsonReply(json::object{});
}

Reply Versions(ApiContext& ctx, Request& req) {
  auto body = ParseBody(req, ctx.config.server.json_max_depth);
  if (!body) co_return std::move(body.error());
  Validator v(*body);
  auto metadata = v.Object("metadata");
  auto limit = v.Limit();
  auto offset = v.Offset();
  if (!v.ok()) co_return v.Response();
  std::string id = ResolveAssistantId(ctx, req.PathParam("assistant_id"));
  auto versions = co_await ctx.storage.assistants().ListVersions(Tenant(req), id,
                                                                 std::move(metadata), limit, offset);
  if (!versions) {
    co_return ErrorResponse(
        Reword(versions.error(), Errc::kNotFound, text::AssistantIdNotFound(id)));
  }
  if (versions->empty() && offset == 0 && !v.Raw("metadata")) {
    co_return ErrorResponse(MakeError(Errc::kNotFound, text::AssistantIdNotFound(id)));
  }
  json::array out;
  for (const auto& ver : *versions) out.push_back(AssistantVersionJson(ver));
  co_return JsonReply(out);
}

Reply Latest(ApiContext& ctx, Request& req) {
  auto body = ParseBody(req, ctx.config.server.json_max_depth);
  if (!body) co_return std::move(body.error());
  Validator v(*body);
  auto version = v.Int("version", kRequired);
  if (!v.ok()) co_return v.Response();
  auto a = co_await LoadAssistant(ctx, req);
  if (!a) co_return ErrorResponse(a.error());
  auto set = co_await ctx.storage.assistants().SetLatest(Tenant(req), a->assistant_id, *version);
  if (!set) {
    co_return ErrorResponse(
        Reword(set.error(), Errc::kNotFound, std::string(text::kAssistantVersionNotFound)));
  }
  co_return JsonReply(AssistantJson(*set));
}

}  // namespace

void RegisterAssistantRoutes(http::Router& router, ApiContext& ctx) {
  using http::Method;
  Route(router, Method::kPost, "/assistants", ctx, &Create);
  Route(router, Method::kPost, "/assistants/search", ctx, &Search);
  Route(router, Method::kPost, "/assistants/count", ctx, &Count);
  Route(router, Method::kGet, "/assistants/{assistant_id}", ctx, &Get);
  Route(router, Method::kPatch, "/assistants/{assistant_id}", ctx, &Patch);
  Route(router, Method::kDelete, "/assistants/{assistant_id}", ctx, &Delete);
  Route(router, Method::kGet, "/assistants/{assistant_id}/graph", ctx, &Graph);
  Route(router, Method::kGet, "/assistants/{assistant_id}/schemas", ctx, &Schemas);
  Route(router, Method::kGet, "/assistants/{assistant_id}/subgraphs", ctx, &Subgraphs);
  Route(router, Method::kGet, "/assistants/{assistant_id}/subgraphs/{namespace}", ctx,
        &Subgraphs);
  Route(router, Method::kPost, "/assistants/{assistant_id}/versions", ctx, &Versions);
  Route(router, Method::kPost, "/assistants/{assistant_id}/latest", ctx, &Latest);
}

}  // namespace agentd::api::detail
