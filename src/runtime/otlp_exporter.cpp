#include "runtime/otlp_exporter.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <future>
#include <mutex>
#include <optional>
#include <random>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include "observe/log.hpp"

namespace agentd::runtime {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

// OTLP enums (opentelemetry/proto/trace/v1/trace.proto): JSON carries their numbers.
constexpr int kSpanKindInternal = 1;
constexpr int kSpanKindClient = 3;
constexpr int kStatusError = 2;

json::object Attr(std::string_view key, json::object value) {
  return json::object{{"key", key}, {"value", std::move(value)}};
}
json::object Str(std::string_view key, std::string_view v) {
  return Attr(key, json::object{{"stringValue", v}});
}
json::object Int(std::string_view key, std::int64_t v) {
  return Attr(key, json::object{{"intValue", std::to_string(v)}});  // int64: a JSON string
}
json::object Dbl(std::string_view key, double v) {
  return Attr(key, json::object{{"doubleValue", v}});
}
json::object StrArray(std::string_view key, const std::vector<std::string>& items) {
  json::array values;
  for (const auto& item : items) values.push_back(json::object{{"stringValue", item}});
  return Attr(key, json::object{{"arrayValue", json::object{{"values", std::move(values)}}}});
}

std::string NewSpanId() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  std::uint64_t id = 0;
  while (id == 0) id = gen();  // an all-zero span id is invalid
  return fmt::format("{:016x}", id);
}

std::string Text(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}
std::optional<double> Number(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || !v->is_number()) return std::nullopt;
  return v->to_number<double>();
}
std::optional<std::int64_t> Integer(const json::object& o, std::string_view key) {
  auto n = Number(o, key);
  if (!n) return std::nullopt;
  return static_cast<std::int64_t>(std::llround(*n));
}

}  // namespace

