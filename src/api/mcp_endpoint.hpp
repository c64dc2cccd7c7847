#pragma once
// Private to api/: the pure pieces of agentd's own MCP server (POST /mcp, mcp_handlers.cpp,
// docs/interop.md): which protocol revision to answer, what tool an assistant is, and what
// run a tools/call asks for. No I/O. Tests: tests/unit/api/interop_test.cpp.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "common/error.hpp"
#include "model/types.hpp"
#include "runtime/graph_registry.hpp"

namespace agentd::api::detail {

// The revisions /mcp answers, newest first. initialize echoes the client's when it is one of
// them, else offers the newest (the client then decides whether it can go on).
inline constexpr std::string_view kMcpVersions[] = {"2025-11-25", "2025-06-18", "2025-03-26"};
std::string NegotiateMcpVersion(std::string_view requested);
bool IsSupportedMcpVersion(std::string_view version);

// DNS-rebinding protection (MCP transports, "Security Warning"): true when a request with this
// `Origin` header may reach /mcp of a server listening on `listen_host`. A server on a loopback
// address accepts no Origin (non-browser clients), loopback origins (localhost, 127.0.0.1,
// [::1]) and the origins listed in `cors_origins` ("*" lists none); any other server accepts all.
bool McpOriginAllowed(std::string_view listen_host, std::optional<std::string_view> origin,
                      const std::vector<std::string>& cors_origins);

// The initialize result: the negotiated revision, capabilities.tools, serverInfo agentd.
boost::json::object McpInitializeResult(std::string_view requested, std::string_view version);

// The tool name of an assistant, stable and unique:
//  - a system assistant (the one of each graph, id uuid5(graph_id)): its graph_id;
//  - any other: its name and its assistant_id, "<name>_<assistant_id>".
// Characters outside [A-Za-z0-9_.-] become '_'; the name part is cut to 64 characters, so a
// name is at most 101 characters (MCP allows 128).
std::string McpToolName(const model::Assistant& assistant);
std::string SanitizeToolName(std::string_view text, std::size_t max_chars);
// The assistant id at the end of a tool name ("..._<uuid>"), if there is one.
std::optional<std::string> ToolNameAssistantId(std::string_view tool_name);

// {name, title, description, inputSchema}. inputSchema is the graph's input schema (what
// GET /assistants/{id}/schemas answers as input_schema) plus two optional properties:
// `thread_id` (run on that thread instead of a new one) and, for message graphs, `message` (a
// plain text the user says, instead of `messages`).
boost::json::object McpToolJson(const model::Assistant& assistant,
                                const runtime::GraphInfo* graph);

// What a tools/call's `arguments` ask for.
struct ToolCallArgs {
  boost::json::object input;
  std::optional<std::string> thread_id;
};
// kInvalidArgument naming the problem: arguments not an object, thread_id not a UUID string,
// message not a string, or a message graph called with neither `message` nor `messages`.
Result<ToolCallArgs> ReadToolCallArgs(const runtime::GraphInfo* graph,
                                      const boost::json::value& arguments);

}  // namespace agentd::api::detail
