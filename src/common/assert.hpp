#pragma once
// AGENTD_ASSERT: an invariant the code itself guarantees. A failure is a bug: log and abort.
// Never use it on input from the network.

namespace agentd::detail {
[[noreturn]] void AssertFailed(const char* expr, const char* file, int line);
}

#define AGENTD_ASSERT(expr) \
  ((expr) ? (void)0 : ::agentd::detail::AssertFailed(#expr, __FILE__, __LINE__))