std::vector<json::object> OtlpSpans(const json::object& trace, TimestampMs started_at,
                                    const OtlpExporterOptions& options) {
  std::vector<json::object> out;
  if (started_at <= 0) return out;
  const std::string run_id = Text(trace, "run_id");
  const std::string trace_id = observe::TraceIdOf(run_id);
  const std::uint64_t base = static_cast<std::uint64_t>(started_at) * 1'000'000ull;
  auto at = [&](double offset_ms) {
    return std::to_string(base + static_cast<std::uint64_t>(std::llround(std::max(offset_ms, 0.0) * 1e6)));
  };
  const std::string status = Text(trace, "status");
  const std::string graph_id = Text(trace, "graph_id");
  const std::string run_span = NewSpanId();

  // The run.
  json::array run_attrs{Str("gen_ai.operation.name", "invoke_agent"),
                        Str("gen_ai.agent.id", Text(trace, "assistant_id")),
                        Str("gen_ai.agent.name", graph_id),
                        Str("gen_ai.conversation.id", Text(trace, "thread_id")),
                        Str("agentd.run.id", run_id),
                        Str("agentd.run.status", status)};
  if (auto attempt = Integer(trace, "attempt")) run_attrs.push_back(Int("agentd.run.attempt", *attempt));
  if (auto wait = Number(trace, "queue_wait_ms")) run_attrs.push_back(Dbl("agentd.run.queue_wait_ms", *wait));
  if (const auto* usage = trace.if_contains("usage"); usage && usage->is_object()) {
    if (auto n = Integer(usage->get_object(), "input_tokens")) run_attrs.push_back(Int("gen_ai.usage.input_tokens", *n));
    if (auto n = Integer(usage->get_object(), "output_tokens")) run_attrs.push_back(Int("gen_ai.usage.output_tokens", *n));
  }
  if (auto dropped = Integer(trace, "dropped_spans"); dropped && *dropped > 0) {
    run_attrs.push_back(Int("agentd.trace.dropped_spans", *dropped));
  }
  json::object run{{"traceId", trace_id},
                   {"spanId", run_span},
                   {"name", "invoke_agent " + graph_id},
                   {"kind", kSpanKindInternal},
                   {"startTimeUnixNano", at(0)},
                   {"endTimeUnixNano", at(Number(trace, "duration_ms").value_or(0))}};
  json::array events;
  if (const auto* error = trace.if_contains("error"); error && error->is_object()) {
    const auto& e = error->get_object();
    run_attrs.push_back(Str("error.type", Text(e, "type")));
    run["status"] = json::object{{"code", kStatusError}, {"message", Text(e, "message")}};
  } else if (status == "timeout") {
    run_attrs.push_back(Str("error.type", "timeout"));
    run["status"] = json::object{{"code", kStatusError}, {"message", "run_timeout"}};
  }

  // Nodes first, so model and tool calls find their parent by task id.
  std::map<std::string, std::string> node_spans;  // task id -> span id
  const auto* spans = trace.if_contains("spans");
  if (spans != nullptr && spans->is_array()) {
    for (const auto& v : spans->get_array()) {
      if (!v.is_object() || Text(v.get_object(), "kind") != "node") continue;
      const auto& s = v.get_object();
      const std::string id = NewSpanId();
      node_spans[Text(s, "task_id")] = id;
      const double start = Number(s, "start_ms").value_or(0);
      json::object span{{"traceId", trace_id},
                        {"spanId", id},
                        {"parentSpanId", run_span},
                        {"name", Text(s, "name")},
                        {"kind", kSpanKindInternal},
                        {"startTimeUnixNano", at(start)},
                        {"endTimeUnixNano", at(start + Number(s, "duration_ms").value_or(0))},
                        {"attributes", json::array{Str("agentd.node.name", Text(s, "name")),
                                                   Int("agentd.step", Integer(s, "step").value_or(0)),
                                                   Str("agentd.task.id", Text(s, "task_id")),
                                                   Str("agentd.run.id", run_id)}}};
      if (Text(s, "status") == "error") {
        span["status"] = json::object{{"code", kStatusError}, {"message", Text(s, "error")}};
      }
      out.push_back(std::move(span));
    }
    for (const auto& v : spans->get_array()) {
      if (!v.is_object()) continue;
      const auto& s = v.get_object();
      const std::string kind = Text(s, "kind");
      const double start = Number(s, "start_ms").value_or(0);
      if (kind == "checkpoint") {
        events.push_back(json::object{
            {"timeUnixNano", at(start)},
            {"name", "checkpoint"},
            {"attributes", json::array{Str("agentd.checkpoint.id", Text(s, "checkpoint_id")),
                                       Str("agentd.checkpoint.source", Text(s, "source")),
                                       Int("agentd.step", Integer(s, "step").value_or(0))}}});
        continue;
      }
      if (kind != "model" && kind != "tool") continue;
      auto parent = node_spans.find(Text(s, "task_id"));
      json::object span{{"traceId", trace_id},
                        {"spanId", NewSpanId()},
                        {"parentSpanId", parent != node_spans.end() ? parent->second : run_span},
                        {"startTimeUnixNano", at(start)},
                        {"endTimeUnixNano", at(start + Number(s, "duration_ms").value_or(0))}};
      json::array attrs;
      const std::string name = Text(s, "name");
      if (kind == "model") {
        std::string provider = "agentd";
        std::string model = name;
        if (auto it = options.models.find(name); it != options.models.end()) {
          provider = it->second.first;
          model = it->second.second.empty() ? name : it->second.second;
        }
        span["name"] = "chat " + model;
        span["kind"] = kSpanKindClient;
        attrs = json::array{Str("gen_ai.operation.name", "chat"),
                            Str("gen_ai.provider.name", provider),
                            Str("gen_ai.system", provider),  // before semconv 1.37
                            Str("gen_ai.request.model", model),
                            Str("agentd.model.name", name)};
        if (auto n = Integer(s, "input_tokens")) attrs.push_back(Int("gen_ai.usage.input_tokens", *n));
        if (auto n = Integer(s, "output_tokens")) attrs.push_back(Int("gen_ai.usage.output_tokens", *n));
        if (auto reason = Text(s, "finish_reason"); !reason.empty()) {
          attrs.push_back(StrArray("gen_ai.response.finish_reasons", {reason}));
        }
        if (auto ttft = Number(s, "ttft_ms")) attrs.push_back(Dbl("agentd.model.ttft_ms", *ttft));
        attrs.push_back(Int("agentd.model.prompt_messages", Integer(s, "prompt_messages").value_or(0)));
        attrs.push_back(Int("agentd.model.restarts", Integer(s, "restarts").value_or(0)));
      } else {
        span["name"] = "execute_tool " + name;
        span["kind"] = kSpanKindInternal;
        attrs = json::array{Str("gen_ai.operation.name", "execute_tool"),
                            Str("gen_ai.tool.name", name),
                            Str("gen_ai.tool.call.id", Text(s, "call_id")),
                            Str("gen_ai.tool.type", "function")};
      }
      attrs.push_back(Str("agentd.node.name", Text(s, "node")));
      attrs.push_back(Int("agentd.step", Integer(s, "step").value_or(0)));
      if (Text(s, "status") == "error") {
        attrs.push_back(Str("error.type", kind == "model" ? "model_error" : "tool_error"));
        span["status"] = json::object{{"code", kStatusError}, {"message", Text(s, "error")}};
      }
      span["attributes"] = std::move(attrs);
      out.push_back(std::move(span));
    }
  }
  run["attributes"] = std::move(run_attrs);
  if (!events.empty()) run["events"] = std::move(events);
  out.insert(out.begin(), std::move(run));
  return out;
}

