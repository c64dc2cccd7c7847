#pragma once
// UUID helpers for the protocol's ids (agent-protocol.md 1.3): v4 for user objects, v5 for the
// system assistant of a graph, v7 for ids that must sort lexically by creation time
// (checkpoint ids, run ids).

#include <string>
#include <string_view>

namespace agentd {

std::string NewUuid4();
// Monotonic within the process: two calls in the same millisecond still sort in call order.
std::string NewUuid7();
std::string Uuid5(std::string_view namespace_uuid, std::string_view name);
// The namespace LangGraph uses for system assistants (RFC 4122's URL namespace).
inline constexpr std::string_view kAssistantNamespace = "6ba7b821-9dad-11d1-80b4-00c04fd430c8";
inline std::string SystemAssistantId(std::string_view graph_id) {
  return Uuid5(kAssistantNamespace, graph_id);
}
// 8-4-4-4-12 hex digits, any case, any version.
bool IsUuid(std::string_view text);

}  // namespace agentd
