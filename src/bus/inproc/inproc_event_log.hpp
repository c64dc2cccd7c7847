#pragma once
// InprocRunEventLog: the in-process RunEventLog. One ring of encoded frames per run (each
// event encoded once, the bytes shared by every reader) and, per subscriber, a cursor into
// that ring plus at most one parked waiter; no per-subscriber queue is copied.
//
// Thread safety: one mutex guards the ring, the cursors and the waiter list. Append/Close
// take the waiters out under it and complete them after releasing it, by posting each to
// its subscriber's own executor, so subscribers may live on other io_contexts than the run.
// The run never waits for a subscriber: one lagging past subscriber_backlog frames (or
// subscriber_backlog_bytes bytes) appended since it joined is cut on its next Next()
// (kResourceExhausted), as is one whose unread frames were dropped from the ring. The ring
// holds at most max_retained_events frames and max_retained_bytes bytes.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "bus/event_log.hpp"

namespace agentd::observe {
class Counter;
}

namespace agentd::bus::inproc {

// Monotonic time, injectable so tests expire retention without sleeping. Empty = steady_clock.
using SteadyClock = std::function<std::chrono::steady_clock::time_point()>;

namespace detail {
struct LogCore;
}

// Bytes held by a set of logs (a bus's), in total and in logs that ended (Close()d), which
// are the ones a bus may evict. Logs add and remove their own bytes.
struct RetainedBytes {
  std::atomic<std::int64_t> total{0};
  std::atomic<std::int64_t> ended_bytes{0};

  void Add(std::int64_t delta, bool ended) {
    total.fetch_add(delta, std::memory_order_relaxed);
    if (ended) ended_bytes.fetch_add(delta, std::memory_order_relaxed);
  }
  void MoveToEnded(std::uint64_t bytes) { ended_bytes.fetch_add(static_cast<std::int64_t>(bytes)); }
  void MoveFromEnded(std::uint64_t bytes) { ended_bytes.fetch_sub(static_cast<std::int64_t>(bytes)); }
};

class InprocRunEventLog final : public RunEventLog {
 public:
  // `subscribers_cut` (may be null) counts cut subscribers; it must outlive the log.
  // `accounting` (may be null) is charged with the bytes this log retains.
  InprocRunEventLog(EventLogOptions options, observe::Counter* subscribers_cut = nullptr,
                    SteadyClock clock = {}, std::shared_ptr<RetainedBytes> accounting = nullptr);
  ~InprocRunEventLog() override;

  std::uint64_t Append(std::string_view event, std::string_view data_json) override;
  std::optional<std::uint64_t> AppendIfOpen(std::string_view event,
                                            std::string_view data_json) override;
  void Close() override;
  bool closed() const override;
  std::uint64_t next_id() const override;
  [[nodiscard]] std::unique_ptr<Subscription> Subscribe(StartAt start) override;

  // Undoes Close() (EventLogOptions::continue_existing): appends continue at next_id();
  // subscribers that have not yet seen the end keep receiving.
  void Reopen();

  const EventLogOptions& options() const;
  // When Close() ran (by the injected clock); nullopt while open. Drives retention.
  std::optional<std::chrono::steady_clock::time_point> closed_at() const;
  // Id of the oldest retained frame (== next_id() when none is retained).
  std::uint64_t first_retained_id() const;
  // Encoded bytes of the frames retained now.
  std::size_t retained_bytes() const;
  // Subscribers currently parked in Next(), for tests.
  std::size_t TEST_WaitingCount() const;

 private:
  // Shared with subscriptions, so a subscription outliving the log (or the bus entry) is safe.
  std::shared_ptr<detail::LogCore> core_;
};

}  // namespace agentd::bus::inproc
