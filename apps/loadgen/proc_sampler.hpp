#pragma once
// Samples a server's RSS and CPU time from /proc/<pid> on its own (non-I/O) thread every
// `period`, while a scenario runs, so the figures do not depend on the load loop. Several pids
// (instances of one server) are summed: RSS = the sum at one sample, CPU = the sum of deltas.

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "loadgen/report.hpp"

namespace agentd::loadgen {

struct ProcStat {
  std::uint64_t rss_kb = 0;
  double cpu_seconds = 0;  // utime + stime
};
// Reads /proc/<pid>/stat and /proc/<pid>/status; nullopt when the process is gone.
std::optional<ProcStat> ReadProcStat(pid_t pid);

class ProcSampler {
 public:
  // No pid (or only pids <= 0): samples nothing and Stop() returns an empty ServerUsage.
  explicit ProcSampler(std::vector<pid_t> pids, std::chrono::milliseconds period = std::chrono::milliseconds(100));
  ~ProcSampler();
  ProcSampler(const ProcSampler&) = delete;
  ProcSampler& operator=(const ProcSampler&) = delete;
  ServerUsage Snapshot();
  ServerUsage Stop();

 private:
  void Sample();
  // Sum over the pids still alive; nullopt when none is.
  std::optional<ProcStat> ReadAll() const;
  std::vector<pid_t> pids_;
  std::chrono::milliseconds period_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  ServerUsage usage_;
  double cpu_start_ = 0;
  std::thread thread_;
};

}  // namespace agentd::loadgen
