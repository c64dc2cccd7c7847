// agentd as an A2A agent (docs/interop.md): POST /a2a/{assistant_id} (JSON-RPC: A2A v1.0
// SendMessage, SendStreamingMessage, GetTask, CancelTask, ListTasks, SubscribeToTask, and the
// v0.3 names of the same) and the agent cards. A task is a run, its contextId the run's thread:
// runs go through the RunManager as POST /threads/{t}/runs/wait and /stream do, streams are
// read from the run's event log, tasks from the run store.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <functional>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/core.h>

#include "api/a2a.hpp"
#include "api/errors.hpp"
#include "api/handlers.hpp"
#include "api/sse.hpp"
#include "api/run_answer.hpp"
#include "common/json.hpp"
#include "common/time.hpp"
#include "common/uuid.hpp"
#include "mcp/jsonrpc.hpp"
#include "scheduler/refusal.hpp"

namespace agentd::api::detail {
namespace {

namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;

constexpr int kParseError = -32700;
constexpr int kInvalidRequest = -32600;
constexpr int kMethodNotFound = -32601;
constexpr int kInvalidParams = -32602;
constexpr int kInternalError = -32603;

Response RpcReply(std::string body, int status = 200) { return Response::Json(status, std::move(body)); }
Response RpcError(const json::value& id, int code, std::string_view message, int status = 200) {
  return RpcReply(mcp::EncodeError(id, code, message), status);
}

// Where this server is reached, as the client addressed it (X-Forwarded-* from a proxy first).
std::string BaseUrl(const Request& req) {
  std::string scheme(req.Header("x-forwarded-proto").value_or("http"));
  std::string host(req.Header("x-forwarded-host").value_or(req.Header("host").value_or("localhost")));
  return scheme + "://" + host;
}

asio::awaitable<Result<model::Assistant>> LoadAssistant(ApiContext& ctx, const Request& req,
                                                        std::string_view id_or_graph) {
  std::string id = ResolveAssistantId(ctx, id_or_graph);
  auto found = co_await ctx.storage.assistants().Get(Tenant(req), id);
  if (!found) co_return Reword(found.error(), Errc::kNotFound, std::string(text::kAssistantNotFound));
  co_return found;
}

Response Card(ApiContext& ctx, const Request& req, const model::Assistant& a) {
  std::string endpoint = BaseUrl(req) + "/a2a/" + a.assistant_id;
  return JsonReply(AgentCardJson(a, ctx.graphs.Find(a.graph_id).get(), endpoint, ctx.version));
}

// GET /a2a/{assistant_id}/.well-known/agent-card.json: what an A2A client finds from the agent's
// URL (`<url>/.well-known/agent-card.json`).
Reply CardByPath(ApiContext& ctx, Request& req) {
  auto a = co_await LoadAssistant(ctx, req, req.PathParam("assistant_id"));
  if (!a) co_return ErrorResponse(a.error());
  co_return Card(ctx, req, *a);
}

// GET /.well-known/agent-card.json?assistant_id=<id> (LangGraph's form).
Reply CardByQuery(ApiContext& ctx, Request& req) {
  auto id = req.Query("assistant_id");
  if (!id || id->empty()) {
    co_return ErrorReply(400, "invalid_argument",
                         "assistant_id is required: GET /.well-known/agent-card.json?assistant_id=<id>"
                         " or GET /a2a/<id>/.well-known/agent-card.json");
  }
  auto a = co_await LoadAssistant(ctx, req, *id);
  if (!a) co_return ErrorResponse(a.error());
  co_return Card(ctx, req, *a);
}

// A run's task as stored: its state, and for a finished run its answer (the thread's values).
struct StoredTask {
  model::Run run;
  TaskState state = TaskState::kSubmitted;
  std::optional<RunAnswer> answer;
};

// FinishedBody answers from the thread, i.e. its latest run. A task that is not the latest of
// its context answers from its own checkpoints instead: the last message it wrote (bounded: its
// ten newest checkpoints), with those checkpoints' small channels as its values.
asio::awaitable<std::optional<RunAnswer>> OwnAnswer(ApiContext& ctx, const std::string& tenant,
                                                    const model::Run& run) {
  storage::RunQuery q;
  q.tenant = tenant;
  q.thread_id = run.thread_id;
  q.limit = 1;
  auto latest = co_await ctx.storage.runs().List(std::move(q));
  if (!latest || latest->empty() || latest->front().run_id == run.run_id) co_return std::nullopt;
  storage::HistoryQuery h;
  h.thread_id = run.thread_id;
  h.limit = 10;
  h.metadata = json::object{{"run_id", run.run_id}};
  auto checkpoints = co_await ctx.storage.checkpoints().List(std::move(h));
  if (!checkpoints || checkpoints->empty()) co_return std::nullopt;
  RunAnswer answer;
  answer.values = checkpoints->front().channels;
  for (const auto& cp : *checkpoints) {
    if (cp.appended_messages.empty()) continue;
    const json::object* m = cp.appended_messages.back().if_object();
    if (m == nullptr) continue;
    if (const json::value* content = m->if_contains("content")) {
      answer.text = ContentText(*content);
      answer.values["messages"] = json::array{*m};
      co_return answer;
    }
  }
  answer.text = ToJson(answer.values);
  co_return answer;
}

asio::awaitable<Result<StoredTask>> LoadTask(ApiContext& ctx, const Request& req,
                                             const model::Assistant& a, const json::value& params) {
  const json::object* p = params.if_object();
  const json::value* id = p != nullptr ? p->if_contains("id") : nullptr;
  if (id == nullptr || !id->is_string()) co_return MakeError(Errc::kInvalidArgument, "params.id (the task) is required");
  std::string task_id(id->get_string());
  if (!IsUuid(task_id)) co_return MakeError(Errc::kNotFound, fmt::format("Task not found: {}", task_id));
  // No ?: around a co_await (GCC 12 destroys the temporaries twice).
  auto run = co_await ctx.storage.runs().Get(Tenant(req), task_id);
  if (!run || run->assistant_id != a.assistant_id) {
    co_return MakeError(Errc::kNotFound, fmt::format("Task not found: {}", task_id));
  }
  StoredTask t;
  t.run = std::move(*run);
  if (t.run.status == model::RunStatus::kPending || t.run.status == model::RunStatus::kRunning) {
    t.state = StateOfRun(t.run.status, nullptr);
    co_return t;
  }
  auto body = co_await ctx.runs->FinishedBody(Tenant(req), t.run);
  if (body) t.answer = ReadAnswer(*body);
  t.state = StateOfRun(t.run.status, t.answer ? &*t.answer : nullptr);
  if (t.state == TaskState::kCompleted) {
    if (auto own = co_await OwnAnswer(ctx, Tenant(req), t.run)) t.answer = std::move(*own);
  }
  co_return t;
}

json::object StoredTaskJson(const StoredTask& t, A2aDialect dialect) {
  return TaskJson(t.run.run_id, t.run.thread_id, t.state, t.answer ? &*t.answer : nullptr,
                  FormatIso8601(t.run.updated_at), dialect);
}

Response TaskError(const json::value& id, const Error& e) {
  if (e.code == Errc::kInvalidArgument) return RpcError(id, kInvalidParams, e.message);
  if (e.code == Errc::kNotFound) return RpcError(id, kA2aTaskNotFound, e.message);
  return RpcError(id, kInternalError, "could not read the task");
}

// Follows a run's event log as A2A stream events: `working` once it starts, the answer
// artifact whenever the last AI message changes, and at the end the final artifact and status.
// `first` is written before anything else (the submitted task of a new stream).
// True when `d` elapsed (false when cancelled: the other branch of `||` completed first).
asio::awaitable<bool> Sleep(std::chrono::milliseconds d) {
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  co_return !ec;
}

using FinalFn = std::function<asio::awaitable<std::pair<TaskState, RunAnswer>>()>;

asio::awaitable<void> ServeTaskStream(std::shared_ptr<bus::Subscription> sub, http::BodyWriter& out,
                                      json::value rpc_id, std::string task_id,
                                      std::string context_id, A2aDialect dialect,
                                      std::optional<json::value> first, FinalFn final_fn) {
  auto send = [&](json::value result) -> asio::awaitable<bool> {
    std::string frame = "data: " + mcp::EncodeResult(rpc_id, std::move(result)) + "\n\n";
    co_return co_await out.Write(std::string_view(frame));
  };
  if (first && !co_await send(std::move(*first))) co_return;
  std::string last_text;
  bool working = false;
  for (;;) {
    // A `: hb` comment every 10 s while the run is quiet, as every SSE route (sse.hpp).
    auto next = co_await (sub->Next() || Sleep(std::chrono::seconds(10)));
    if (next.index() == 1) {
      if (!std::get<1>(next) || !co_await out.Write(std::string_view(": hb\n\n"))) co_return;
      continue;
    }
    auto& frames = std::get<0>(next);
    if (!frames) {
      std::string frame = "data: " + mcp::EncodeError(rpc_id, kInternalError, frames.error().message) + "\n\n";
      co_await out.Write(std::string_view(frame));
      co_return;
    }
    if (frames->empty()) break;
    for (const auto& f : *frames) {
      auto e = ParseLogFrame(*f);
      if (!e) continue;
      if (!working && (e->event == "metadata" || e->event == "values")) {
        working = true;
        if (!co_await send(StreamResult("statusUpdate",
                                        StatusUpdateJson(task_id, context_id, TaskState::kWorking,
                                                         nullptr, FormatIso8601(NowMs()), dialect),
                                        dialect))) {
          co_return;
        }
      }
      if (e->event != "values") continue;
      auto values = ParseJson(e->data);
      if (!values) continue;
      RunAnswer partial = ReadAnswer(*values);
      const json::value* msgs = partial.values.if_contains("messages");
      if (partial.kind != RunAnswer::Kind::kDone || msgs == nullptr || !msgs->is_array() ||
          msgs->as_array().empty()) {
        continue;
      }
      const json::object* last = msgs->as_array().back().if_object();
      const json::value* type = last != nullptr ? last->if_contains("type") : nullptr;
      if (type == nullptr || !type->is_string() || type->get_string() != "ai") continue;
      if (partial.text.empty() || partial.text == last_text) continue;
      last_text = partial.text;
      if (!co_await send(StreamResult("artifactUpdate",
                                      ArtifactUpdateJson(task_id, context_id, partial, false, dialect),
                                      dialect))) {
        co_return;
      }
    }
  }
  auto [state, answer] = co_await final_fn();
  if (state == TaskState::kCompleted) {
    if (!co_await send(StreamResult("artifactUpdate",
                                    ArtifactUpdateJson(task_id, context_id, answer, true, dialect),
                                    dialect))) {
      co_return;
    }
  }
  co_await send(StreamResult(
      "statusUpdate",
      StatusUpdateJson(task_id, context_id, state, &answer, FormatIso8601(NowMs()), dialect), dialect));
}

Response StreamResponse(std::function<asio::awaitable<void>(http::BodyWriter&)> producer) {
  Response r = Response::Stream(200, "text/event-stream", std::move(producer));
  SetSseHeaders(r);
  return r;
}

Reply Send(ApiContext& ctx, Request& req, const model::Assistant& a, const json::value& id,
           const json::value& params, A2aCall call) {
  const json::object* p = params.if_object();
  const json::value* message = p != nullptr ? p->if_contains("message") : nullptr;
  if (message == nullptr) co_return RpcError(id, kInvalidParams, "params.message is required");
  auto content = ReadMessage(*message);
  if (!content) co_return RpcError(id, kInvalidParams, content.error().message);
  std::optional<std::string> thread_id;
  if (const json::value* c = message->as_object().if_contains("contextId");
      c != nullptr && c->is_string() && !c->get_string().empty()) {
    if (!IsUuid(c->get_string())) {
      co_return RpcError(id, kInvalidParams, "params.message.contextId must be a UUID (a thread id)");
    }
    thread_id = std::string(c->get_string());
  }
  bool return_immediately = false;
  if (const json::value* conf = p->if_contains("configuration"); conf && conf->is_object()) {
    const json::object& o = conf->as_object();
    if (const json::value* r = o.if_contains("returnImmediately"); r && r->is_bool()) return_immediately = r->get_bool();
    if (const json::value* b = o.if_contains("blocking"); b && b->is_bool()) return_immediately = !b->get_bool();
  }

  scheduler::RunSpec spec;
  spec.assistant_id = a.assistant_id;
  spec.input = MessageInput(ctx.graphs.Find(a.graph_id).get(), *content);
  spec.multitask_strategy = scheduler::MultitaskStrategy::kEnqueue;
  spec.create_thread_if_missing = true;  // a client may name a new context
  spec.delete_on_completion = false;     // the context and the task stay readable
  spec.metadata = json::object{{"source", "a2a"}};
  if (call.method == A2aMethod::kStream) spec.stream_modes = {runtime::StreamMode::kValues};
  auto created = co_await ctx.runs->Create(req.principal, thread_id, std::move(spec));
  if (!created) {
    const Error& e = created.error();
    if (scheduler::ParseRefusal(e) || e.code == Errc::kUnavailable || e.code == Errc::kResourceExhausted) {
      co_return ErrorResponse(e);
    }
    co_return RpcError(id, kInvalidParams, e.message);
  }
  std::shared_ptr<scheduler::RunHandle> h = created->handle;
  const A2aDialect dialect = call.dialect;
  json::value rpc_id = id;
  std::string task_id = h->run_id();
  std::string context_id = h->thread_id();

  if (call.method == A2aMethod::kStream) {
    std::shared_ptr<bus::Subscription> sub = h->log()->Subscribe(bus::StartAt{});
    json::value first = StreamResult(
        "task", TaskJson(task_id, context_id, TaskState::kSubmitted, nullptr, FormatIso8601(NowMs()), dialect),
        dialect);
    FinalFn final_fn = [h]() -> asio::awaitable<std::pair<TaskState, RunAnswer>> {
      // The log ends after the run's final state is set; the wait is a bound, not a delay.
      (void)co_await h->WaitDone(std::chrono::seconds(5));
      RunAnswer answer = ReadAnswer(h->final_body());
      co_return std::make_pair(StateOfRun(h->final_status(), &answer), std::move(answer));
    };
    co_return StreamResponse([sub, rpc_id, task_id, context_id, dialect, first,
                              final_fn](http::BodyWriter& out) -> asio::awaitable<void> {
      co_await ServeTaskStream(sub, out, rpc_id, task_id, context_id, dialect, first, final_fn);
    });
  }

  auto wrap = [dialect](json::object task) -> json::value {
    if (dialect == A2aDialect::kV03) return task;
    return json::object{{"task", std::move(task)}};
  };
  if (return_immediately) {
    co_return RpcReply(mcp::EncodeResult(
        id, wrap(TaskJson(task_id, context_id, TaskState::kSubmitted, nullptr, FormatIso8601(NowMs()), dialect))));
  }
  // As /runs/wait: 200 at once, "\n" every 5 s while the run goes on, then the response.
  auto producer = [h, rpc_id, task_id, context_id, dialect, wrap](http::BodyWriter& out) -> asio::awaitable<void> {
    while (!co_await h->WaitDone(std::chrono::seconds(5))) {
      if (!co_await out.Write(std::string_view("\n"))) co_return;  // the task goes on
    }
    RunAnswer answer = ReadAnswer(h->final_body());
    TaskState state = StateOfRun(h->final_status(), &answer);
    std::string body = mcp::EncodeResult(
        rpc_id, wrap(TaskJson(task_id, context_id, state, &answer, FormatIso8601(NowMs()), dialect)));
    co_await out.Write(std::string_view(body));
  };
  co_return Response::Stream(200, "application/json", std::move(producer));
}

Reply GetTask(ApiContext& ctx, Request& req, const model::Assistant& a, const json::value& id,
              const json::value& params, A2aCall call) {
  auto t = co_await LoadTask(ctx, req, a, params);
  if (!t) co_return TaskError(id, t.error());
  co_return RpcReply(mcp::EncodeResult(id, StoredTaskJson(*t, call.dialect)));
}

Reply CancelTask(ApiContext& ctx, Request& req, const model::Assistant& a, const json::value& id,
                 const json::value& params, A2aCall call) {
  auto t = co_await LoadTask(ctx, req, a, params);
  if (!t) co_return TaskError(id, t.error());
  const std::string run_id = t->run.run_id;
  auto asked = co_await ctx.runs->Cancel(Tenant(req), run_id, scheduler::CancelAction::kInterrupt);
  if (!asked) co_return RpcError(id, kInternalError, "could not cancel the task");
  if (*asked == scheduler::CancelRequest::kNotActive) {
    co_return RpcError(id, kA2aTaskNotCancelable,
                       fmt::format("Task cannot be canceled: it is {}",
                                   TaskStateName(t->state, A2aDialect::kV03)));
  }
  (void)co_await ctx.runs->WaitEnded(Tenant(req), run_id, std::chrono::seconds(5));
  auto after = co_await LoadTask(ctx, req, a, params);
  if (!after) co_return TaskError(id, after.error());
  co_return RpcReply(mcp::EncodeResult(id, StoredTaskJson(*after, call.dialect)));
}

Reply ListTasks(ApiContext& ctx, Request& req, const model::Assistant& a, const json::value& id,
                const json::value& params, A2aCall call) {
  const json::object* p = params.if_object();
  const json::value* context = p != nullptr ? p->if_contains("contextId") : nullptr;
  if (context == nullptr || !context->is_string() || !IsUuid(context->get_string())) {
    co_return RpcError(id, kInvalidParams,
                       "params.contextId (a thread id) is required: agentd lists the tasks of one context");
  }
  std::int64_t page_size = 50, offset = 0;
  if (const json::value* s = p->if_contains("pageSize"); s && s->is_number()) {
    page_size = std::clamp<std::int64_t>(static_cast<std::int64_t>(s->to_number<double>()), 1, 100);
  }
  if (const json::value* tok = p->if_contains("pageToken"); tok && tok->is_string() && !tok->get_string().empty()) {
    std::string_view text = tok->get_string();
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), offset);
    if (ec != std::errc() || end != text.data() + text.size() || offset < 0) {
      co_return RpcError(id, kInvalidParams, "invalid pageToken");
    }
  }
  storage::RunQuery q;
  q.tenant = Tenant(req);
  q.thread_id = std::string(context->get_string());
  q.limit = page_size;
  q.offset = offset;
  auto runs = co_await ctx.storage.runs().List(std::move(q));
  json::array tasks;
  std::size_t got = 0;
  if (runs) {
    got = runs->size();
    for (const auto& r : *runs) {
      if (r.assistant_id != a.assistant_id) continue;
      tasks.push_back(TaskJson(r.run_id, r.thread_id, StateOfRun(r.status, nullptr), nullptr,
                               FormatIso8601(r.updated_at), call.dialect));
    }
  }
  const std::int64_t count = static_cast<std::int64_t>(tasks.size());
  json::object result{{"tasks", std::move(tasks)},
                      {"nextPageToken", static_cast<std::int64_t>(got) == page_size
                                            ? std::to_string(offset + page_size)
                                            : std::string()},
                      {"pageSize", page_size},
                      {"totalSize", count}};
  co_return RpcReply(mcp::EncodeResult(id, std::move(result)));
}

