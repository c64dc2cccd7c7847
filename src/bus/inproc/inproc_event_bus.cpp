#include "bus/inproc/inproc_event_bus.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include "observe/metrics.hpp"

namespace agentd::bus::inproc {

namespace {
// Create sweeps every entry; Find checks only the one it returns.
constexpr auto kSweepEvery = std::chrono::seconds(1);
}  // namespace

InprocEventBus::InprocEventBus(observe::Counter* subscribers_cut, SteadyClock clock,
                               std::size_t retained_bytes_budget,
                               std::shared_ptr<RetainedBytes> accounting, observe::Counter* evicted)
    : subscribers_cut_(subscribers_cut),
      clock_(clock ? std::move(clock) : SteadyClock([] { return std::chrono::steady_clock::now(); })),
      retained_bytes_budget_(retained_bytes_budget),
      accounting_(std::move(accounting)),
      evicted_(evicted) {}

boost::asio::awaitable<Result<std::shared_ptr<RunEventLog>>> InprocEventBus::Create(
    std::string run_id, EventLogOptions options) {
  co_return CreateNow(run_id, options);
}

boost::asio::awaitable<std::shared_ptr<RunEventLog>> InprocEventBus::Find(std::string run_id) {
  co_return FindNow(run_id);
}

Result<std::shared_ptr<RunEventLog>> InprocEventBus::CreateNow(const std::string& run_id,
                                                               EventLogOptions options) {
  std::lock_guard lock(mu_);
  SweepLocked();
  EvictOverBudgetLocked();
  auto it = logs_.find(run_id);
  if (it != logs_.end() && !ExpiredLocked(*it->second)) {
    if (!options.continue_existing) {
      return Error(Errc::kConflict, "event log for run " + run_id + " exists");
    }
    // Resumed run: the same log (and its subscribers) goes on; its options stay.
    it->second->Reopen();
    return std::shared_ptr<RunEventLog>(it->second);
  }
  auto log = std::make_shared<InprocRunEventLog>(options, subscribers_cut_, clock_, accounting_);
  logs_.insert_or_assign(run_id, log);
  return std::shared_ptr<RunEventLog>(std::move(log));
}

std::shared_ptr<RunEventLog> InprocEventBus::FindNow(const std::string& run_id) {
  std::lock_guard lock(mu_);
  auto it = logs_.find(run_id);
  if (it == logs_.end()) return nullptr;
  if (ExpiredLocked(*it->second)) {
    logs_.erase(it);
    return nullptr;
  }
  return it->second;
}

void InprocEventBus::Remove(const std::string& run_id) {
  std::lock_guard lock(mu_);
  logs_.erase(run_id);
}

std::size_t InprocEventBus::TEST_LogCount() const {
  std::lock_guard lock(mu_);
  return logs_.size();
}

bool InprocEventBus::ExpiredLocked(const InprocRunEventLog& log) const {
  auto closed_at = log.closed_at();
  return closed_at && clock_() - *closed_at >= log.options().retention_after_close;
}

void InprocEventBus::SweepLocked() {
  auto now = clock_();
  if (last_sweep_ && now - *last_sweep_ < kSweepEvery) return;
  last_sweep_ = now;
  std::erase_if(logs_, [&](const auto& entry) { return ExpiredLocked(*entry.second); });
}

void InprocEventBus::EvictOverBudgetLocked() {
  if (retained_bytes_budget_ == 0) return;
  const auto budget = static_cast<std::int64_t>(retained_bytes_budget_);
  std::int64_t total = accounting_->total.load();
  if (total <= budget || accounting_->ended_bytes.load() <= 0) return;
  // Rare (only past the budget), so a scan and a sort rather than an index kept on every Close.
  std::vector<std::pair<std::chrono::steady_clock::time_point, std::string>> ended;
  for (const auto& [run_id, log] : logs_) {
    if (auto closed_at = log->closed_at()) ended.emplace_back(*closed_at, run_id);
  }
  std::sort(ended.begin(), ended.end());
  for (const auto& [closed_at, run_id] : ended) {
    if (total <= budget) break;
    auto it = logs_.find(run_id);
    // A subscriber still draining it keeps the bytes alive a little longer; they go with it.
    total -= static_cast<std::int64_t>(it->second->retained_bytes());
    logs_.erase(it);
    if (evicted_ != nullptr) evicted_->Inc();
  }
}

std::unique_ptr<EventBus> MakeInprocEventBus(observe::Metrics* metrics, SteadyClock clock,
                                             std::size_t retained_bytes_budget) {
  observe::Counter* cut = nullptr;
  observe::Counter* evicted = nullptr;
  auto accounting = std::make_shared<RetainedBytes>();
  if (metrics != nullptr) {
    cut = &metrics->GetCounter("agentd_bus_subscribers_cut_total",
                               "Event-stream subscribers cut for falling behind the run");
    evicted = &metrics->GetCounter(
        "agentd_bus_logs_evicted_total",
        "Ended runs' event logs dropped before their retention ended, to fit stream_retained_bytes");
    // Read at scrape time: the append path only moves the atomic total.
    metrics->AddCallbackGauge("agentd_bus_retained_bytes",
                              "Bytes of encoded events held by runs' event logs", {},
                              [accounting] { return static_cast<double>(accounting->total.load()); });
  }
  return std::make_unique<InprocEventBus>(cut, std::move(clock), retained_bytes_budget,
                                          std::move(accounting), evicted);
}

}  // namespace agentd::bus::inproc
