#include "config/environment.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

extern char** environ;

namespace agentd::config {

Environment Environment::FromProcess() {
  Environment env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    const auto eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    env.vars.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
  }
  env.cores = std::max(1u, std::thread::hardware_concurrency());
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_size = sysconf(_SC_PAGESIZE);
  if (pages > 0 && page_size > 0) {
    env.memory_bytes = static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page_size);
  }
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    env.fd_limit = limit.rlim_cur;
  }
  return env;
}

std::optional<std::string_view> Environment::Get(std::string_view name) const {
  auto it = vars.find(name);
  if (it == vars.end()) return std::nullopt;
  return std::string_view(it->second);
}

}  // namespace agentd::config
