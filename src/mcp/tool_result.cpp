#include "mcp/tool_result.hpp"

#include <algorithm>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>


namespace agentd::mcp {

namespace json = boost::json;

namespace {

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-';
  });
}

std::string_view StringField(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

}  // namespace

Result<ToolsPage> ParseToolsPage(const json::value& result, const config::McpServerSpec& server) {
  if (!result.is_object()) return Error(Errc::kInvalidArgument, "tools/list result is not an object");
  const json::object& o = result.get_object();
  const json::value* tools = o.if_contains("tools");
  if (tools == nullptr || !tools->is_array()) {
    return Error(Errc::kInvalidArgument, "tools/list result has no \"tools\" array");
  }
  ToolsPage page;
  if (const json::value* cursor = o.if_contains("nextCursor"); cursor && cursor->is_string()) {
    page.next_cursor = std::string(cursor->get_string());
  }
  for (std::size_t i = 0; i < tools->get_array().size(); ++i) {
    const json::value& entry = tools->get_array()[i];
    if (!entry.is_object()) {
      page.refusals.push_back(fmt::format("tools[{}]: not an object", i));
      continue;
    }
    const json::object& t = entry.get_object();
    const std::string remote(StringField(t, "name"));
    if (remote.empty()) {
      page.refusals.push_back(fmt::format("tools[{}]: no name", i));
      continue;
    }
    if (!server.tool_filter.empty() &&
        std::find(server.tool_filter.begin(), server.tool_filter.end(), remote) ==
            server.tool_filter.end()) {
      continue;  // not exposed: not a refusal
    }
    const std::string name = server.prefix + remote;
    if (!ValidName(name)) {
      page.refusals.push_back(fmt::format("{}: the name \"{}\" must match [A-Za-z0-9_-]{{1,64}}",
                                          remote, name));
      continue;
    }
    const json::value* schema = t.if_contains("inputSchema");
    if (schema == nullptr || !schema->is_object()) {
      page.refusals.push_back(fmt::format("{}: inputSchema is missing or not an object", remote));
      continue;
    }
    const json::value* type = schema->get_object().if_contains("type");
    if (type == nullptr || !type->is_string() || type->get_string() != "object") {
      page.refusals.push_back(fmt::format("{}: inputSchema must have \"type\": \"object\"", remote));
      continue;
    }
    if (const json::value* props = schema->get_object().if_contains("properties");
        props != nullptr && !props->is_object()) {
      page.refusals.push_back(fmt::format("{}: inputSchema.properties must be an object", remote));
      continue;
    }
    config::ToolSpec spec;
    spec.name = name;
    spec.kind = "mcp";
    spec.server = server.name;
    spec.remote_name = remote;
    spec.description = std::string(StringField(t, "description"));
    if (spec.description.empty()) spec.description = std::string(StringField(t, "title"));
    spec.parameters = schema->get_object();
    spec.timeout = server.timeout;
    spec.retries = 0;
    page.tools.push_back(std::move(spec));
  }
  return page;
}

std::string CapOutput(std::string text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  std::size_t cut = max_bytes;
  // Do not split a UTF-8 sequence: back up over continuation bytes.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  const std::size_t dropped = text.size() - cut;
  text.resize(cut);
  text += fmt::format("\n[output cut: {} more bytes over the {}-byte limit (max_output_bytes)]",
                      dropped, max_bytes);
  return text;
}

runtime::ToolOutcome MapToolResult(const config::ToolSpec& tool, const json::value& result,
                                   std::size_t max_output_bytes) {
  if (!result.is_object()) {
    return {fmt::format("Error: MCP server {} answered tools/call for {} with a non-object result",
                        tool.server, tool.remote_name),
            false};
  }
  const json::object& o = result.get_object();
  std::string text;
  auto add = [&](std::string_view piece) {
    if (!text.empty()) text += '\n';
    text.append(piece);
  };
  bool has_text = false;
  if (const json::value* content = o.if_contains("content"); content && content->is_array()) {
    for (const json::value& block : content->get_array()) {
      if (!block.is_object()) continue;
      const json::object& b = block.get_object();
      const std::string_view type = StringField(b, "type");
      if (type == "text") {
        add(StringField(b, "text"));
        has_text = true;
      } else if (type == "image" || type == "audio") {
        const std::string_view data = StringField(b, "data");
        add(fmt::format("[{}: {}, {} bytes base64, not shown]", type, StringField(b, "mimeType"),
                        data.size()));
      } else if (type == "resource_link") {
        add(fmt::format("[resource link: {} {}]", StringField(b, "uri"), StringField(b, "name")));
      } else if (type == "resource") {
        const json::value* r = b.if_contains("resource");
        if (r != nullptr && r->is_object()) {
          const json::object& res = r->get_object();
          if (res.contains("text")) {
            add(fmt::format("[resource {}]\n{}", StringField(res, "uri"), StringField(res, "text")));
          } else {
            add(fmt::format("[resource {}: {}, binary, not shown]", StringField(res, "uri"),
                            StringField(res, "mimeType")));
          }
        }
      } else {
        add(fmt::format("[content of type \"{}\", not shown]", type));
      }
    }
  }
  if (const json::value* structured = o.if_contains("structuredContent");
      structured != nullptr && !structured->is_null() && !has_text) {
    add(json::serialize(*structured));
  }
  bool is_error = false;
  if (const json::value* e = o.if_contains("isError"); e && e->is_bool()) is_error = e->get_bool();
  if (is_error && text.empty()) text = fmt::format("Error: tool {} failed (no detail)", tool.name);
  return {CapOutput(std::move(text), max_output_bytes), !is_error};
}

}  // namespace agentd::mcp
