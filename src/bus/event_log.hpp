#pragma once
// Run event streams: every run has one ordered log of SSE events (ids 0, 1, 2 ... shared by all
// readers). The run appends; any number of subscribers follow it, join late, or resume after
// an id (Last-Event-ID). An event is encoded once into its SSE frame and the immutable bytes
// are shared by every subscriber. Each subscriber has a bounded backlog: one that falls behind
// past it is cut with an error and never slows the run or the other subscribers.
//
// Backends: inproc/ (this process; ring of retained frames) now, redis/ (Redis Streams, so any
// instance serves any run) later. Callers never know which.
//
// Threading: Append/Close are called from the run's executor; Subscribe and Next from any
// event loop; Next completes on the caller's executor. All methods are thread-safe.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "common/error.hpp"

namespace agentd::bus {

using Frame = std::shared_ptr<const std::string>;

// "event: <name>\ndata: <data>\nid: <id>\n\n" (agent-protocol.md 4.2). `data_json` must be
// compact single-line JSON.
std::string EncodeSseFrame(std::string_view event, std::string_view data_json, std::uint64_t id);

// Where a new subscriber starts.
struct StartAt {
  enum class Kind { kBeginning, kAfterId, kLiveOnly } kind = Kind::kBeginning;
  std::uint64_t after_id = 0;  // kAfterId: first delivered id is after_id + 1
};

class Subscription {
 public:
  virtual ~Subscription() = default;  // unsubscribes
  // The next frames in order, as many as are ready (at least one). An empty vector means the
  // log is closed and everything was delivered: end the stream. kResourceExhausted: this
  // subscriber fell behind past its bound and was cut (its message says so). kCancelled when
  // the awaiting coroutine is cancelled.
  virtual boost::asio::awaitable<Result<std::vector<Frame>>> Next() = 0;
};

struct EventLogOptions {
  std::size_t max_retained_events = 100'000;  // oldest dropped past this (late joiners miss them)
  std::size_t subscriber_backlog = 4'096;     // frames a subscriber may lag before it is cut
  std::chrono::milliseconds retention_after_close{10 * 60 * 1000};
};

class RunEventLog {
 public:
  virtual ~RunEventLog() = default;
  // Encodes and appends; returns the event's id. After Close() it is a bug to append.
  virtual std::uint64_t Append(std::string_view event, std::string_view data_json) = 0;
  // The run ended: subscribers receive what remains, then end.
  virtual void Close() = 0;
  virtual bool closed() const = 0;
  virtual std::uint64_t next_id() const = 0;
  [[nodiscard]] virtual std::unique_ptr<Subscription> Subscribe(StartAt start) = 0;
};

class EventBus {
 public:
  virtual ~EventBus() = default;
  // A new log for `run_id`. kConflict when one exists.
  virtual Result<std::shared_ptr<RunEventLog>> Create(const std::string& run_id,
                                                      EventLogOptions options) = 0;
  // The log of a running or recently ended run (within its retention); nullptr when unknown.
  virtual std::shared_ptr<RunEventLog> Find(const std::string& run_id) = 0;
  // Drops a log now (run deleted).
  virtual void Remove(const std::string& run_id) = 0;
};

}  // namespace agentd::bus
