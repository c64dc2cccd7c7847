#pragma once
// This process's resident memory, read from /proc/self/statm (the cgroup's memory limit is a
// machine fact: config/environment.hpp). Memory-aware admission (scheduler/admission.hpp) asks for the resident
// size on every new run, so the reading is cached: at most one pread per `max_age`, from a
// descriptor opened once, lock-free for readers.

#include <atomic>
#include <chrono>
#include <cstdint>

namespace agentd::observe {

class ResidentMemory {
 public:
  explicit ResidentMemory(std::chrono::milliseconds max_age = std::chrono::milliseconds(50));
  ~ResidentMemory();
  ResidentMemory(const ResidentMemory&) = delete;
  ResidentMemory& operator=(const ResidentMemory&) = delete;

  // Resident bytes now (within max_age); 0 when /proc cannot be read. Thread-safe.
  std::uint64_t Bytes();

 private:
  std::uint64_t ReadNow() const;

  const std::int64_t max_age_ns_;
  const std::uint64_t page_size_;
  int fd_ = -1;
  std::atomic<std::uint64_t> bytes_{0};
  std::atomic<std::int64_t> read_at_ns_{0};
};

}  // namespace agentd::observe