json::object OtlpRequest(std::vector<json::object> spans, const OtlpExporterOptions& options) {
  json::array resource_attrs{Str("service.name", options.service_name)};
  if (!options.service_version.empty()) {
    resource_attrs.push_back(Str("service.version", options.service_version));
  }
  if (!options.instance_id.empty()) {
    resource_attrs.push_back(Str("service.instance.id", options.instance_id));
  }
  json::array span_array;
  span_array.reserve(spans.size());
  for (auto& s : spans) span_array.push_back(std::move(s));
  json::object scope{{"name", "agentd"}};
  if (!options.service_version.empty()) scope["version"] = options.service_version;
  return json::object{
      {"resourceSpans",
       json::array{json::object{
           {"resource", json::object{{"attributes", std::move(resource_attrs)}}},
           {"scopeSpans", json::array{json::object{{"scope", std::move(scope)},
                                                   {"spans", std::move(span_array)}}}}}}}};
}

struct OtlpExporter::State {
  State(asio::any_io_executor ex, HttpTransport& h, observe::Metrics& m, OtlpExporterOptions o)
      : executor(std::move(ex)),
        http(h),
        options(std::move(o)),
        timer(executor),
        exported(m.GetCounter("agentd_otlp_spans_exported_total",
                              "Spans the OTLP collector accepted")),
        dropped_full(m.GetCounter("agentd_otlp_spans_dropped_total",
                                  "Spans not exported, by reason", {{"reason", "queue_full"}})),
        dropped_failed(m.GetCounter("agentd_otlp_spans_dropped_total",
                                    "Spans not exported, by reason", {{"reason", "export_failed"}})),
        rejected(m.GetCounter("agentd_otlp_spans_dropped_total", "Spans not exported, by reason",
                              {{"reason", "rejected"}})),
        requests_ok(m.GetCounter("agentd_otlp_export_requests_total",
                                 "OTLP export requests, by outcome", {{"outcome", "ok"}})),
        requests_failed(m.GetCounter("agentd_otlp_export_requests_total",
                                     "OTLP export requests, by outcome", {{"outcome", "error"}})),
        queued_gauge(m.GetGauge("agentd_otlp_queue_spans", "Spans waiting for export")) {}

  asio::any_io_executor executor;
  HttpTransport& http;
  const OtlpExporterOptions options;
  asio::steady_timer timer;  // only on executor
  bool stopping = false;     // only on executor
  bool started = false;      // the Start/Stop thread
  std::promise<void> done;
  std::future<void> done_future = done.get_future();

  std::mutex mu;
  std::deque<json::object> queue;  // under mu
  bool wake_posted = false;        // under mu

  observe::Counter& exported;
  observe::Counter& dropped_full;
  observe::Counter& dropped_failed;
  observe::Counter& rejected;
  observe::Counter& requests_ok;
  observe::Counter& requests_failed;
  observe::Gauge& queued_gauge;
  observe::RateLimit warn_limit{std::chrono::seconds(30)};
};

