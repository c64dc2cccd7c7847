// /threads endpoints (agent-protocol.md 3.2). State and history live in state_handlers.cpp.

#include <array>
#include <chrono>
#include <utility>

#include "api/errors.hpp"
#include "api/handlers.hpp"
#include "api/render.hpp"
#include "api/validate.hpp"
#include "common/time.hpp"
#include "common/uuid.hpp"
#include "storage/query.hpp"

namespace agentd::api::detail {
namespace {

constexpr std::array<std::string_view, 5> kSortBy = {"thread_id", "status", "created_at",
                                                     "updated_at", "state_updated_at"};
constexpr std::array<std::string_view, 4> kStatuses = {"idle", "busy", "interrupted", "error"};

Reply Create(ApiContext& ctx, Request& req) {
  auto body = ParseBody(req, ctx.config.server.json_max_depth);
  if (!body) co_return std::move(body.error());
  Validator v(*body);
  auto thread_id = v.Uuid("thread_id");
  auto metadata = v.Object("metadata");
  auto if_exists = v.Enum("if_exists", {"raise", "do_nothing"});
  auto supersteps = v.Array("supersteps");
  auto expires_at = ReadTtl(v, NowMs());
  if (!v.ok()) co_return v.Response();
  // TODO(api): seed history from supersteps once the run engine can apply node writes.
  if (supersteps && !supersteps->empty()) {
    co_return ErrorResponse(MakeError(Errc::kInvalidArgument, "supersteps is not supported yet"));
  }

  model::Thread t;
  t.tenant = Tenant(req);
  t.thread_id = thread_id ? *thread_id : NewUuid4();
  t.metadata = metadata.value_or(json::object{});
  t.expires_at = expires_at.value_or(0);
  auto mode = if_exists && *if_exists == "do_nothing" ? storage::IfExists::kDoNothing
                                                       : storage::IfExists::kRaise;
  auto created = co_await ctx.storage.threads().Create(std::move(t), mode);
  if (!created) {
    co_return ErrorResponse(
        Reword(created.error(), Errc::kConflict, std::string(text::kThreadExists)));
  }
  co_return JsonReply(ThreadJson(*created));
}

Reply Get(ApiContext& ctx, Request& req) {
  Response refusal;
  auto id = PathUuid(req, "thread_id", &refusal);
  if (!id) co_return refusal;
  auto t = co_await ctx.storage.threads().Get(Tenant(req), *id);
  if (!t) co_return ErrorResponse(Reword(t.error(), Errc::kNotFound, text::ThreadWithIdNotFound(*id)));
  co_return JsonReply(ThreadJson(*t));
}

Reply Patch(ApiContext& ctx, Request& req) {
  Response refusal;
  auto id = PathUuid(req, "thread_id", &refusal);
  if (!id) co_return refusal;
  auto body = ParseBody(req, ctx.config.server.json_max_depth);
  if (!body) co_return std::move(body.error());
  Validator v(*body);
  storage::ThreadPatch patch;
  patch.metadata = v.Object("metadata");
  patch.expires_at = ReadTtl(v, NowMs());
  if (!v.ok()) co_return v.Response();
  auto updated = co_await ctx.storage.threads().Update(Tenant(req), *id, std::move(patch));
  if (!updated) {
    co_return ErrorResponse(
        Reword(updated.error(), Errc::kNotFound, std::string(text::kThreadNotFound)));
  }
  co_return JsonReply(ThreadJson(*updated));
}

Reply Delete(ApiContext& ctx, Request& req) {
  Response refusal;
  auto id = PathUuid(req, "thread_id", &refusal);
  if (!id) co_return refusal;
  // Another tenant's thread is missing: check ownership before touching its runs.
  if (auto owned = co_await ctx.storage.threads().Get(Tenant(req), *id); !owned) {
    co_return ErrorResponse(Reword(owned.error(), Errc::kNotFound, text::ThreadWithIdNotFound(*id)));
  }
  // Active runs stop first (bounded), so none writes to the thread after it is gone.
  if (ctx.runs != nullptr) {
    co_await ctx.runs->CancelThread(Tenant(req), *id, scheduler::CancelAction::kInterrupt,
                                    std::chrono::seconds(5));
  }
  auto deleted = co_await ctx.storage.threads().Delete(Tenant(req), *id);
  if (!deleted) {
    co_return ErrorResponse(
        Reword(deleted.error(), Errc::kNotFound, text::ThreadWithIdNotFound(*id)));
  }
  co_return http::Response::Empty(204);
}

Reply Copy(ApiContext& ctx, Request& req) {
  Response refusal;
  auto id = PathUuid(req, "thread_id", &refusal);
  if (!id) co_return refusal;
  std::string new_id = NewUuid4();
  json::object extra{{"thread_id", new_id}};
  auto copied =
      co_await ctx.storage.threads().Copy(Tenant(req), *id, new_id, std::move(extra));
  if (!copied) {
    // The protocol answers 409 (not 404) for a copy of a missing thread; an expired one is
    // 404 with the reason, like every other route.
    if (copied.error().code == Errc::kNotFound && !storage::IsExpiredError(copied.error())) {
      co_return ErrorResponse(MakeError(Errc::kConflict, std::string(text::kThreadNotFound)));
    }
    co_return ErrorResponse(copied.error());
  }
  co_return JsonReply(ThreadJson(*copied));
}

// Reads the filters shared by search and count.
storage::ThreadQuery ReadQuery(Validator& v, const Request& req) {
  storage::ThreadQuery q;
  q.tenant = Tenant(req);
  q.metadata = v.Object("metadata");
  q.values = v.Object("values");
  if (auto status = v.Enum("status", kStatuses)) q.status = model::ParseThreadStatus(*status);
  return q;
}

Reply Search(ApiContext& ctx, Request& req) {
  auto body = ParseBody(req, ctx.config.server.json_max_depth);
  if (!body) co_return std::move(body.error());
  Validator v(*body);
  storage::ThreadQuery q = ReadQuery(v, req);
  q.ids = v.Uuids("ids");
  q.limit = v.Limit();
  q.offset = v.Offset();
  q.sort_by = v.Enum("sort_by", kSortBy).value_or("created_at");
  q.sort_order = ToSortOrder(v.Enum("sort_order", {"asc", "desc"}));
  auto select = v.Select(ThreadFields());
  if (!v.ok()) co_return v.Response();
  std::int64_t limit = q.limit, offset = q.offset;
  auto page = co_await ctx.storage.threads().Search(std::move(q));
  if (!page) co_return ErrorResponse(page.error());
  json::array out;
  for (const auto& t : page->items) out.push_back(SelectFields(ThreadJson(t), select));
  Response response = JsonReply(out);
  SetPagination(response, page->total, offset, limit);
  co_return response;
}

Reply Count(ApiContext& ctx, Request& req) {
  auto body = ParseBody(req, ctx.config.server.json_max_depth);
  if (!body) co_return std::move(body.error());
  Validator v(*body);
  storage::ThreadQuery q = ReadQuery(v, req);
  if (!v.ok()) co_return v.Response();
  auto count = co_await ctx.storage.threads().Count(std::move(q));
  if (!count) co_return ErrorResponse(count.error());
  co_return JsonReply(json::value(*count));
}

}  // namespace

void RegisterThreadRoutes(http::Router& router, ApiContext& ctx) {
  using http::Method;
  Route(router, Method::kPost, "/threads", ctx, &Create);
  Route(router, Method::kPost, "/threads/search", ctx, &Search);
  Route(router, Method::kPost, "/threads/count", ctx, &Count);
  Route(router, Method::kGet, "/threads/{thread_id}", ctx, &Get, ThreadTtl::kHandler);
  // Update applies to an expired thread (a run may finish on it), so the gate checks first.
  Route(router, Method::kPatch, "/threads/{thread_id}", ctx, &Patch);
  Route(router, Method::kDelete, "/threads/{thread_id}", ctx, &Delete, ThreadTtl::kHandler);
  Route(router, Method::kPost, "/threads/{thread_id}/copy", ctx, &Copy, ThreadTtl::kHandler);
}

}  // namespace agentd::api::detail
