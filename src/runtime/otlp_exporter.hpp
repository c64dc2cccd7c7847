#pragma once
// OpenTelemetry export of run traces over OTLP/HTTP, JSON encoding (docs/console.md,
// "OpenTelemetry"). Each ended run's trace (runtime/run_trace.hpp) becomes spans named and
// attributed by the GenAI semantic conventions:
//
//   invoke_agent <graph>        the run (root; gen_ai.agent.*, gen_ai.conversation.id = thread,
//                               token usage of the whole run; checkpoints as span events)
//     <node>                    each node of each step (agentd.node.*)
//       chat <model>            each model call (CLIENT; gen_ai.request.model, provider,
//                               gen_ai.usage.input_tokens / output_tokens, finish reasons)
//       execute_tool <tool>     each tool call (gen_ai.tool.name, gen_ai.tool.call.id)
//
// The trace id is the run's (observe::TraceIdOf: the run UUID's hex), so log lines, which carry
// `run_id=... trace_id=...`, point at the trace.
//
// Never slows a run: Export() builds the spans and appends them to a bounded queue
// (queue_size spans) under a mutex, nothing else; spans that do not fit are dropped and counted
// (agentd_otlp_spans_dropped_total{reason="queue_full"}). One coroutine on `executor` sends
// batches of at most batch_size spans, when a batch is full or export_interval after the last
// send; a request that fails (transport error, non-2xx, past `timeout`) drops its spans
// (reason="export_failed"); spans the collector refuses in a partial success count as
// reason="rejected". No retries: a trace backend that is down must not grow memory.
//
// Threading: Export() from any thread; Start()/Stop() from one non-loop thread, while the
// executor's loop runs. Stop() sends what is queued (each request bounded by `timeout`, the
// wait by three of them) and waits for it; destroying the exporter does not flush.
// Tests: tests/unit/runtime/otlp_exporter_test.cpp (span mapping);
// tests/integration/otlp_export_test.cpp (build/agentd against a validating receiver).

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/json/object.hpp>

#include "common/time.hpp"
#include "observe/metrics.hpp"
#include "runtime/http_transport.hpp"
#include "runtime/run_trace.hpp"

namespace agentd::runtime {

struct OtlpExporterOptions {
  std::string endpoint;  // the traces URL, e.g. http://127.0.0.1:4318/v1/traces
  std::vector<std::pair<std::string, std::string>> headers;
  std::size_t batch_size = 512;
  std::size_t queue_size = 8'192;
  std::chrono::milliseconds export_interval{1'000};
  std::chrono::milliseconds timeout{10'000};
  // The resource: service.name, service.version, service.instance.id.
  std::string service_name = "agentd";
  std::string service_version;
  std::string instance_id;
  // Configured model name -> {provider (gen_ai.provider.name), the provider's model name}.
  std::map<std::string, std::pair<std::string, std::string>> models;
};

// The OTLP spans of one ended trace (`trace` as RunTrace::Json() gives it; `started_at` its
// execution start, ms since the epoch), in the proto3 JSON mapping OTLP/HTTP uses (hex ids,
// integer enums, 64-bit integers as strings). Empty when the run never started.
std::vector<boost::json::object> OtlpSpans(const boost::json::object& trace,
                                           TimestampMs started_at,
                                           const OtlpExporterOptions& options);
// An ExportTraceServiceRequest holding `spans` under the options' resource.
boost::json::object OtlpRequest(std::vector<boost::json::object> spans,
                                const OtlpExporterOptions& options);

class OtlpExporter final : public TraceExporter {
 public:
  // `http` and `metrics` must outlive the exporter.
  OtlpExporter(boost::asio::any_io_executor executor, HttpTransport& http,
               observe::Metrics& metrics, OtlpExporterOptions options);
  ~OtlpExporter() override;
  OtlpExporter(const OtlpExporter&) = delete;
  OtlpExporter& operator=(const OtlpExporter&) = delete;

  void Export(const RunTrace& trace) override;
  void Start();
  void Stop();

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace agentd::runtime
