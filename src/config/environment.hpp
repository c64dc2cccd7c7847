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
  std::uint64_t memory_bytes = 1ULL << 30;
  std::uint64_t fd_limit = 1024;  // RLIMIT_NOFILE soft limit

  // environ, hardware_concurrency, physical memory and getrlimit of this process.
  static Environment FromProcess();

  std::optional<std::string_view> Get(std::string_view name) const;
};

}  // namespace agentd::config
