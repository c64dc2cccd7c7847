#pragma once
// What /health and /ready report. Liveness is measured, not assumed: every event loop runs a
// LoopProbe (loop_probe.hpp) that ticks on a short timer and records when it last ran and how
// late; a loop whose last tick is older than the stall threshold is stuck, and /health fails.
// Readiness adds dependencies (storage ping, set by the caller) and draining.
// Thread-safe: probes write from their loops, handlers read from any loop.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace agentd::observe {

class Health {
 public:
  Health(std::size_t loop_count, std::chrono::milliseconds stall_threshold);

  // Called by loop `index`'s probe each time its timer fires; `lag` is how late it fired.
  void RecordTick(std::size_t index, std::chrono::steady_clock::time_point now,
                  std::chrono::microseconds lag);

  struct LoopReport {
    std::size_t index;
    std::chrono::milliseconds since_last_tick;
    std::chrono::microseconds last_lag;
    bool stalled;
  };
  std::vector<LoopReport> Loops(std::chrono::steady_clock::time_point now) const;
  // True when every loop ticked within the threshold; otherwise `why` names the stuck loops.
  bool Live(std::string* why = nullptr) const;
  // Live() evaluated at an injected time (tests; Live() passes steady_clock::now()).
  bool LiveAt(std::chrono::steady_clock::time_point now, std::string* why = nullptr) const;

  // External dependencies (PostgreSQL, Redis links) report whether they are usable: /ready
  // fails while any is down and names it. A dependency never reported counts as up.
  void SetDependency(const std::string& name, bool up, std::string why = {});
  // A dependency asked at each readiness check instead (e.g. "is the Redis link up"); the
  // probe must be cheap, thread-safe, and outlive this Health. Returns false with `why` set
  // when down.
  void AddDependencyProbe(std::string name, std::function<bool(std::string* why)> probe);
  // True when every dependency is up; otherwise `why` names the ones that are down.
  bool DependenciesUp(std::string* why = nullptr) const;

  void SetDraining() { draining_.store(true, std::memory_order_relaxed); }
  bool draining() const { return draining_.load(std::memory_order_relaxed); }
  std::chrono::milliseconds stall_threshold() const { return stall_threshold_; }

 private:
  struct Slot {
    std::atomic<std::int64_t> last_tick_ns{0};
    std::atomic<std::int64_t> last_lag_us{0};
  };
  std::unique_ptr<Slot[]> slots_;
  std::size_t count_;
  std::chrono::milliseconds stall_threshold_;
  std::atomic<bool> draining_{false};
  struct Dependency {
    bool up = true;
    std::string why;
  };
  mutable std::mutex dependencies_mutex_;
  std::map<std::string, Dependency> dependencies_;
  std::vector<std::pair<std::string, std::function<bool(std::string*)>>> probes_;
};

}  // namespace agentd::observe
