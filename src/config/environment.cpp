#include "config/environment.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace agentd::config {
namespace {

std::optional<std::string> ReadSmallFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// A limit file's value: a byte count, or nullopt for "max" / no limit. cgroup v1 writes its
// "unlimited" as the largest page-aligned signed 64-bit value.
std::optional<std::uint64_t> ParseLimit(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  if (value >= (std::uint64_t{1} << 62)) return std::nullopt;
  return value;
}

// The lowest limit set on `path` or any of its ancestors under `mount` (a child's limit does
// not lift its parent's). Directories the mount namespace does not show are skipped.
std::optional<std::uint64_t> LowestOnThePath(const std::string& mount, std::string path,
                                             const char* file) {
  std::optional<std::uint64_t> lowest;
  while (true) {
    while (!path.empty() && path.back() == '/') path.pop_back();
    if (auto text = ReadSmallFile(mount + path + "/" + file)) {
      if (auto value = ParseLimit(*text); value && (!lowest || *value < *lowest)) lowest = value;
    }
    if (path.empty()) break;
    path.erase(path.rfind('/') == std::string::npos ? 0 : path.rfind('/'));
  }
  return lowest;
}

}  // namespace

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
  env.cgroup_memory_limit = OwnCgroupMemoryLimit();
  if (env.cgroup_memory_limit) env.memory_bytes = std::min(env.memory_bytes, *env.cgroup_memory_limit);
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

std::optional<std::uint64_t> CgroupMemoryLimit(std::string_view proc_self_cgroup,
                                               const std::string& cgroup_root) {
  // Lines are "id:controllers:path": v2 is "0::/path", v1's memory line "N:memory:/path".
  std::string v2_path;
  std::string v1_path;
  bool has_v2 = false;
  bool has_v1 = false;
  while (!proc_self_cgroup.empty()) {
    const auto nl = proc_self_cgroup.find('\n');
    std::string_view line = proc_self_cgroup.substr(0, nl);
    proc_self_cgroup.remove_prefix(nl == std::string_view::npos ? proc_self_cgroup.size() : nl + 1);
    const auto first = line.find(':');
    const auto second = first == std::string_view::npos ? first : line.find(':', first + 1);
    if (second == std::string_view::npos) continue;
    const std::string_view controllers = line.substr(first + 1, second - first - 1);
    const std::string_view path = line.substr(second + 1);
    if (line.substr(0, first) == "0" && controllers.empty()) {
      has_v2 = true;
      v2_path = std::string(path);
    } else {
      std::string_view rest = controllers;
      while (!rest.empty()) {
        const auto comma = rest.find(',');
        if (rest.substr(0, comma) == "memory") {
          has_v1 = true;
          v1_path = std::string(path);
          break;
        }
        rest.remove_prefix(comma == std::string_view::npos ? rest.size() : comma + 1);
      }
    }
  }
  std::optional<std::uint64_t> limit;
  if (has_v1) limit = LowestOnThePath(cgroup_root + "/memory", v1_path, "memory.limit_in_bytes");
  if (!limit && has_v2) limit = LowestOnThePath(cgroup_root, v2_path, "memory.max");
  return limit;
}

std::optional<std::uint64_t> OwnCgroupMemoryLimit() {
  auto text = ReadSmallFile("/proc/self/cgroup");
  if (!text) return std::nullopt;
  return CgroupMemoryLimit(*text, "/sys/fs/cgroup");
}

}  // namespace agentd::config
