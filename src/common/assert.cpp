#include "common/assert.hpp"

#include <cstdio>
#include <cstdlib>

namespace agentd::detail {
void AssertFailed(const char* expr, const char* file, int line) {
  std::fprintf(stderr, "agentd: assertion failed: %s at %s:%d\n", expr, file, line);
  std::abort();
}
}  // namespace agentd::detail
