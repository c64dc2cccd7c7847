#pragma once
// The `node` the MCP tests start server-everything with: the first on PATH (scripts/setup.sh
// puts .tools/node first where the system's is too old); empty when there is none, and the
// tests skip naming scripts/setup.sh.

#include <unistd.h>

#include <cstdlib>
#include <string>

namespace agentd::testing {

inline std::string NodeBinary() {
  const char* path = std::getenv("PATH");
  const std::string dirs = path ? path : "/usr/bin";
  std::size_t pos = 0;
  while (pos <= dirs.size()) {
    const std::size_t end = dirs.find(':', pos);
    const std::string candidate = dirs.substr(pos, end - pos) + "/node";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  return {};
}

}  // namespace agentd::testing
