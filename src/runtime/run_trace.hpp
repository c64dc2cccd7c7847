#pragma once
// Run traces (docs/console.md, "Run traces"): what one run did, step by step, kept in memory
// and served at GET /threads/{thread_id}/runs/{run_id}/trace.
//
// RunTrace is the RunObserver the scheduler hands the executor for each run: it records spans
// (node, model call, tool call, checkpoint write) with their start offset from the run's start
// and duration, the run's queue wait, token usage, and the error with the node and step where
// it happened. Bounded per run by `max_bytes` (the trace_max_bytes setting) of JSON: spans that
// would pass it are counted in dropped_spans, not kept; tool arguments and results are cut at
// kMaxText each and take at most half the budget in all (past it they are left out and
// `truncated` is set). Stored() is the JSON text, never longer than max_bytes, that the run's
// end writes to storage (RunStore::SetTrace). Prompts are never stored, only their size.
//
// TraceStore keeps the traces of the last `max_runs` runs started on this process (oldest
// dropped first) in memory, keyed by tenant and run id: a tenant finds only its own. That is
// where a running run's trace is read; an ended one is also in storage.
//
// Thread safety: RunTrace records on the run's executor and is read (Json) from any thread;
// TraceStore is safe from any thread. Tests: tests/unit/runtime/run_trace_test.cpp.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "common/time.hpp"
#include "runtime/run_observer.hpp"

namespace agentd::runtime {

struct RunOutcome;  // executor.hpp

struct RunTraceInfo {
  std::string tenant;
  std::string run_id;
  std::string thread_id;
  std::string assistant_id;
  std::string graph_id;
  int attempt = 1;
};

class RunTrace final : public RunObserver {
 public:
  static constexpr std::size_t kMaxText = 2048;
  // Room kept for the fields around the spans (ids, times, usage, the error's cut message).
  static constexpr std::size_t kHeaderBytes = 3 * 1024;
  static constexpr std::size_t kDefaultMaxBytes = 64 * 1024;

  explicit RunTrace(RunTraceInfo info, std::size_t max_bytes = kDefaultMaxBytes);

  // The run got its execution slot after waiting `queue_wait`; execution starts now.
  void Started(std::chrono::steady_clock::duration queue_wait);
  // The run ended: its status ("success", "error", "interrupted", "timeout" ...), usage and
  // error (type + message) from the outcome.
  void Finished(std::string status, const RunOutcome& outcome);

  void NodeStarted(const TaskInfo& task) override;
  void NodeFinished(const TaskInfo& task, const Error* error) override;
  void ModelCalled(const TaskInfo& task, const ModelCallInfo& call) override;
  void ToolCalled(const TaskInfo& task, const ToolCallInfo& call) override;
  void CheckpointWritten(std::string_view checkpoint_id, std::string_view source,
                         int step) override;

  const RunTraceInfo& info() const { return info_; }
  // The whole trace as the endpoint answers it (docs/console.md has the shape).
  boost::json::object Json() const;
  // Json() as text of at most max_bytes: the last spans are dropped (and counted) until it fits.
  std::string Stored() const;
  // When execution started (wall clock, ms since the epoch; 0 before Started).
  TimestampMs started_at() const;
  std::size_t max_bytes() const { return max_bytes_; }

 private:
  using Clock = std::chrono::steady_clock;
  double OffsetMs(Clock::time_point t) const;  // since started_
  // Under mu_: keeps `span` when its size (plus `extra` bytes it may still grow by) fits the
  // budget, else counts it dropped; returns its index or nullopt.
  std::optional<std::size_t> Add(boost::json::object span, std::size_t extra = 0);
  // `text` cut to kMaxText and charged to the budget; nullopt once the budget is spent.
  std::optional<std::string> Keep(std::string text);  // under mu_

  const RunTraceInfo info_;
  const std::size_t max_bytes_;
  mutable std::mutex mu_;
  std::size_t bytes_used_ = 0;  // serialized spans kept, as charged by Add
  TimestampMs created_at_ = 0;
  TimestampMs started_at_ = 0;
  TimestampMs ended_at_ = 0;
  Clock::time_point started_{};
  std::optional<double> queue_wait_ms_;
  std::optional<double> duration_ms_;
  std::string status_ = "pending";
  boost::json::array spans_;
  std::map<std::string, std::size_t> open_nodes_;  // task id -> index of its span
  std::size_t dropped_ = 0;
  std::size_t text_used_ = 0;
  bool truncated_ = false;
  std::optional<std::int64_t> input_tokens_;
  std::optional<std::int64_t> output_tokens_;
  boost::json::value error_;  // null, or {type, message, node, step}
  std::string failed_node_;
  int failed_step_ = 0;
};

// Where ended traces go besides storage (runtime/otlp_exporter.hpp). Export is called on the
// run's executor once its trace is final; it must neither block nor throw.
class TraceExporter {
 public:
  virtual ~TraceExporter() = default;
  virtual void Export(const RunTrace& trace) = 0;
};

class TraceStore {
 public:
  explicit TraceStore(std::size_t max_runs,
                      std::size_t max_bytes = RunTrace::kDefaultMaxBytes)
      : max_runs_(max_runs), max_bytes_(max_bytes) {}
  // Null when max_bytes is 0 (traces off); otherwise a new trace, findable here unless
  // max_runs is 0.
  std::shared_ptr<RunTrace> Start(RunTraceInfo info);
  std::shared_ptr<const RunTrace> Find(const std::string& tenant, const std::string& run_id) const;
  std::size_t size() const;
  std::size_t max_runs() const { return max_runs_; }
  std::size_t max_bytes() const { return max_bytes_; }

 private:
  const std::size_t max_runs_;
  const std::size_t max_bytes_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<RunTrace>> by_key_;  // tenant + "/" + run id
  std::deque<std::string> order_;                            // keys, oldest first
};

}  // namespace agentd::runtime
