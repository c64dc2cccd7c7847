#pragma once
// Run event streams: every run has one ordered log of SSE events (ids 0, 1, 2 ... shared by all
// readers). The run appends; any number of subscribers follow it, join late, or resume after
// an id (Last-Event-ID). An event is encoded once into its SSE frame and the immutable bytes
// are shared by every subscriber. Each subscriber has a bounded backlog: one that falls behind
// past it is cut with an error and never slows the run or the other subscribers.
//
// Backends: inproc/ (this process; ring of retained frames) and redis/ (Redis Streams, so any
// instance serves any run). Callers never know which.
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
  // Encoded bytes a log retains; past this the oldest frames are dropped, as past
  // max_retained_events (the newest frame is always kept). In-process backend only: Redis
  // bounds a stream by max_retained_events and its own maxmemory.
  std::size_t max_retained_bytes = 16 << 20;
  std::size_t subscriber_backlog = 4'096;     // frames a subscriber may lag before it is cut
  // Bytes appended since a subscriber joined that it may leave unread before it is cut, so a
  // client that stops reading pins a bounded amount (in-process backend).
  std::size_t subscriber_backlog_bytes = 8 << 20;
  std::chrono::milliseconds retention_after_close{10 * 60 * 1000};
  // Create on a run whose log already exists (an instance died while running it and this one
  // resumes it) continues that log instead of failing with kConflict: new frames get ids after
  // the highest one already used, subscribers that joined before keep receiving, and a closed
  // log is reopened (its end is no longer delivered as an end; a backend may skip the id the
  // end marker used, or start a new id range when it continues another writer's log, so
  // continued ids are > the last frame's id, not necessarily +1). Readers never see such a
  // jump as lag or loss: subscribers go on across it, and kAfterId with an id from either
  // side of it starts right after that id.
  bool continue_existing = false;
};

class RunEventLog {
 public:
  virtual ~RunEventLog() = default;
  // Encodes and appends; returns the event's id. After Close() it is a bug to append.
  virtual std::uint64_t Append(std::string_view event, std::string_view data_json) = 0;
  // Appends unless the log is closed, checked in the same step: nullopt when closed. For
  // writers that may legitimately find it closed, such as an attempt that lost its run (cluster
  // mode) and still emits while the run's next attempt or its end closes the log; a separate
  // closed() check before Append would race with that Close.
  virtual std::optional<std::uint64_t> AppendIfOpen(std::string_view event,
                                                    std::string_view data_json) = 0;
  // The run ended: subscribers receive what remains, then end.
  virtual void Close() = 0;
  virtual bool closed() const = 0;
  virtual std::uint64_t next_id() const = 0;
  [[nodiscard]] virtual std::unique_ptr<Subscription> Subscribe(StartAt start) = 0;
};

// Create and Find may need a round trip to a shared store (redis/), so they are awaited; they
// complete on the awaiting coroutine's executor.
class EventBus {
 public:
  virtual ~EventBus() = default;
  // A new log for `run_id`. kConflict when one exists, unless options.continue_existing;
  // kUnavailable when the backend cannot reach its store.
  virtual boost::asio::awaitable<Result<std::shared_ptr<RunEventLog>>> Create(
      std::string run_id, EventLogOptions options) = 0;
  // The log of a running or recently ended run (within its retention); nullptr when unknown
  // (or, logged, when the store cannot be reached).
  virtual boost::asio::awaitable<std::shared_ptr<RunEventLog>> Find(std::string run_id) = 0;
  // Drops a log now (run deleted). Fire-and-forget: never blocks; a later Find in this
  // process answers nullptr at once, other instances once the deletion reached the store.
  virtual void Remove(const std::string& run_id) = 0;
  // False while the backend cannot reach its store (Redis link down); /ready reports it.
  virtual bool healthy() const { return true; }
};

}  // namespace agentd::bus
