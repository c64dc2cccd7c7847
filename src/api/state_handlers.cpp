// Thread state and history (agent-protocol.md 6.3, 6.4): ThreadStates are read from the
// checkpoint store; values.messages is the fold of the checkpoint chain's message writes.

#include <utility>

#include "api/errors.hpp"
#include "api/handlers.hpp"
#include "api/render.hpp"
#include "api/validate.hpp"
#include "common/uuid.hpp"
#include "runtime/executor.hpp"
#include "runtime/messages.hpp"

namespace agentd::api::detail {
namespace {

boost::asio::awaitable<Result<model::Thread>> LoadThread(ApiContext& ctx, const Request& req,
                                                         const std::string& id) {
  auto t = co_await ctx.storage.threads().Get(Tenant(req), id);
  if (!t) co_return Reword(t.error(), Errc::kNotFound, text::ThreadWithIdNotFound(id));
  co_return t;
}

// The ThreadState at `cp`. A checkpoint whose chain wrote no messages has no `messages` key
// (LangGraph shows only channels that were written).
boost::asio::awaitable<Result<json::object>> StateAt(ApiContext& ctx, const model::Checkpoint& cp) {
  auto writes = co_await ctx.storage.checkpoints().MessageWrites(cp.thread_id, cp.checkpoint_id);
  if (!writes) co_return writes.error();
  std::optional<json::array> messages;
  if (!writes->empty()) messages = runtime::FoldMessages(*writes);
  co_return ThreadStateJson(cp, std::move(messages));
}

// The state at `checkpoint_id` (latest of `ns` when empty) of a thread known to exist.
boost::asio::awaitable<Result<json::object>> StateOf(ApiContext& ctx, const std::string& thread_id,
                                                     const std::string& checkpoint_ns,
                                                     const std::optional<std::string>& checkpoint_id) {
  if (!checkpoint_id) {
    auto latest = co_await ctx.storage.checkpoints().Latest(thread_id, checkpoint_ns);
    if (!latest) co_return latest.error();
    if (!*latest) co_return EmptyThreadState();
    co_return co_await StateAt(ctx, **latest);
  }
  auto cp = co_await ctx.storage.checkpoints().Get(thread_id, *checkpoint_id);
  if (!cp) {
    co_return Reword(cp.error(), Errc::kNotFound,
                     "Checkpoint with ID " + *checkpoint_id + " not found");
  }
  co_return co_await StateAt(ctx, *cp);
}

Reply GetState(ApiContext& ctx, Request& req) {
  Response refusal;
  auto id = PathUuid(req, "thread_id", &refusal);
  if (!id) co_return refusal;
  std::optional<std::string> checkpoint_id;
  if (!req.PathParam("checkpoint_id").empty()) {
    checkpoint_id = PathUuid(req, "checkpoint_id", &refusal);
    if (!checkpoint_id) co_return refusal;
  }
  Validator v;
  v.QueryBool(req, "subgraphs");  // built-in graphs have no subgraphs: validated, no effect
  if (!v.ok()) co_return v.Response();
  auto thread = co_await LoadThread(ctx, req, *id);
  if (!thread) co_return ErrorResponse(thread.error());
  auto state = co_await StateOf(ctx, *id, "", checkpoint_id);
  if (!state) co_return ErrorResponse(state.error());
  co_return JsonReply(*state);
}

Reply PostStateCheckpoint(ApiContext& ctx, Request& req) {
  Response refusal;
  auto id = PathUuid(req, "thread_id", &refusal);
  if (!id) co_return refusal;
  auto body = ParseBody(req, ctx.config.server.json_max_depth);
  if (!body) co_return std::move(body.error());
  Validator v(*body);
  std::optional<std::string> checkpoint_id;
  std::string checkpoint_ns;
  if (auto cp = v.Child("checkpoint")) {
    checkpoint_id = cp->Uuid("checkpoint_id");
    checkpoint_ns = cp->String("checkpoint_ns").value_or("");
    cp->Object("checkpoint_map");
  }
  v.Bool("subgraphs");
  if (!v.ok()) co_return v.Response();
  auto thread = co_await LoadThread(ctx, req, *id);
  if (!thread) co_return ErrorResponse(thread.error());
  auto state = co_await StateOf(ctx, *id, checkpoint_ns, checkpoint_id);
  if (!state) co_return ErrorResponse(state.error());
  co_return JsonReply(*state);
}

// Shared by POST (body) and GET (query) history once the query is read.
Reply History(ApiContext& ctx, const Request& req, storage::HistoryQuery query) {
  auto thread = co_await LoadThread(ctx, req, query.thread_id);
  if (!thread) co_return ErrorResponse(thread.error());
  auto list = co_await ctx.storage.checkpoints().List(std::move(query));
  if (!list) co_return ErrorResponse(list.error());
  json::array out;
  // TODO(api): one MessageWrites per checkpoint; fold once along the chain if pages get large.
  for (const auto& cp : *list) {
    auto state = co_await StateAt(ctx, cp);
    if (!state) co_return ErrorResponse(state.error());
    out.push_back(std::move(*state));
  }
  co_return JsonReply(out);
}

Reply PostHistory(ApiContext& ctx, Request& req) {
  Response refusal;
  auto id = PathUuid(req, "thread_id", &refusal);
  if (!id) co_return refusal;
  auto body = ParseBody(req, ctx.config.server.json_max_depth);
  if (!body) co_return std::move(body.error());
  Validator v(*body);
  storage::HistoryQuery q;
  q.thread_id = *id;
  q.limit = v.Limit();
  q.metadata = v.Object("metadata");
  // `before`: a checkpoint id (ref) or {configurable: {checkpoint_id}} (the SDK's type).
  if (const json::value* before = v.Raw("before"); before != nullptr && before->is_object()) {
    if (auto b = v.Child("before")) {
      if (auto conf = b->Child("configurable")) q.before = conf->String("checkpoint_id");
    }
  } else {
    q.before = v.String("before");
  }
  if (auto cp = v.Child("checkpoint")) q.checkpoint_ns = cp->String("checkpoint_ns").value_or("");
  if (!v.ok()) co_return v.Response();
  co_return co_await History(ctx, req, std::move(q));
}

Reply GetHistory(ApiContext& ctx, Request& req) {
  Response refusal;
  auto id = PathUuid(req, "thread_id", &refusal);
  if (!id) co_return refusal;
  Validator v;
  storage::HistoryQuery q;
  q.thread_id = *id;
  q.limit = v.QueryInt(req, "limit", 1, 1000).value_or(10);
  if (auto before = req.Query("before")) q.before = std::string(*before);
  if (!v.ok()) co_return v.Response();
  co_return co_await History(ctx, req, std::move(q));
}

// updateState (agent-protocol.md 6.4): the executor applies the values through the reducers
// as `as_node`'s writes and stores one checkpoint; the thread's values follow.
Reply UpdateState(ApiContext& ctx, Request& req) {
  Response refusal;
  auto id = PathUuid(req, "thread_id", &refusal);
  if (!id) co_return refusal;
  auto body = ParseBody(req, ctx.config.server.json_max_depth);
  if (!body) co_return std::move(body.error());
  Validator v(*body);
  auto as_node = v.String("as_node");
  auto checkpoint_id = v.Uuid("checkpoint_id");
  if (auto checkpoint = v.Child("checkpoint")) {
    if (auto cp = checkpoint->Uuid("checkpoint_id")) checkpoint_id = cp;
  }
  json::value values;
  if (const json::value* raw = v.Raw("values")) {
    if (raw->is_object() || raw->is_array()) {
      values = *raw;
    } else {
      v.InvalidType(json::array{"values"}, "object", JsonTypeName(*raw));
    }
  }
  if (!v.ok()) co_return v.Response();
  auto thread = co_await LoadThread(ctx, req, *id);
  if (!thread) co_return ErrorResponse(thread.error());
  // The scheduler (its slots; in cluster mode also the database) is the truth about active
  // runs; the stored status may lag.
  bool busy = thread->status == model::ThreadStatus::kBusy;
  if (!busy && ctx.runs != nullptr) busy = co_await ctx.runs->IsThreadBusy(Tenant(req), *id);
  if (busy) {
    co_return ErrorResponse(MakeError(Errc::kConflict, std::string(text::kThreadBusy)));
  }
  const json::value* graph_id = thread->metadata.if_contains("graph_id");
  if (graph_id == nullptr || !graph_id->is_string()) {
    co_return ErrorResponse(MakeError(Errc::kInvalidArgument, text::ThreadHasNoGraph(*id)));
  }
  std::shared_ptr<const runtime::GraphInfo> graph = ctx.graphs.Find(graph_id->as_string());
  if (graph == nullptr) {
    co_return ErrorResponse(MakeError(Errc::kNotFound, text::GraphNotFound(graph_id->as_string())));
  }
  if (ctx.executor == nullptr) {
    // A context built without the run engine (api unit tests): refused, never 5xx (the SDK
    // retries those).
    co_return ErrorResponse(MakeError(Errc::kUnprocessable,
                                      "updateState is not available until the run engine lands"));
  }
  auto updated = co_await ctx.executor->UpdateState(*graph, *id, std::move(values), as_node,
                                                     checkpoint_id);
  if (!updated) co_return ErrorResponse(updated.error());
  storage::ThreadPatch patch;
  patch.values = updated->values;
  auto stored = co_await ctx.storage.threads().Update(Tenant(req), *id, std::move(patch));
  if (!stored && stored.error().code != Errc::kNotFound) co_return ErrorResponse(stored.error());
  co_return JsonReply(
      json::object{{"checkpoint", CheckpointRefJson(*id, "", updated->checkpoint_id)}});
}

}  // namespace

void RegisterStateRoutes(http::Router& router, ApiContext& ctx) {
  using http::Method;
  // Every one of these reads the thread first (LoadThread), which answers for its expiry.
  constexpr auto kOwn = ThreadTtl::kHandler;
  Route(router, Method::kGet, "/threads/{thread_id}/state", ctx, &GetState, kOwn);
  Route(router, Method::kPost, "/threads/{thread_id}/state", ctx, &UpdateState, kOwn);
  Route(router, Method::kGet, "/threads/{thread_id}/state/{checkpoint_id}", ctx, &GetState, kOwn);
  Route(router, Method::kPost, "/threads/{thread_id}/state/checkpoint", ctx, &PostStateCheckpoint,
        kOwn);
  Route(router, Method::kPost, "/threads/{thread_id}/history", ctx, &PostHistory, kOwn);
  Route(router, Method::kGet, "/threads/{thread_id}/history", ctx, &GetHistory, kOwn);
}

}  // namespace agentd::api::detail
