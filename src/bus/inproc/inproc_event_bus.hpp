#pragma once
// The in-process EventBus: a registry run_id -> InprocRunEventLog. Closed logs stay
// findable for their retention_after_close, then are dropped lazily (checked on Find, swept
// on Create); there is no timer and no background thread. Remove drops a log at once;
// subscriptions already open keep their log alive until they end.
//
// Memory: every log's ring is bounded by its options; the bytes of all logs together are
// bounded by `retained_bytes_budget`: when a Create finds the total above it, closed logs are
// dropped, the longest-closed first, until it fits (open logs are never dropped: they are
// bounded by their own caps times the runs admitted). 0 = no budget.
//
// Thread-safe: one mutex around the registry (never held while a log runs its own code
// beyond reading its close time).

#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "bus/event_log.hpp"
#include "bus/inproc/inproc_event_log.hpp"

namespace agentd::observe {
class Metrics;
}

namespace agentd::bus::inproc {

class InprocEventBus final : public EventBus {
 public:
  // `subscribers_cut` and `evicted` may be null; they must outlive the bus and every log it made.
  InprocEventBus(observe::Counter* subscribers_cut, SteadyClock clock,
                 std::size_t retained_bytes_budget = 0,
                 std::shared_ptr<RetainedBytes> accounting = std::make_shared<RetainedBytes>(),
                 observe::Counter* evicted = nullptr);

  // Awaitable only to fit the interface: both complete without suspending.
  boost::asio::awaitable<Result<std::shared_ptr<RunEventLog>>> Create(
      std::string run_id, EventLogOptions options) override;
  boost::asio::awaitable<std::shared_ptr<RunEventLog>> Find(std::string run_id) override;
  void Remove(const std::string& run_id) override;

  // The synchronous cores of Create/Find.
  Result<std::shared_ptr<RunEventLog>> CreateNow(const std::string& run_id,
                                                 EventLogOptions options);
  std::shared_ptr<RunEventLog> FindNow(const std::string& run_id);

  // Logs held right now, expired ones included until the next sweep; for tests.
  std::size_t TEST_LogCount() const;
  // Bytes retained by every log this bus made (dropped ones still read by a subscriber too).
  std::int64_t retained_bytes() const { return accounting_->total.load(); }

 private:
  bool ExpiredLocked(const InprocRunEventLog& log) const;
  void SweepLocked();
  void EvictOverBudgetLocked();

  observe::Counter* subscribers_cut_;
  SteadyClock clock_;
  const std::size_t retained_bytes_budget_;
  const std::shared_ptr<RetainedBytes> accounting_;
  observe::Counter* evicted_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<InprocRunEventLog>> logs_;
  std::optional<std::chrono::steady_clock::time_point> last_sweep_;
};

// The factory apps/agentd calls. With `metrics`, registers agentd_bus_subscribers_cut_total,
// agentd_bus_retained_bytes and agentd_bus_logs_evicted_total; `metrics` must outlive the
// bus. `clock` is for tests (empty = steady_clock).
std::unique_ptr<EventBus> MakeInprocEventBus(observe::Metrics* metrics = nullptr,
                                             SteadyClock clock = {},
                                             std::size_t retained_bytes_budget = 0);

}  // namespace agentd::bus::inproc
