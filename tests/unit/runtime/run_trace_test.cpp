// RunTrace records what the executor reports, within its bounds; TraceStore keeps the last N
// runs and finds a trace only for its tenant.

#include "runtime/run_trace.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "runtime/executor.hpp"
#include "runtime/run_context.hpp"

namespace agentd::runtime {
namespace {

namespace json = boost::json;

RunTraceInfo Info(std::string run = "r1", std::string tenant = "acme") {
  return RunTraceInfo{std::move(tenant), std::move(run), "t1", "a1", "agent", 1};
}

TEST(RunTrace, RecordsNodesModelAndToolCallsAndCheckpoints) {
  RunTrace trace(Info());
  trace.Started(std::chrono::milliseconds(12));
  TaskInfo model{"task-1", "model", 1};
  trace.NodeStarted(model);
  ModelCallInfo call;
  call.model = "mock";
  call.started = std::chrono::steady_clock::now();
  call.latency = std::chrono::milliseconds(40);
  call.ttft = std::chrono::milliseconds(5);
  call.prompt_messages = 2;
  call.input_tokens = 11;
  call.output_tokens = 7;
  call.tool_calls = 1;
  trace.ModelCalled(model, call);
  trace.NodeFinished(model, nullptr);
  trace.CheckpointWritten("cp-1", "loop", 1);
  TaskInfo tools{"task-2", "tools", 2};
  trace.NodeStarted(tools);
  ToolCallInfo tool;
  tool.name = "get_weather";
  tool.call_id = "call-1";
  tool.args = json::object{{"city", "Paris"}};
  tool.result = "sunny";
  tool.duration = std::chrono::milliseconds(3);
  tool.started = std::chrono::steady_clock::now();
  trace.ToolCalled(tools, tool);
  trace.NodeFinished(tools, nullptr);
  RunOutcome outcome;
  outcome.usage = {11, 7};
  trace.Finished("success", outcome);

  json::object j = trace.Json();
  EXPECT_EQ(j.at("status").as_string(), "success");
  EXPECT_DOUBLE_EQ(j.at("queue_wait_ms").to_number<double>(), 12.0);
  EXPECT_EQ(j.at("usage").at("input_tokens").to_number<int>(), 11);
  EXPECT_TRUE(j.at("error").is_null());
  const auto& spans = j.at("spans").as_array();
  ASSERT_EQ(spans.size(), 5u);
  std::vector<std::string> kinds;
  for (const auto& s : spans) kinds.emplace_back(s.at("kind").as_string());
  EXPECT_EQ(kinds, (std::vector<std::string>{"node", "model", "checkpoint", "node", "tool"}));
  EXPECT_EQ(spans[0].at("status").as_string(), "ok");
  EXPECT_DOUBLE_EQ(spans[1].at("ttft_ms").to_number<double>(), 5.0);
  EXPECT_EQ(spans[1].at("output_tokens").to_number<int>(), 7);
  EXPECT_EQ(spans[4].at("args").at("city").as_string(), "Paris");
  EXPECT_EQ(spans[4].at("result").as_string(), "sunny");
  EXPECT_DOUBLE_EQ(spans[4].at("duration_ms").to_number<double>(), 3.0);
}

TEST(RunTrace, NamesTheNodeAndStepThatFailed) {
  RunTrace trace(Info());
  trace.Started({});
  TaskInfo model{"task-1", "model", 3};
  trace.NodeStarted(model);
  Error error(Errc::kUnavailable, "mock: upstream status 503");
  trace.NodeFinished(model, &error);
  RunOutcome outcome;
  outcome.kind = RunOutcome::Kind::kError;
  outcome.error = error;
  outcome.error_type = "ModelError";
  trace.Finished("error", outcome);
  json::object j = trace.Json();
  EXPECT_EQ(j.at("error").at("type").as_string(), "ModelError");
  EXPECT_EQ(j.at("error").at("node").as_string(), "model");
  EXPECT_EQ(j.at("error").at("step").to_number<int>(), 3);
  EXPECT_EQ(j.at("spans").at(0).at("status").as_string(), "error");
}

TEST(RunTrace, StaysWithinItsBounds) {
  constexpr std::size_t kMax = 16 * 1024;
  RunTrace trace(Info(), kMax);
  trace.Started({});
  TaskInfo tools{"t", "tools", 1};
  constexpr std::size_t kCalls = 200;
  for (std::size_t i = 0; i < kCalls; ++i) {
    ToolCallInfo call;
    call.name = "big";
    call.args = json::object{{"blob", std::string(100, 'a')}};
    call.result = std::string(RunTrace::kMaxText * 2, 'r');
    trace.ToolCalled(tools, call);
  }
  RunOutcome outcome;
  outcome.error = Error(Errc::kInternal, std::string(10'000, 'e'));
  outcome.kind = RunOutcome::Kind::kError;
  trace.Finished("error", outcome);
  json::object j = trace.Json();
  const std::size_t kept = j.at("spans").as_array().size();
  EXPECT_GT(kept, 0u);
  EXPECT_EQ(kept + j.at("dropped_spans").to_number<std::size_t>(), kCalls);
  EXPECT_TRUE(j.at("truncated").as_bool());
  std::size_t text = 0;
  for (const auto& s : j.at("spans").as_array()) {
    if (const auto* r = s.as_object().if_contains("result")) {
      EXPECT_LE(r->as_string().size(), RunTrace::kMaxText + 3);  // + the ellipsis
      text += r->as_string().size();
    }
  }
  EXPECT_LE(text, kMax / 2 + 3 * kept);
  // What storage gets is never longer than the bound, and still the same trace.
  const std::string stored = trace.Stored();
  EXPECT_LE(stored.size(), kMax);
  json::value parsed = json::parse(stored);
  EXPECT_EQ(parsed.at("run_id").as_string(), "r1");
  EXPECT_EQ(parsed.at("status").as_string(), "error");
}

TEST(RunTrace, StoredCutsSpansUntilItFits) {
  // Nodes that end with long errors grow past what was charged when they started.
  constexpr std::size_t kMax = 8 * 1024;
  RunTrace trace(Info(), kMax);
  trace.Started({});
  for (int i = 0; i < 100; ++i) {
    TaskInfo task{"t" + std::to_string(i), "n", i};
    trace.NodeStarted(task);
    Error e(Errc::kInternal, std::string(RunTrace::kMaxText, 'x'));
    trace.NodeFinished(task, &e);
  }
  trace.Finished("success", RunOutcome{});
  const std::string stored = trace.Stored();
  EXPECT_LE(stored.size(), kMax);
  json::value parsed = json::parse(stored);
  EXPECT_EQ(parsed.at("spans").as_array().size() +
                parsed.at("dropped_spans").to_number<std::size_t>(),
            100u);
}

TEST(RunTrace, ClosesNodesLeftOpenByACancel) {
  RunTrace trace(Info());
  trace.Started({});
  trace.NodeStarted(TaskInfo{"t", "model", 1});
  RunOutcome outcome;
  outcome.kind = RunOutcome::Kind::kCancelled;
  trace.Finished("interrupted", outcome);
  json::object j = trace.Json();
  EXPECT_EQ(j.at("spans").at(0).at("status").as_string(), "cancelled");
  EXPECT_TRUE(j.at("error").is_null());
}

TEST(TraceStore, KeepsTheLastRunsPerTenant) {
  TraceStore store(2);
  store.Start(Info("r1"));
  store.Start(Info("r2"));
  store.Start(Info("r3"));
  EXPECT_EQ(store.size(), 2u);
  EXPECT_EQ(store.Find("acme", "r1"), nullptr);  // the oldest went first
  EXPECT_NE(store.Find("acme", "r3"), nullptr);
  EXPECT_EQ(store.Find("other", "r3"), nullptr);  // another tenant's run is not found
  // A resumed run (same id) replaces its trace without taking another place.
  auto again = store.Start(Info("r3"));
  EXPECT_EQ(store.Find("acme", "r3"), again);
  EXPECT_NE(store.Find("acme", "r2"), nullptr);
  // trace_max_bytes=0: no traces; trace_max_runs=0: traces, none kept in memory.
  EXPECT_EQ(TraceStore(10, 0).Start(Info()), nullptr);
  TraceStore unkept(0);
  EXPECT_NE(unkept.Start(Info("r9")), nullptr);
  EXPECT_EQ(unkept.Find("acme", "r9"), nullptr);
}

}  // namespace
}  // namespace agentd::runtime
