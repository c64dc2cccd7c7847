// OTLP span mapping of a run trace (GenAI semantic conventions) and the exporter's bounded
// queue. The wire format against a validating receiver: tests/integration/otlp_export_test.cpp.
#include "runtime/otlp_exporter.hpp"

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "observe/metrics.hpp"
#include "runtime/executor.hpp"
#include "runtime/run_context.hpp"

namespace agentd::runtime {
namespace {

namespace json = boost::json;

const json::object* Attr(const json::object& span, std::string_view key) {
  for (const auto& a : span.at("attributes").as_array()) {
    if (a.at("key").as_string() == key) return &a.at("value").as_object();
  }
  return nullptr;
}
std::string StrAttr(const json::object& span, std::string_view key) {
  const auto* v = Attr(span, key);
  return v ? std::string(v->at("stringValue").as_string()) : "<missing>";
}
std::string IntAttr(const json::object& span, std::string_view key) {
  const auto* v = Attr(span, key);
  return v ? std::string(v->at("intValue").as_string()) : "<missing>";
}

std::shared_ptr<RunTrace> ToolRound() {
  auto trace = std::make_shared<RunTrace>(
      RunTraceInfo{"acme", "1f0d3c4e-0000-7000-8000-00000000abcd", "t1", "a1", "agent", 1});
  trace->Started(std::chrono::milliseconds(3));
  TaskInfo model{"task-1", "model", 1};
  trace->NodeStarted(model);
  ModelCallInfo call;
  call.model = "gpt";
  call.started = std::chrono::steady_clock::now();
  call.latency = std::chrono::milliseconds(40);
  call.input_tokens = 11;
  call.output_tokens = 7;
  call.finish_reason = "tool_calls";
  trace->ModelCalled(model, call);
  trace->NodeFinished(model, nullptr);
  trace->CheckpointWritten("cp-1", "loop", 1);
  TaskInfo tools{"task-2", "tools", 2};
  trace->NodeStarted(tools);
  ToolCallInfo tool;
  tool.name = "get_weather";
  tool.call_id = "call_1";
  tool.started = std::chrono::steady_clock::now();
  trace->ToolCalled(tools, tool);
  trace->NodeFinished(tools, nullptr);
  RunOutcome outcome;
  outcome.usage.input_tokens = 11;
  outcome.usage.output_tokens = 7;
  trace->Finished("success", outcome);
  return trace;
}

TEST(OtlpSpans, MapsARunToGenAiSpansUnderOneTrace) {
  auto trace = ToolRound();
  OtlpExporterOptions options;
  options.models["gpt"] = {"openai", "gpt-4o-mini"};
  auto spans = OtlpSpans(trace->Json(), trace->started_at(), options);
  ASSERT_EQ(spans.size(), 5u);  // run, 2 nodes, model call, tool call
  const json::object& run = spans[0];
  EXPECT_EQ(run.at("traceId").as_string(), "1f0d3c4e00007000800000000000abcd");
  EXPECT_EQ(run.at("name").as_string(), "invoke_agent agent");
  EXPECT_EQ(run.if_contains("parentSpanId"), nullptr);
  EXPECT_EQ(StrAttr(run, "gen_ai.operation.name"), "invoke_agent");
  EXPECT_EQ(StrAttr(run, "gen_ai.conversation.id"), "t1");
  EXPECT_EQ(IntAttr(run, "gen_ai.usage.input_tokens"), "11");
  EXPECT_EQ(run.at("events").as_array().size(), 1u);  // the checkpoint
  std::map<std::string, std::string> parent_of;  // span name -> parent span's name
  std::map<std::string, std::string> name_of;    // span id -> name
  for (const auto& s : spans) {
    EXPECT_EQ(s.at("traceId").as_string(), run.at("traceId").as_string());
    EXPECT_EQ(s.at("spanId").as_string().size(), 16u);
    name_of[std::string(s.at("spanId").as_string())] = std::string(s.at("name").as_string());
  }
  for (const auto& s : spans) {
    if (const auto* p = s.if_contains("parentSpanId")) {
      parent_of[std::string(s.at("name").as_string())] = name_of[std::string(p->as_string())];
    }
  }
  EXPECT_EQ(parent_of["model"], "invoke_agent agent");
  EXPECT_EQ(parent_of["chat gpt-4o-mini"], "model");
  EXPECT_EQ(parent_of["execute_tool get_weather"], "tools");
  for (const auto& s : spans) {
    if (s.at("name").as_string() == "chat gpt-4o-mini") {
      EXPECT_EQ(s.at("kind").to_number<int>(), 3);  // CLIENT
      EXPECT_EQ(StrAttr(s, "gen_ai.operation.name"), "chat");
      EXPECT_EQ(StrAttr(s, "gen_ai.provider.name"), "openai");
      EXPECT_EQ(StrAttr(s, "gen_ai.request.model"), "gpt-4o-mini");
      EXPECT_EQ(IntAttr(s, "gen_ai.usage.input_tokens"), "11");
      EXPECT_EQ(IntAttr(s, "gen_ai.usage.output_tokens"), "7");
    }
    if (s.at("name").as_string() == "execute_tool get_weather") {
      EXPECT_EQ(StrAttr(s, "gen_ai.tool.name"), "get_weather");
      EXPECT_EQ(StrAttr(s, "gen_ai.tool.call.id"), "call_1");
    }
    // Times are nanoseconds since the epoch, as decimal strings, end after start.
    auto start = std::stoull(std::string(s.at("startTimeUnixNano").as_string()));
    auto end = std::stoull(std::string(s.at("endTimeUnixNano").as_string()));
    EXPECT_GT(start, 1'600'000'000'000'000'000ull);
    EXPECT_GE(end, start);
  }
}

TEST(OtlpSpans, ARunThatNeverStartedHasNone) {
  RunTrace trace(RunTraceInfo{"acme", "r1", "t1", "a1", "agent", 1});
  EXPECT_TRUE(OtlpSpans(trace.Json(), trace.started_at(), {}).empty());
}

class NoTransport final : public HttpTransport {
 public:
  boost::asio::awaitable<Result<HttpReply>> Send(HttpCall, BodySink) override {
    co_return MakeError(Errc::kUnavailable, "not in this test");
  }
};

TEST(OtlpExporter, DropsAndCountsWhatDoesNotFitTheQueue) {
  boost::asio::io_context io;
  NoTransport http;
  observe::Metrics metrics;
  OtlpExporterOptions options;
  options.endpoint = "http://127.0.0.1:1/v1/traces";
  options.queue_size = 7;
  OtlpExporter exporter(io.get_executor(), http, metrics, options);
  auto trace = ToolRound();
  exporter.Export(*trace);  // 5 spans queued
  exporter.Export(*trace);  // 2 more fit, 3 dropped
  const std::string text = metrics.RenderPrometheus();
  EXPECT_NE(text.find("agentd_otlp_spans_dropped_total{reason=\"queue_full\"} 3"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("agentd_otlp_queue_spans 7"), std::string::npos) << text;
}

}  // namespace
}  // namespace agentd::runtime
