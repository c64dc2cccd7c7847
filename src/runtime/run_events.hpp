#pragma once
// What a run tells the world while it executes. The executor (runtime/executor.hpp) emits
// wire-ready events (the protocol's event name + JSON data, agent-protocol.md 4.3/7.4/7.5)
// into a RunEventSink; the scheduler's sink numbers them, encodes each once and appends it to
// the run's event log (bus/event_log.hpp). `metadata` and `error` are emitted by the
// scheduler, not the executor.
//
// The executor asks Wants(mode) before building an event, so modes nobody requested cost
// nothing. Emit() is called on the run's executor, in execution order, and must not block.

#include <optional>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

namespace agentd::runtime {

enum class StreamMode {
  kValues,         // "values"
  kUpdates,        // "updates"
  kMessagesTuple,  // "messages-tuple": event name "messages", data [chunk, metadata]
  kMessages,       // legacy "messages": messages/metadata, messages/partial, messages/complete
  kCustom,         // "custom"
  kEvents,         // "events"
  kDebug,          // "debug"
  kTasks,          // "tasks"
  kCheckpoints,    // "checkpoints"
};

std::optional<StreamMode> ParseStreamMode(std::string_view name);
std::string_view StreamModeName(StreamMode mode);

class RunEventSink {
 public:
  virtual ~RunEventSink() = default;
  virtual bool Wants(StreamMode mode) const = 0;
  // `event` is the wire name ("values", "updates", "messages", "messages/partial", ...).
  virtual void Emit(std::string_view event, boost::json::value data) = 0;
};

}  // namespace agentd::runtime
