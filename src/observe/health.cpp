#include "observe/health.hpp"

#include <fmt/format.h>

namespace agentd::observe {

namespace {
std::int64_t ToNs(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}
}  // namespace

Health::Health(std::size_t loop_count, std::chrono::milliseconds stall_threshold)
    : slots_(std::make_unique<Slot[]>(loop_count)),
      count_(loop_count),
      stall_threshold_(stall_threshold) {
  // A loop counts as having ticked at construction: the probes get one threshold to start.
  // A loop whose probe never starts is reported stalled after that, which is what we want:
  // liveness is measured, not assumed.
  auto now = ToNs(std::chrono::steady_clock::now());
  for (std::size_t i = 0; i < count_; ++i) slots_[i].last_tick_ns.store(now);
}

void Health::RecordTick(std::size_t index, std::chrono::steady_clock::time_point now,
                        std::chrono::microseconds lag) {
  if (index >= count_) return;
  slots_[index].last_tick_ns.store(ToNs(now), std::memory_order_relaxed);
  slots_[index].last_lag_us.store(lag.count(), std::memory_order_relaxed);
}

std::vector<Health::LoopReport> Health::Loops(std::chrono::steady_clock::time_point now) const {
  std::vector<LoopReport> out;
  out.reserve(count_);
  auto now_ns = ToNs(now);
  for (std::size_t i = 0; i < count_; ++i) {
    auto since_ns = now_ns - slots_[i].last_tick_ns.load(std::memory_order_relaxed);
    if (since_ns < 0) since_ns = 0;  // a tick recorded after `now` was sampled
    auto since = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::nanoseconds(since_ns));
    out.push_back(LoopReport{
        .index = i,
        .since_last_tick = since,
        .last_lag = std::chrono::microseconds(slots_[i].last_lag_us.load(std::memory_order_relaxed)),
        .stalled = since > stall_threshold_,
    });
  }
  return out;
}

bool Health::LiveAt(std::chrono::steady_clock::time_point now, std::string* why) const {
  bool live = true;
  std::string reasons;
  for (const auto& r : Loops(now)) {
    if (!r.stalled) continue;
    live = false;
    if (!reasons.empty()) reasons += "; ";
    reasons += fmt::format("loop {} has not ticked for {} ms", r.index, r.since_last_tick.count());
  }
  if (why) *why = std::move(reasons);
  return live;
}

bool Health::Live(std::string* why) const { return LiveAt(std::chrono::steady_clock::now(), why); }

void Health::SetDependency(const std::string& name, bool up, std::string why) {
  std::lock_guard lock(dependencies_mutex_);
  dependencies_[name] = Dependency{up, std::move(why)};
}

void Health::AddDependencyProbe(std::string name, std::function<bool(std::string* why)> probe) {
  std::lock_guard lock(dependencies_mutex_);
  probes_.emplace_back(std::move(name), std::move(probe));
}

bool Health::DependenciesUp(std::string* why) const {
  std::lock_guard lock(dependencies_mutex_);
  bool all_up = true;
  for (const auto& [name, probe] : probes_) {
    std::string reason;
    if (probe(&reason)) continue;
    all_up = false;
    if (why != nullptr) {
      if (!why->empty()) *why += "; ";
      *why += reason.empty() ? name + " is down" : name + ": " + reason;
    }
  }
  for (const auto& [name, dep] : dependencies_) {
    if (dep.up) continue;
    all_up = false;
    if (why != nullptr) {
      if (!why->empty()) *why += "; ";
      *why += dep.why.empty() ? name + " is down" : name + ": " + dep.why;
    }
  }
  return all_up;
}

}  // namespace agentd::observe
