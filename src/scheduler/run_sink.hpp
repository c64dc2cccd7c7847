#pragma once
// The RunEventSink of one run: keeps the requested stream modes and appends every event the
// executor emits to the run's event log (encoded once there). Lives in the run's coroutine.

#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "bus/event_log.hpp"
#include "runtime/run_events.hpp"

namespace agentd::scheduler {

class LogSink final : public runtime::RunEventSink {
 public:
  // Empty `modes` means {values} (agent-protocol.md 4.3). `may_write`, when set, is asked
  // before every append: a run whose instance lost its lease appends nothing more.
  LogSink(std::vector<runtime::StreamMode> modes, std::shared_ptr<bus::RunEventLog> log,
          std::function<bool()> may_write = {});
  bool Wants(runtime::StreamMode mode) const override;
  void Emit(std::string_view event, boost::json::value data) override;

 private:
  unsigned mask_ = 0;
  std::shared_ptr<bus::RunEventLog> log_;
  std::function<bool()> may_write_;
};

}  // namespace agentd::scheduler
