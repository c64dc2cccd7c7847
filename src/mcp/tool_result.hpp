#pragma once
// MCP tool data <-> agentd tool specs and tool messages. Pure functions.
//
// tools/list pages become config::ToolSpec (kind "mcp", name = prefix + remote name), filtered
// by the server's tool_filter; an entry that cannot be offered to a model (no or bad name,
// inputSchema not an object schema) is refused with a reason, never offered half-formed.
// tools/call results become a ToolOutcome: the text blocks in order; structuredContent as JSON
// text when no text block carries it; images, audio and resources as a one-line note (the tool
// message is text); isError -> ok = false; past `max_output_bytes` the text is cut with a note.
// Tests: tests/unit/mcp/tool_result_test.cpp.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "config/config.hpp"
#include "runtime/tools.hpp"

namespace agentd::mcp {

struct ToolsPage {
  std::vector<config::ToolSpec> tools;
  std::vector<std::string> refusals;  // "<remote name>: <why>", one per refused entry
  std::optional<std::string> next_cursor;
};

// One tools/list result. kInvalidArgument when the result itself has the wrong shape.
Result<ToolsPage> ParseToolsPage(const boost::json::value& result,
                                 const config::McpServerSpec& server);

runtime::ToolOutcome MapToolResult(const config::ToolSpec& tool, const boost::json::value& result,
                                   std::size_t max_output_bytes);

// `text` cut to at most `max_bytes` (on a UTF-8 boundary) with a note saying how much was cut.
std::string CapOutput(std::string text, std::size_t max_bytes);

}  // namespace agentd::mcp