namespace {

using State = OtlpExporter::State;

asio::awaitable<void> SendBatch(std::shared_ptr<State> s, std::vector<json::object> batch) {
  const std::size_t n = batch.size();
  HttpCall call;
  call.method = "POST";
  call.url = s->options.endpoint;
  call.headers = s->options.headers;
  call.headers.emplace_back("Content-Type", "application/json");
  call.body = json::serialize(OtlpRequest(std::move(batch), s->options));
  call.connect_timeout = call.first_byte_timeout = call.idle_timeout = s->options.timeout;
  call.deadline = std::chrono::steady_clock::now() + s->options.timeout;
  std::string body;
  auto reply = co_await s->http.Send(std::move(call), [&body](std::string_view bytes) -> Status {
    if (body.size() + bytes.size() > 64 * 1024) return Status{};  // keep the head of it
    body.append(bytes);
    return Status{};
  });
  static auto log = observe::Logger("otlp");
  if (!reply || reply->status < 200 || reply->status > 299) {
    s->requests_failed.Inc();
    s->dropped_failed.Inc(n);
    observe::WarnLimited(s->warn_limit, *log, "otlp export failed: {} spans dropped: {}", n,
                         reply ? fmt::format("HTTP {}: {}", reply->status, body.substr(0, 200))
                               : reply.error().message);
    co_return;
  }
  s->requests_ok.Inc();
  // A partial success names how many spans the collector refused.
  std::uint64_t refused = 0;
  boost::system::error_code ec;
  json::value answer = body.empty() ? json::value() : json::parse(body, ec);
  if (!ec && answer.is_object()) {
    if (const auto* partial = answer.get_object().if_contains("partialSuccess");
        partial != nullptr && partial->is_object()) {
      if (const auto* r = partial->get_object().if_contains("rejectedSpans")) {
        if (r->is_string()) refused = std::strtoull(r->get_string().c_str(), nullptr, 10);
        if (r->is_number()) refused = r->to_number<std::uint64_t>();
      }
    }
  }
  refused = std::min<std::uint64_t>(refused, n);
  s->rejected.Inc(refused);
  s->exported.Inc(n - refused);
  if (refused > 0) {
    observe::WarnLimited(s->warn_limit, *log, "otlp export: the collector rejected {} of {} spans",
                         refused, n);
  }
}

// Takes up to batch_size spans from the queue.
std::vector<json::object> Take(State& s) {
  std::vector<json::object> batch;
  std::lock_guard lock(s.mu);
  s.wake_posted = false;
  const std::size_t n = std::min(s.queue.size(), s.options.batch_size);
  batch.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    batch.push_back(std::move(s.queue.front()));
    s.queue.pop_front();
  }
  s.queued_gauge.Set(static_cast<double>(s.queue.size()));
  return batch;
}

asio::awaitable<void> ExportLoop(std::shared_ptr<State> s) {
  while (true) {
    if (!s->stopping) {
      s->timer.expires_after(s->options.export_interval);
      co_await s->timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    // Send full batches back to back, then one partial batch, then wait again.
    while (true) {
      auto batch = Take(*s);
      if (batch.empty()) break;
      const bool full = batch.size() == s->options.batch_size;
      co_await SendBatch(s, std::move(batch));
      if (!full) break;
    }
    if (s->stopping) {
      std::lock_guard lock(s->mu);
      if (s->queue.empty()) break;
    }
  }
  s->done.set_value();
}

}  // namespace

OtlpExporter::OtlpExporter(asio::any_io_executor executor, HttpTransport& http,
                           observe::Metrics& metrics, OtlpExporterOptions options)
    : state_(std::make_shared<State>(std::move(executor), http, metrics, std::move(options))) {}

// No flush here: the loops may be gone already (a start that failed half way). The export loop
// holds the state, so it ends cleanly whenever its loop stops.
OtlpExporter::~OtlpExporter() = default;

void OtlpExporter::Export(const RunTrace& trace) {
  std::vector<json::object> spans = OtlpSpans(trace.Json(), trace.started_at(), state_->options);
  if (spans.empty()) return;
  bool wake = false;
  std::uint64_t dropped = 0;
  {
    std::lock_guard lock(state_->mu);
    for (auto& span : spans) {
      if (state_->queue.size() >= state_->options.queue_size) {
        ++dropped;
        continue;
      }
      state_->queue.push_back(std::move(span));
    }
    state_->queued_gauge.Set(static_cast<double>(state_->queue.size()));
    if (state_->queue.size() >= state_->options.batch_size && !state_->wake_posted) {
      state_->wake_posted = true;
      wake = true;
    }
  }
  if (dropped > 0) state_->dropped_full.Inc(dropped);
  if (wake) {
    asio::post(state_->executor, [s = state_] { s->timer.cancel(); });
  }
}

void OtlpExporter::Start() {
  if (state_->started) return;
  state_->started = true;
  asio::co_spawn(state_->executor, ExportLoop(state_), [](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      observe::Logger("otlp")->error("otlp export loop threw: {}", ex.what());
    }
  });
}

void OtlpExporter::Stop() {
  if (!state_->started) return;
  state_->started = false;
  auto s = state_;
  asio::dispatch(s->executor, [s] {
    s->stopping = true;
    s->timer.cancel();
  });
  // The last batches go out, each bounded by the timeout; a collector that is down costs at
  // most one timeout per batch, so the wait is bounded too.
  const std::size_t batches = 1 + s->options.queue_size / s->options.batch_size;
  const auto bound = s->options.timeout * static_cast<int>(std::min<std::size_t>(batches, 3)) +
                     std::chrono::seconds(1);
  if (s->done_future.wait_for(bound) != std::future_status::ready) {
    observe::Logger("otlp")->warn("otlp exporter did not flush within {} ms", bound.count());
  }
}

}  // namespace agentd::runtime
