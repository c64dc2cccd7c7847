#pragma once
// What the loader reads from the process besides argv: environment variables and machine
// facts used to size the 0 ("auto") defaults. Injectable so tests control every input.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace agentd::config {

struct Environment {
  std::map<std::string, std::string, std::less<>> vars;
  std::size_t cores = 1;
  std::uint64_t memory_bytes = 1ULL << 30;  // physical memory, or the cgroup's limit if lower
  std::optional<std::uint64_t> cgroup_memory_limit;  // none when the cgroup sets none
  std::uint64_t fd_limit = 1024;  // RLIMIT_NOFILE soft limit

  // environ, hardware_concurrency, physical memory, the cgroup's memory limit and getrlimit
  // of this process.
  static Environment FromProcess();

  std::optional<std::string_view> Get(std::string_view name) const;
};

// The memory limit of the cgroup `proc_self_cgroup` (the text of /proc/self/cgroup) places
// this process in, read under `cgroup_root` (normally /sys/fs/cgroup): cgroup v1's
// `memory/.../memory.limit_in_bytes` when the memory controller is on v1, else v2's
// `.../memory.max`; the lowest set on the process's cgroup or any ancestor the mount shows
// (inside a container the namespace's root is the container's cgroup). nullopt when none is
// set ("max", v1's "unlimited" value, missing files).
std::optional<std::uint64_t> CgroupMemoryLimit(std::string_view proc_self_cgroup,
                                               const std::string& cgroup_root);

// The same for this process: CgroupMemoryLimit(/proc/self/cgroup, "/sys/fs/cgroup").
std::optional<std::uint64_t> OwnCgroupMemoryLimit();

}  // namespace agentd::config