Reply Subscribe(ApiContext& ctx, Request& req, const model::Assistant& a, const json::value& id,
                const json::value& params, A2aCall call) {
  auto t = co_await LoadTask(ctx, req, a, params);
  if (!t) co_return TaskError(id, t.error());
  const A2aDialect dialect = call.dialect;
  std::shared_ptr<bus::RunEventLog> log;
  if (!IsTerminal(t->state)) log = co_await ctx.runs->FindLog(Tenant(req), t->run.run_id);
  json::value rpc_id = id;
  json::value first = StreamResult("task", StoredTaskJson(*t, dialect), dialect);
  if (log == nullptr) {
    // Ended (or its log is gone): the task as it stands, then the end.
    std::string frame = "data: " + mcp::EncodeResult(rpc_id, first) + "\n\n";
    co_return StreamResponse([frame](http::BodyWriter& out) -> asio::awaitable<void> {
      co_await out.Write(std::string_view(frame));
    });
  }
  std::shared_ptr<bus::Subscription> sub = log->Subscribe(bus::StartAt{});
  ApiContext* c = &ctx;
  std::string tenant = Tenant(req);
  model::Run run = t->run;
  FinalFn final_fn = [c, tenant, run]() -> asio::awaitable<std::pair<TaskState, RunAnswer>> {
    (void)co_await c->runs->WaitEnded(tenant, run.run_id, std::chrono::seconds(5));
    model::Run now = run;
    if (auto reread = co_await c->storage.runs().Get(tenant, run.run_id)) now = std::move(*reread);
    RunAnswer answer;
    if (auto body = co_await c->runs->FinishedBody(tenant, now)) answer = ReadAnswer(*body);
    co_return std::make_pair(StateOfRun(now.status, &answer), std::move(answer));
  };
  std::string task_id = run.run_id, context_id = run.thread_id;
  co_return StreamResponse([sub, rpc_id, task_id, context_id, dialect, first,
                            final_fn](http::BodyWriter& out) -> asio::awaitable<void> {
    co_await ServeTaskStream(sub, out, rpc_id, task_id, context_id, dialect, first, final_fn);
  });
}

