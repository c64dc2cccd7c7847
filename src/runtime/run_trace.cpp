#include "runtime/run_trace.hpp"

#include <algorithm>
#include <cmath>

#include <boost/json/serialize.hpp>

#include "common/json.hpp"
#include "runtime/executor.hpp"
#include "runtime/run_context.hpp"

namespace agentd::runtime {

namespace json = boost::json;

namespace {

double Round(double ms) { return std::round(ms * 1000.0) / 1000.0; }  // to the microsecond

double Ms(std::chrono::steady_clock::duration d) {
  return Round(std::chrono::duration<double, std::milli>(d).count());
}

// Cut at a UTF-8 character boundary so the JSON stays valid text.
std::string Cut(std::string text, std::size_t limit) {
  if (text.size() <= limit) return text;
  std::size_t end = limit;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  text.resize(end);
  text += "…";
  return text;
}

}  // namespace

RunTrace::RunTrace(RunTraceInfo info, std::size_t max_bytes)
    : info_(std::move(info)), max_bytes_(max_bytes), created_at_(NowMs()) {}

double RunTrace::OffsetMs(Clock::time_point t) const {
  if (started_ == Clock::time_point{}) return 0;
  return Ms(t - started_);
}

std::optional<std::size_t> RunTrace::Add(json::object span, std::size_t extra) {
  // +1 for the comma between spans.
  const std::size_t size = json::serialize(span).size() + 1 + extra;
  const std::size_t room = max_bytes_ > kHeaderBytes ? max_bytes_ - kHeaderBytes : 0;
  if (bytes_used_ + size > room) {
    ++dropped_;
    return std::nullopt;
  }
  bytes_used_ += size;
  spans_.push_back(std::move(span));
  return spans_.size() - 1;
}

std::optional<std::string> RunTrace::Keep(std::string text) {
  const std::size_t budget = max_bytes_ / 2;
  if (text_used_ >= budget) {
    truncated_ = true;
    return std::nullopt;
  }
  if (text.size() > kMaxText) truncated_ = true;
  std::string kept = Cut(std::move(text), std::min(kMaxText, budget - text_used_));
  text_used_ += kept.size();
  return kept;
}

void RunTrace::Started(std::chrono::steady_clock::duration queue_wait) {
  std::lock_guard lock(mu_);
  started_ = Clock::now();
  started_at_ = NowMs();
  queue_wait_ms_ = Ms(queue_wait);
  status_ = "running";
}

void RunTrace::Finished(std::string status, const RunOutcome& outcome) {
  std::lock_guard lock(mu_);
  ended_at_ = NowMs();
  if (started_ != Clock::time_point{}) duration_ms_ = Ms(Clock::now() - started_);
  status_ = std::move(status);
  input_tokens_ = outcome.usage.input_tokens;
  output_tokens_ = outcome.usage.output_tokens;
  if (outcome.error && outcome.kind == RunOutcome::Kind::kError) {
    json::object error{{"type", outcome.error_type.empty() ? "Error" : outcome.error_type},
                       {"message", Cut(outcome.error->message, kMaxText)}};
    if (!failed_node_.empty()) {
      error["node"] = failed_node_;
      error["step"] = failed_step_;
    }
    error_ = std::move(error);
  }
  // Nodes still open ended with the run (cancelled, timed out).
  const auto now = Clock::now();
  for (const auto& [task_id, index] : open_nodes_) {
    auto& span = spans_[index].as_object();
    span["duration_ms"] = Round(Ms(now - started_) - span["start_ms"].to_number<double>());
    span["status"] = "cancelled";
  }
  open_nodes_.clear();
}

void RunTrace::NodeStarted(const TaskInfo& task) {
  std::lock_guard lock(mu_);
  // Charged with room for its end: a duration, a longer status and a cut error message.
  auto index = Add(json::object{{"kind", "node"},
                                {"name", task.node},
                                {"task_id", task.id},
                                {"step", task.step},
                                {"start_ms", OffsetMs(Clock::now())},
                                {"duration_ms", nullptr},
                                {"status", "running"}},
                   32);
  if (index) open_nodes_[task.id] = *index;
}

void RunTrace::NodeFinished(const TaskInfo& task, const Error* error) {
  std::lock_guard lock(mu_);
  if (error != nullptr && error->code != Errc::kCancelled) {
    failed_node_ = task.node;
    failed_step_ = task.step;
  }
  auto it = open_nodes_.find(task.id);
  if (it == open_nodes_.end()) return;
  auto& span = spans_[it->second].as_object();
  span["duration_ms"] = Round(OffsetMs(Clock::now()) - span["start_ms"].to_number<double>());
  if (error == nullptr) {
    span["status"] = "ok";
  } else {
    span["status"] = error->code == Errc::kCancelled ? "cancelled" : "error";
    if (auto kept = Keep(error->message)) span["error"] = std::move(*kept);
  }
  open_nodes_.erase(it);
}

void RunTrace::ModelCalled(const TaskInfo& task, const ModelCallInfo& call) {
  std::lock_guard lock(mu_);
  json::object span{{"kind", "model"},
                    {"name", call.model},
                    {"node", task.node},
                    {"task_id", task.id},
                    {"step", task.step},
                    {"start_ms", OffsetMs(call.started)},
                    {"duration_ms", Ms(call.latency)},
                    {"ttft_ms", call.ttft ? json::value(Ms(*call.ttft)) : json::value(nullptr)},
                    {"prompt_messages", call.prompt_messages},
                    {"prompt_chars", call.prompt_chars},
                    {"tools_offered", call.tools_offered},
                    {"input_tokens", call.input_tokens ? json::value(*call.input_tokens) : json::value(nullptr)},
                    {"output_tokens", call.output_tokens ? json::value(*call.output_tokens) : json::value(nullptr)},
                    {"finish_reason", call.finish_reason},
                    {"tool_calls", call.tool_calls},
                    {"restarts", call.restarts},
                    {"status", call.error ? "error" : "ok"}};
  if (call.error) {
    if (auto kept = Keep(call.error->message)) span["error"] = std::move(*kept);
  }
  Add(std::move(span));
}

void RunTrace::ToolCalled(const TaskInfo& task, const ToolCallInfo& call) {
  std::lock_guard lock(mu_);
  json::object span{{"kind", "tool"},
                    {"name", call.name},
                    {"call_id", call.call_id},
                    {"node", task.node},
                    {"task_id", task.id},
                    {"step", task.step},
                    {"start_ms", OffsetMs(call.started)},
                    {"duration_ms", Ms(call.duration)},
                    {"status", call.ok ? "ok" : "error"}};
  // Arguments stay JSON when whole; a cut one becomes its (cut) text.
  std::string args_text = ToJson(call.args);
  const bool args_fit = args_text.size() <= kMaxText;
  if (auto kept = Keep(std::move(args_text))) {
    span["args"] = args_fit ? call.args : json::value(*kept);
  }
  if (auto kept = Keep(call.result)) span["result"] = std::move(*kept);
  Add(std::move(span));
}

void RunTrace::CheckpointWritten(std::string_view checkpoint_id, std::string_view source,
                                 int step) {
  std::lock_guard lock(mu_);
  Add(json::object{{"kind", "checkpoint"},
                   {"checkpoint_id", checkpoint_id},
                   {"source", source},
                   {"step", step},
                   {"start_ms", OffsetMs(Clock::now())}});
}

json::object RunTrace::Json() const {
  std::lock_guard lock(mu_);
  json::object out{
      {"run_id", info_.run_id},
      {"thread_id", info_.thread_id},
      {"assistant_id", info_.assistant_id},
      {"graph_id", info_.graph_id},
      {"attempt", info_.attempt},
      {"status", status_},
      {"created_at", FormatIso8601(created_at_)},
      {"started_at", started_at_ ? json::value(FormatIso8601(started_at_)) : json::value(nullptr)},
      {"ended_at", ended_at_ ? json::value(FormatIso8601(ended_at_)) : json::value(nullptr)},
      {"queue_wait_ms", queue_wait_ms_ ? json::value(*queue_wait_ms_) : json::value(nullptr)},
      {"duration_ms", duration_ms_ ? json::value(*duration_ms_) : json::value(nullptr)},
      {"usage", json::object{{"input_tokens", input_tokens_ ? json::value(*input_tokens_) : json::value(nullptr)},
                             {"output_tokens", output_tokens_ ? json::value(*output_tokens_) : json::value(nullptr)}}},
      {"error", error_},
      {"spans", spans_},
      {"dropped_spans", dropped_},
      {"truncated", truncated_},
  };
  return out;
}

std::string RunTrace::Stored() const {
  json::object out = Json();
  std::string text = json::serialize(out);
  if (text.size() <= max_bytes_) return text;
  // Add's accounting is close but not exact (a node's end, the error): drop the last spans.
  auto& spans = out["spans"].as_array();
  std::size_t dropped = out["dropped_spans"].to_number<std::size_t>();
  while (text.size() > max_bytes_ && !spans.empty()) {
    const std::size_t cut = std::min<std::size_t>(spans.size(), 1 + spans.size() / 8);
    spans.erase(spans.end() - static_cast<std::ptrdiff_t>(cut), spans.end());
    dropped += cut;
    out["dropped_spans"] = dropped;
    out["truncated"] = true;
    text = json::serialize(out);
  }
  return text;
}

TimestampMs RunTrace::started_at() const {
  std::lock_guard lock(mu_);
  return started_at_;
}

std::shared_ptr<RunTrace> TraceStore::Start(RunTraceInfo info) {
  if (max_bytes_ == 0) return nullptr;
  std::string key = info.tenant + "/" + info.run_id;
  auto trace = std::make_shared<RunTrace>(std::move(info), max_bytes_);
  if (max_runs_ == 0) return trace;
  std::lock_guard lock(mu_);
  auto [it, inserted] = by_key_.insert_or_assign(key, trace);
  if (inserted) {
    order_.push_back(std::move(key));
    while (order_.size() > max_runs_) {
      by_key_.erase(order_.front());
      order_.pop_front();
    }
  }
  return trace;
}

std::shared_ptr<const RunTrace> TraceStore::Find(const std::string& tenant,
                                                 const std::string& run_id) const {
  std::lock_guard lock(mu_);
  auto it = by_key_.find(tenant + "/" + run_id);
  return it == by_key_.end() ? nullptr : it->second;
}

std::size_t TraceStore::size() const {
  std::lock_guard lock(mu_);
  return by_key_.size();
}

}  // namespace agentd::runtime
