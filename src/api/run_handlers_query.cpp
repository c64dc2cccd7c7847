// Run lookup endpoints: list, get, delete, join, join stream, cancel.
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <fmt/core.h>

#include "api/errors.hpp"
#include "api/render.hpp"
#include "api/run_handlers.hpp"
#include "api/sse.hpp"
#include "common/json.hpp"
#include "scheduler/run_json.hpp"

namespace agentd::api::detail {
namespace {

namespace asio = boost::asio;
using scheduler::RunHandle;

constexpr std::string_view kRunNotFound = "Run not found";
constexpr std::string_view kRunStatuses[] = {"pending", "running", "success",
                                             "error",   "timeout", "interrupted"};
constexpr std::string_view kRunFields[] = {"run_id",   "thread_id",  "assistant_id",
                                           "status",   "metadata",   "multitask_strategy",
                                           "kwargs",   "created_at", "updated_at",
                                           "usage"};
constexpr std::string_view kActions[] = {"interrupt", "rollback"};

Response Unavailable() {
  return ErrorResponse(MakeError(Errc::kUnavailable, "runs are not available"));
}

// The run named by the path, 404 when it is missing or on another thread.
asio::awaitable<Result<model::Run>> LoadRun(ApiContext& ctx, const Request& req,
                                            const std::optional<std::string>& thread_id,
                                            const std::string& run_id) {
  auto run = co_await ctx.storage.runs().Get(Tenant(req), run_id);
  if (!run) co_return Reword(run.error(), Errc::kNotFound, std::string(kRunNotFound));
  if (thread_id && run->thread_id != *thread_id) {
    co_return MakeError(Errc::kNotFound, std::string(kRunNotFound));
  }
  co_return run;
}

// Path ids: thread (unless stateless) and run. nullopt: `*refusal` is the 400.
bool ReadIds(const Request& req, bool stateless, std::optional<std::string>* thread_id,
             std::string* run_id, Response* refusal) {
  if (!stateless) {
    *thread_id = PathUuid(req, "thread_id", refusal);
    if (!*thread_id) return false;
  }
  auto run = PathUuid(req, "run_id", refusal);
  if (!run) return false;
  *run_id = *run;
  return true;
}

Reply ListRuns(ApiContext& ctx, Request& req) {
  Response refusal;
  auto thread_id = PathUuid(req, "thread_id", &refusal);
  if (!thread_id) co_return refusal;
  Validator v;
  storage::RunQuery q;
  q.tenant = Tenant(req);
  q.thread_id = *thread_id;
  q.limit = v.QueryInt(req, "limit", 1, 1000).value_or(10);
  q.offset = v.QueryInt(req, "offset", 0, INT64_MAX).value_or(0);
  if (auto status = req.Query("status")) {
    q.status = model::ParseRunStatus(*status);
    if (!q.status) v.InvalidEnum(json::array{"status"}, kRunStatuses, *status);
  }
  std::optional<std::vector<std::string>> select;
  auto fields = QueryArray(req, "select");
  if (!fields.empty()) {
    for (const auto& f : fields) {
      if (std::find(std::begin(kRunFields), std::end(kRunFields), f) == std::end(kRunFields)) {
        v.InvalidEnum(json::array{"select"}, kRunFields, f);
      }
    }
    select = fields;
  }
  if (!v.ok()) co_return v.Response();
  auto runs = co_await ctx.storage.runs().List(std::move(q));
  if (!runs) {
    co_return ErrorResponse(
        Reword(runs.error(), Errc::kNotFound, text::ThreadWithIdNotFound(*thread_id)));
  }
  json::array out;
  for (const auto& run : *runs) out.push_back(SelectFields(scheduler::RunJson(run), select));
  co_return JsonReply(out);
}

Reply GetRun(ApiContext& ctx, Request& req) {
  std::optional<std::string> thread_id;
  std::string run_id;
  Response refusal;
  if (!ReadIds(req, false, &thread_id, &run_id, &refusal)) co_return refusal;
  auto run = co_await LoadRun(ctx, req, thread_id, run_id);
  if (!run) co_return ErrorResponse(run.error());
  co_return JsonReply(scheduler::RunJson(*run));
}

Reply DeleteRun(ApiContext& ctx, Request& req) {
  if (ctx.runs == nullptr) co_return Unavailable();
  std::optional<std::string> thread_id;
  std::string run_id;
  Response refusal;
  if (!ReadIds(req, false, &thread_id, &run_id, &refusal)) co_return refusal;
  auto run = co_await LoadRun(ctx, req, thread_id, run_id);
  if (!run) co_return ErrorResponse(run.error());
  // An active run is rolled back (deleted with its checkpoints), as ref deletes it anyway.
  auto cancel = co_await ctx.runs->Cancel(Tenant(req), run_id, scheduler::CancelAction::kRollback);
  if (cancel && *cancel == scheduler::CancelRequest::kRequested) {
    co_await ctx.runs->WaitEnded(Tenant(req), run_id, std::chrono::seconds(5));
  }
  auto deleted = co_await ctx.storage.runs().Delete(Tenant(req), run_id);
  if (!deleted && deleted.error().code != Errc::kNotFound) co_return ErrorResponse(deleted.error());
  co_return Response::Empty(204);
}

Reply Join(ApiContext& ctx, Request& req) {
  if (ctx.runs == nullptr) co_return Unavailable();
  std::optional<std::string> thread_id;
  std::string run_id;
  Response refusal;
  if (!ReadIds(req, false, &thread_id, &run_id, &refusal)) co_return refusal;
  auto thread = co_await ctx.storage.threads().Get(Tenant(req), *thread_id);
  if (!thread) {
    co_return ErrorResponse(
        Reword(thread.error(), Errc::kNotFound, text::ThreadWithIdNotFound(*thread_id)));
  }
  if (auto h = ctx.runs->Find(run_id); h && h->thread_id() == *thread_id) {
    co_return WaitResponse(ctx, h, false);
  }
  auto run = co_await LoadRun(ctx, req, thread_id, run_id);
  if (!run) co_return ErrorResponse(run.error());
  if (ctx.runs->clustered() && (run->status == model::RunStatus::kPending ||
                                run->status == model::RunStatus::kRunning)) {
    co_return RemoteWaitResponse(ctx, Tenant(req), *run);  // it runs on another instance
  }
  auto body = co_await ctx.runs->FinishedBody(Tenant(req), *run);
  if (!body) co_return ErrorResponse(body.error());
  co_return JsonReply(*body);
}

Reply JoinStream(ApiContext& ctx, Request& req, bool stateless) {
  if (ctx.runs == nullptr) co_return Unavailable();
  std::optional<std::string> thread_id;
  std::string run_id;
  Response refusal;
  if (!ReadIds(req, stateless, &thread_id, &run_id, &refusal)) co_return refusal;
  Validator v;
  bool cancel_on_disconnect = v.QueryBool(req, "cancel_on_disconnect").value_or(false);
  if (!v.ok()) co_return v.Response();

  std::shared_ptr<bus::RunEventLog> log;
  bool resumable = false;
  std::string path;
  auto run = co_await LoadRun(ctx, req, thread_id, run_id);
  if (run) {
    log = co_await ctx.runs->FindLog(Tenant(req), run_id);
    // Cluster mode: a run another instance holds has a log only from its first event. Wait
    // (bounded) while it is still active rather than answer "not found" for a pending run.
    if (!log && ctx.runs->clustered() &&
        (run->status == model::RunStatus::kPending || run->status == model::RunStatus::kRunning)) {
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
      auto step = std::chrono::steady_clock::duration(std::chrono::milliseconds(20));
      while (!log && std::chrono::steady_clock::now() < deadline) {
        bool ended = co_await ctx.runs->WaitEnded(Tenant(req), run_id, step);
        log = co_await ctx.runs->FindLog(Tenant(req), run_id);
        if (ended) break;
        step = std::min<std::chrono::steady_clock::duration>(step * 2, std::chrono::milliseconds(500));
      }
    }
    if (const auto* r = run->kwargs.if_contains("resumable"); r && r->is_bool()) resumable = r->as_bool();
    const auto* temporary = run->kwargs.if_contains("temporary");
    bool is_stateless = stateless || (temporary && temporary->is_bool() && temporary->as_bool());
    path = is_stateless ? "/runs/" + run_id : "/threads/" + run->thread_id + "/runs/" + run_id;
  } else if (stateless) {
    // A stateless run whose thread was deleted at the end: its log may still be retained,
    // reachable only by the run's own tenant.
    log = co_await ctx.runs->FindLog(Tenant(req), run_id);
    path = "/runs/" + run_id;
  }
  if (!log && run && run->status != model::RunStatus::kPending &&
      run->status != model::RunStatus::kRunning) {
    // An ended run whose log is gone (its retention or server.stream_retained_bytes): what it
    // produced is the thread's final values, as /join answers, so a late joiner gets those.
    auto body = co_await ctx.runs->FinishedBody(Tenant(req), *run);
    if (body) {
      auto response = Response::Stream(
          200, "text/event-stream",
          [frame = SseValuesFrame(*body)](http::BodyWriter& out) -> asio::awaitable<void> {
            co_await out.Write(frame);
          });
      SetSseHeaders(response);
      co_return response;
    }
  }
  if (!log) {
    auto response = Response::Stream(200, "text/event-stream", [](http::BodyWriter& out) -> asio::awaitable<void> {
      co_await out.Write(SseErrorFrame("NotFoundError", kRunNotFound));
    });
    SetSseHeaders(response);
    co_return response;
  }
  bus::StartAt start;
  if (auto last = req.Header("Last-Event-ID")) {
    std::string text(*last);
    if (text == "-1") {
      start.kind = bus::StartAt::Kind::kBeginning;
    } else {
      try {
        start.kind = bus::StartAt::Kind::kAfterId;
        start.after_id = std::stoull(text);
      } catch (const std::exception&) {
        start.kind = bus::StartAt::Kind::kBeginning;
      }
    }
  } else if (resumable) {
    start.kind = bus::StartAt::Kind::kLiveOnly;
  }
  std::shared_ptr<bus::Subscription> sub = log->Subscribe(start);
  scheduler::RunManager* runs = ctx.runs;
  std::string tenant = Tenant(req);
  // A joiner of a run still waiting for an execution slot here sees `queue` events too.
  std::shared_ptr<scheduler::RunHandle> queued = runs->Find(run_id);
  if (queued && (queued->tenant() != tenant || queued->admitted())) queued.reset();
  auto response = Response::Stream(
      200, "text/event-stream",
      [sub, runs, tenant, run_id, queued,
       cancel_on_disconnect](http::BodyWriter& out) -> asio::awaitable<void> {
        std::function<void()> on_disconnect;
        if (cancel_on_disconnect) {
          on_disconnect = [runs, tenant, run_id] {
            runs->CancelDetached(tenant, run_id, scheduler::CancelAction::kInterrupt);
          };
        }
        if (queued && !co_await ServeQueue(runs, queued, out)) {
          if (on_disconnect) on_disconnect();
          co_return;
        }
        co_await ServeSse(sub, out, std::move(on_disconnect));
      });
  SetSseHeaders(response);
  response.SetHeader("Content-Location", path);
  response.SetHeader("Location", path + "/stream");
  co_return response;
}

Reply ThreadJoinStream(ApiContext& ctx, Request& req) { return JoinStream(ctx, req, false); }
Reply StatelessJoinStream(ApiContext& ctx, Request& req) { return JoinStream(ctx, req, true); }

Reply Cancel(ApiContext& ctx, Request& req) {
  if (ctx.runs == nullptr) co_return Unavailable();
  std::optional<std::string> thread_id;
  std::string run_id;
  Response refusal;
  if (!ReadIds(req, false, &thread_id, &run_id, &refusal)) co_return refusal;
  Validator v;
  auto action = scheduler::CancelAction::kInterrupt;
  if (auto a = req.Query("action")) {
    if (*a == "rollback") {
      action = scheduler::CancelAction::kRollback;
    } else if (*a != "interrupt") {
      v.InvalidEnum(json::array{"action"}, kActions, *a);
    }
  }
  std::optional<bool> wait;
  if (req.Query("wait")) wait = v.QueryBool(req, "wait");
  if (!v.ok()) co_return v.Response();
  auto run = co_await LoadRun(ctx, req, thread_id, run_id);
  if (!run) co_return ErrorResponse(run.error());
  // Here or, in cluster mode, on whichever instance executes it.
  auto requested = co_await ctx.runs->Cancel(Tenant(req), run_id, action);
  if (!requested) co_return ErrorResponse(requested.error());
  if (*requested == scheduler::CancelRequest::kNotActive) {
    co_return Response::Empty(204);  // already finished: nothing to do
  }
  if (!wait) co_return Response::Empty(202);
  // wait=1 and wait=0 alike wait a bounded time so that a GET right after sees the end
  // (agent-protocol.md 9).
  bool done = co_await ctx.runs->WaitEnded(Tenant(req), run_id, std::chrono::seconds(5));
  co_return Response::Empty(done ? 204 : 202);
}

}  // namespace

void RegisterRunQueryRoutes(http::Router& router, ApiContext& ctx) {
  using http::Method;
  Route(router, Method::kGet, "/threads/{thread_id}/runs", ctx, &ListRuns);
  Route(router, Method::kGet, "/threads/{thread_id}/runs/{run_id}", ctx, &GetRun);
  Route(router, Method::kDelete, "/threads/{thread_id}/runs/{run_id}", ctx, &DeleteRun);
  Route(router, Method::kGet, "/threads/{thread_id}/runs/{run_id}/join", ctx, &Join);
  Route(router, Method::kGet, "/threads/{thread_id}/runs/{run_id}/stream", ctx, &ThreadJoinStream);
  Route(router, Method::kPost, "/threads/{thread_id}/runs/{run_id}/cancel", ctx, &Cancel);
  Route(router, Method::kGet, "/runs/{run_id}/stream", ctx, &StatelessJoinStream);
}

}  // namespace agentd::api::detail