Reply A2aPost(ApiContext& ctx, Request& req) {
  if (ctx.runs == nullptr) co_return ErrorResponse(MakeError(Errc::kUnavailable, "runs are not available"));
  auto a = co_await LoadAssistant(ctx, req, req.PathParam("assistant_id"));
  if (!a) co_return ErrorResponse(a.error());
  auto message = mcp::ParseMessage(req.body);
  if (!message) {
    const bool not_json = message.error().message.rfind("not JSON", 0) == 0;
    co_return RpcError(nullptr, not_json ? kParseError : kInvalidRequest, message.error().message, 400);
  }
  if (message->kind != mcp::MessageKind::kRequest) co_return Response::Empty(202);
  const json::value& id = message->id;
  auto call = ParseA2aMethod(message->method);
  if (!call) co_return RpcError(id, kMethodNotFound, fmt::format("Method not found: {}", message->method));
  switch (call->method) {
    case A2aMethod::kSend:
    case A2aMethod::kStream: co_return co_await Send(ctx, req, *a, id, message->params, *call);
    case A2aMethod::kGet: co_return co_await GetTask(ctx, req, *a, id, message->params, *call);
    case A2aMethod::kCancel: co_return co_await CancelTask(ctx, req, *a, id, message->params, *call);
    case A2aMethod::kList: co_return co_await ListTasks(ctx, req, *a, id, message->params, *call);
    case A2aMethod::kSubscribe: co_return co_await Subscribe(ctx, req, *a, id, message->params, *call);
  }
  co_return RpcError(id, kMethodNotFound, "Method not found");
}

}  // namespace

void RegisterA2aRoutes(http::Router& router, ApiContext& ctx) {
  using http::Method;
  Route(router, Method::kPost, "/a2a/{assistant_id}", ctx, &A2aPost);
  Route(router, Method::kGet, "/a2a/{assistant_id}/.well-known/agent-card.json", ctx, &CardByPath);
  Route(router, Method::kGet, "/.well-known/agent-card.json", ctx, &CardByQuery);
}

}  // namespace agentd::api::detail
