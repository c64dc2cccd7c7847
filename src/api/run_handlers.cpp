// Run creation endpoints: POST /threads/{t}/runs[/stream|/wait], /runs[/stream|/wait|/batch].
#include <chrono>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <fmt/core.h>

#include "api/errors.hpp"
#include "api/run_handlers.hpp"
#include "api/sse.hpp"
#include "common/json.hpp"
#include "scheduler/run_json.hpp"
#include "storage/query.hpp"

namespace agentd::api::detail {
namespace {

namespace asio = boost::asio;
using scheduler::RunHandle;

constexpr std::string_view kStrategies[] = {"reject", "enqueue", "interrupt", "rollback"};
constexpr std::string_view kIfNotExists[] = {"create", "reject"};
constexpr std::string_view kOnDisconnect[] = {"cancel", "continue"};
constexpr std::string_view kOnCompletion[] = {"delete", "keep"};
constexpr std::string_view kDurability[] = {"sync", "async", "exit"};
constexpr std::string_view kModes[] = {"values", "updates", "messages-tuple", "messages", "custom",
                                       "events", "debug", "tasks", "checkpoints"};

std::optional<std::vector<std::string>> Breakpoints(Validator& v, std::string_view field) {
  const json::value* raw = v.Raw(field);
  if (raw == nullptr) return std::nullopt;
  if (raw->is_string()) {
    if (raw->as_string() == "*") return std::vector<std::string>{"*"};
    v.InvalidType(json::array{json::value(field)}, "array", "string");
    return std::nullopt;
  }
  return v.Strings(field);
}

}  // namespace

std::optional<scheduler::RunSpec> ReadRunSpec(Validator& v, const Request& req,
                                              bool* cancel_on_disconnect) {
  scheduler::RunSpec spec;
  if (auto id = v.String("assistant_id", kRequired)) spec.assistant_id = *id;
  if (const json::value* input = v.Raw("input")) {
    if (input->is_object() || input->is_array()) {
      spec.input = *input;
    } else {
      v.InvalidType(json::array{"input"}, "object", JsonTypeName(*input));
    }
  }
  spec.command = v.Object("command");
  if (auto m = v.Object("metadata")) spec.metadata = std::move(*m);
  if (auto c = v.Object("config")) spec.config = std::move(*c);
  if (auto c = v.Object("context")) spec.context = std::move(*c);
  if (const json::value* modes = v.Raw("stream_mode")) {
    std::vector<std::string> names;
    if (modes->is_string()) {
      names.emplace_back(modes->as_string());
    } else if (auto list = v.Strings("stream_mode")) {
      names = std::move(*list);
    } else if (!modes->is_array()) {
      // Strings() already reported it.
    }
    for (std::size_t i = 0; i < names.size(); ++i) {
      auto mode = runtime::ParseStreamMode(names[i]);
      if (!mode) {
        json::array path{"stream_mode"};
        if (modes->is_array()) path.emplace_back(static_cast<std::int64_t>(i));
        v.InvalidEnum(std::move(path), kModes, names[i]);
        continue;
      }
      spec.stream_modes.push_back(*mode);
    }
  }
  spec.stream_subgraphs = v.Bool("stream_subgraphs").value_or(false);
  spec.stream_resumable = v.Bool("stream_resumable").value_or(false);
  spec.interrupt_before = Breakpoints(v, "interrupt_before");
  spec.interrupt_after = Breakpoints(v, "interrupt_after");
  spec.checkpoint_id = v.String("checkpoint_id");
  if (auto checkpoint = v.Child("checkpoint")) {
    if (auto id = checkpoint->String("checkpoint_id")) spec.checkpoint_id = *id;
    (void)checkpoint->String("checkpoint_ns");
    (void)checkpoint->Object("checkpoint_map");
  }
  if (auto s = v.Enum("multitask_strategy", kStrategies)) {
    spec.multitask_strategy = *scheduler::ParseMultitaskStrategy(*s);
  }
  spec.create_thread_if_missing = v.Enum("if_not_exists", kIfNotExists) == "create";
  *cancel_on_disconnect = v.Enum("on_disconnect", kOnDisconnect) == "cancel";
  spec.delete_on_completion = v.Enum("on_completion", kOnCompletion).value_or("delete") == "delete";
  if (auto after = v.Number("after_seconds")) spec.after_seconds = std::max(0.0, *after);
  spec.webhook = v.String("webhook");
  spec.durability = v.Enum("durability", kDurability);
  (void)v.Bool("checkpoint_during");
  if (auto keys = v.Array("feedback_keys")) spec.feedback_keys = std::move(*keys);
  (void)v.Object("langsmith_tracer");
  for (const auto& [name, value] : req.headers) {
    if (!scheduler::HeaderReachesGraph(name)) continue;
    std::string lower;
    for (char c : name) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    spec.headers[lower] = value;
  }
  if (!v.ok()) return std::nullopt;
  return spec;
}

std::string RunPath(const RunHandle& h) {
  if (h.stateless()) return "/runs/" + h.run_id();
  return "/threads/" + h.thread_id() + "/runs/" + h.run_id();
}

Response WaitResponse(ApiContext& ctx, std::shared_ptr<RunHandle> h, bool cancel_on_disconnect) {
  scheduler::RunManager* runs = ctx.runs;
  auto producer = [h, runs, cancel_on_disconnect](http::BodyWriter& out) -> asio::awaitable<void> {
    while (!co_await h->WaitDone(std::chrono::seconds(5))) {
      if (!co_await out.Write(std::string_view("\n"))) {
        if (cancel_on_disconnect) runs->RequestCancel(h->run_id(), scheduler::CancelAction::kInterrupt);
        co_return;
      }
    }
    co_await out.Write(ToJson(h->final_body()));
  };
  return Response::Stream(200, "application/json", std::move(producer));
}

Response RemoteWaitResponse(ApiContext& ctx, std::string tenant, model::Run run) {
  scheduler::RunManager* runs = ctx.runs;
  storage::Storage* storage = &ctx.storage;
  auto producer = [runs, storage, tenant, run](http::BodyWriter& out) -> asio::awaitable<void> {
    // The same keep-alive newlines as a local wait, while the owning instance runs it.
    while (!co_await runs->WaitEnded(tenant, run.run_id, std::chrono::seconds(5))) {
      if (!co_await out.Write(std::string_view("\n"))) co_return;
    }
    model::Run final_run = run;
    if (auto reread = co_await storage->runs().Get(tenant, run.run_id)) final_run = std::move(*reread);
    auto ended = co_await runs->FinishedBody(tenant, final_run);
    // No ?: around temporaries in a co_await expression (GCC 12 destroys them twice).
    std::string body = "{}";
    if (ended) body = ToJson(*ended);
    co_await out.Write(body);
  };
  return Response::Stream(200, "application/json", std::move(producer));
}

// While the run waits for an execution slot, tells the client where it stands: a `queue`
// event at once, then whenever the position changes, at most once a second, with a `: hb`
// keep-alive when nothing changed for a while. Nothing is written for a run that gets its slot
// without queueing.
asio::awaitable<bool> ServeQueue(scheduler::RunManager* runs, std::shared_ptr<RunHandle> h,
                                 http::BodyWriter& out) {
  using namespace std::chrono_literals;
  std::optional<std::size_t> last;
  auto quiet_since = std::chrono::steady_clock::now();
  // The run reaches the queue a moment after creation (its thread's turn first): look often at
  // first, then at the bounded rate.
  auto poll = std::chrono::steady_clock::duration(20ms);
  while (!h->admitted() && !h->done()) {
    if (auto pos = runs->QueueInfo(*h); pos && pos->position != last) {
      last = pos->position;
      quiet_since = std::chrono::steady_clock::now();
      if (!co_await out.Write(SseQueueFrame(pos->position, pos->estimated_wait_ms))) co_return false;
      poll = 1s;
    } else if (std::chrono::steady_clock::now() - quiet_since > 10s) {
      quiet_since = std::chrono::steady_clock::now();
      if (!co_await out.Write(std::string_view(": hb\n"))) co_return false;
    }
    co_await h->WaitAdmitted(poll);
    poll = std::min<std::chrono::steady_clock::duration>(poll * 2, 1s);
  }
  co_return true;
}

namespace {

enum class Mode { kBackground, kStream, kWait };

// Thread runs skip the gate's TTL check (the scheduler reads the thread anyway). Its refusal of
// a thread it could not read is 422 "Thread <id> not found", expired or not; only then is the
// thread read again, so that an expired one answers 404 with the reason like every route.
asio::awaitable<Error> WhyThreadMissing(ApiContext& ctx, const Request& req,
                                        const std::optional<std::string>& thread_id, Error error) {
  if (!thread_id || error.code != Errc::kUnprocessable ||
      error.message != "Thread " + *thread_id + " not found") {
    co_return error;
  }
  auto t = co_await ctx.storage.threads().Get(Tenant(req), *thread_id);
  if (!t && storage::IsExpiredError(t.error())) co_return t.error();
  co_return error;
}

Reply CreateRun(ApiContext& ctx, Request& req, bool stateless, Mode mode) {
  if (ctx.runs == nullptr) co_return ErrorResponse(MakeError(Errc::kUnavailable, "runs are not available"));
  std::optional<std::string> thread_id;
  if (!stateless) {
    Response refusal;
    thread_id = PathUuid(req, "thread_id", &refusal);
    if (!thread_id) co_return refusal;
  }
  auto body = ParseBody(req, ctx.config.server.json_max_depth);
  if (!body) co_return std::move(body.error());
  Validator v(*body);
  bool cancel_on_disconnect = false;
  auto spec = ReadRunSpec(v, req, &cancel_on_disconnect);
  if (!spec) co_return v.Response();
  auto created = co_await ctx.runs->Create(req.principal, thread_id, std::move(*spec));
  if (!created) {
    co_return ErrorResponse(co_await WhyThreadMissing(ctx, req, thread_id, created.error()));
  }
  auto h = created->handle;
  std::string path = RunPath(*h);
  Response response;
  if (mode == Mode::kBackground) {
    response = JsonReply(scheduler::RunJson(created->run));
  } else if (mode == Mode::kWait) {
    response = WaitResponse(ctx, h, cancel_on_disconnect);
  } else {
    std::shared_ptr<bus::Subscription> sub = h->log()->Subscribe(bus::StartAt{});
    scheduler::RunManager* runs = ctx.runs;
    std::string run_id = h->run_id();
    response = Response::Stream(
        200, "text/event-stream",
        [sub, runs, h, run_id, cancel_on_disconnect](http::BodyWriter& out) -> asio::awaitable<void> {
          std::function<void()> on_disconnect;
          if (cancel_on_disconnect) {
            on_disconnect = [runs, run_id] {
              runs->RequestCancel(run_id, scheduler::CancelAction::kInterrupt);
            };
          }
          if (!co_await ServeQueue(runs, h, out)) {
            if (on_disconnect) on_disconnect();
            co_return;
          }
          co_await ServeSse(sub, out, std::move(on_disconnect));
        });
    SetSseHeaders(response);
    response.SetHeader("Location", path + "/stream");
  }
  response.SetHeader("Content-Location", path);
  co_return response;
}

Reply ThreadRun(ApiContext& ctx, Request& req) { return CreateRun(ctx, req, false, Mode::kBackground); }
Reply ThreadStream(ApiContext& ctx, Request& req) { return CreateRun(ctx, req, false, Mode::kStream); }
Reply ThreadWait(ApiContext& ctx, Request& req) { return CreateRun(ctx, req, false, Mode::kWait); }
Reply StatelessRun(ApiContext& ctx, Request& req) { return CreateRun(ctx, req, true, Mode::kBackground); }
Reply StatelessStream(ApiContext& ctx, Request& req) { return CreateRun(ctx, req, true, Mode::kStream); }
Reply StatelessWait(ApiContext& ctx, Request& req) { return CreateRun(ctx, req, true, Mode::kWait); }

Reply Batch(ApiContext& ctx, Request& req) {
  if (ctx.runs == nullptr) co_return ErrorResponse(MakeError(Errc::kUnavailable, "runs are not available"));
  auto parsed = ParseJsonBody(req.body, ctx.config.server.json_max_depth);
  if (!parsed) co_return std::move(parsed.error());
  if (!parsed->is_array()) {
    Validator v;
    v.InvalidType(json::array{}, "array", JsonTypeName(*parsed));
    co_return v.Response();
  }
  // Validate every item first: bad input writes nothing.
  std::vector<scheduler::RunSpec> specs;
  Validator all;
  for (std::size_t i = 0; i < parsed->as_array().size(); ++i) {
    const json::value& item = parsed->as_array()[i];
    if (!item.is_object()) {
      all.InvalidType(json::array{static_cast<std::int64_t>(i)}, "object", JsonTypeName(item));
      continue;
    }
    Validator v(item.as_object());
    bool ignored = false;
    auto spec = ReadRunSpec(v, req, &ignored);
    if (!spec) {
      for (const auto& issue : v.issues()) {
        json::object copy = issue.as_object();
        json::array path{static_cast<std::int64_t>(i)};
        if (auto* p = copy.if_contains("path"); p && p->is_array()) {
          for (const auto& part : p->as_array()) path.push_back(part);
        }
        copy["path"] = std::move(path);
        all.AddIssue(std::move(copy));
      }
      continue;
    }
    specs.push_back(std::move(*spec));
  }
  if (!all.ok()) co_return all.Response();
  json::array out;
  for (auto& spec : specs) {
    auto created = co_await ctx.runs->Create(req.principal, std::nullopt, std::move(spec));
    if (!created) co_return ErrorResponse(created.error());
    out.push_back(scheduler::RunJson(created->run));
  }
  co_return JsonReply(out);
}

}  // namespace

void RegisterRunRoutes(http::Router& router, ApiContext& ctx) {
  using http::Method;
  // The scheduler's thread read answers for expiry (WhyThreadMissing): one read per run.
  Route(router, Method::kPost, "/threads/{thread_id}/runs", ctx, &ThreadRun, ThreadTtl::kHandler);
  Route(router, Method::kPost, "/threads/{thread_id}/runs/stream", ctx, &ThreadStream,
        ThreadTtl::kHandler);
  Route(router, Method::kPost, "/threads/{thread_id}/runs/wait", ctx, &ThreadWait,
        ThreadTtl::kHandler);
  Route(router, Method::kPost, "/runs", ctx, &StatelessRun);
  Route(router, Method::kPost, "/runs/stream", ctx, &StatelessStream);
  Route(router, Method::kPost, "/runs/wait", ctx, &StatelessWait);
  Route(router, Method::kPost, "/runs/batch", ctx, &Batch);
  RegisterRunQueryRoutes(router, ctx);
}

}  // namespace agentd::api::detail
