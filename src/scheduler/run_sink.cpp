#include "scheduler/run_sink.hpp"

#include <utility>

#include "common/json.hpp"

namespace agentd::scheduler {

namespace {
unsigned Bit(runtime::StreamMode mode) { return 1u << static_cast<unsigned>(mode); }
}  // namespace

LogSink::LogSink(std::vector<runtime::StreamMode> modes, std::shared_ptr<bus::RunEventLog> log,
                 std::function<bool()> may_write)
    : log_(std::move(log)), may_write_(std::move(may_write)) {
  if (modes.empty()) modes.push_back(runtime::StreamMode::kValues);
  for (auto mode : modes) mask_ |= Bit(mode);
}

bool LogSink::Wants(runtime::StreamMode mode) const { return (mask_ & Bit(mode)) != 0; }

void LogSink::Emit(std::string_view event, boost::json::value data) {
  // A closed log means the run already finished from the scheduler's point of view (or, in
  // cluster mode, an attempt that lost the run is still winding down): the event is dropped.
  if (may_write_ && !may_write_()) return;
  (void)log_->AppendIfOpen(event, ToJson(data));
}

}  // namespace agentd::scheduler
