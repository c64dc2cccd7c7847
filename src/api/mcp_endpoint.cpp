#include "api/mcp_endpoint.hpp"

#include <algorithm>

#include "api/run_answer.hpp"
#include "common/uuid.hpp"

namespace agentd::api::detail {

namespace json = boost::json;

bool IsSupportedMcpVersion(std::string_view version) {
  return std::find(std::begin(kMcpVersions), std::end(kMcpVersions), version) !=
         std::end(kMcpVersions);
}

std::string NegotiateMcpVersion(std::string_view requested) {
  if (IsSupportedMcpVersion(requested)) return std::string(requested);
  return std::string(kMcpVersions[0]);
}

namespace {

bool IsLoopbackName(std::string_view host) {
  if (host == "localhost" || host == "::1" || host == "[::1]") return true;
  // 127.0.0.0/8, written as an IPv4 address (not "127.0.0.1.evil.example.com").
  if (host.rfind("127.", 0) != 0) return false;
  int dots = 0;
  for (char c : host) {
    if (c == '.') {
      ++dots;
    } else if (c < '0' || c > '9') {
      return false;
    }
  }
  return dots == 3;
}

// "scheme://host[:port]" -> host ("[::1]" keeps its brackets).
std::string_view OriginHost(std::string_view origin) {
  std::size_t scheme = origin.find("://");
  if (scheme == std::string_view::npos) return {};
  std::string_view rest = origin.substr(scheme + 3);
  rest = rest.substr(0, rest.find('/'));
  if (!rest.empty() && rest.front() == '[') return rest.substr(0, rest.find(']') + 1);
  return rest.substr(0, rest.find(':'));
}

}  // namespace

bool McpOriginAllowed(std::string_view listen_host, std::optional<std::string_view> origin,
                      const std::vector<std::string>& cors_origins) {
  if (!IsLoopbackName(listen_host) || !origin) return true;
  if (IsLoopbackName(OriginHost(*origin))) return true;
  return std::find(cors_origins.begin(), cors_origins.end(), *origin) != cors_origins.end();
}

json::object McpInitializeResult(std::string_view requested, std::string_view version) {
  return json::object{
      {"protocolVersion", NegotiateMcpVersion(requested)},
      {"capabilities", json::object{{"tools", json::object{{"listChanged", false}}}}},
      {"serverInfo", json::object{{"name", "agentd"}, {"version", version}}},
      {"instructions",
       "Each tool runs one agentd assistant to its end and returns its final answer. Pass "
       "thread_id (from a previous result's structuredContent or _meta) to continue a "
       "conversation."},
  };
}

std::string SanitizeToolName(std::string_view text, std::size_t max_chars) {
  std::string out;
  for (char c : text) {
    if (out.size() >= max_chars) break;
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.';
    out.push_back(ok ? c : '_');
  }
  if (out.empty()) out = "assistant";
  return out;
}

std::string McpToolName(const model::Assistant& assistant) {
  if (assistant.assistant_id == SystemAssistantId(assistant.graph_id)) {
    return SanitizeToolName(assistant.graph_id, 128);
  }
  return SanitizeToolName(assistant.name, 64) + "_" + assistant.assistant_id;
}

std::optional<std::string> ToolNameAssistantId(std::string_view tool_name) {
  constexpr std::size_t kUuidChars = 36;
  if (tool_name.size() < kUuidChars + 2) return std::nullopt;
  std::string_view tail = tool_name.substr(tool_name.size() - kUuidChars);
  if (tool_name[tool_name.size() - kUuidChars - 1] != '_' || !IsUuid(tail)) return std::nullopt;
  return std::string(tail);
}

json::object McpToolJson(const model::Assistant& assistant, const runtime::GraphInfo* graph) {
  json::object schema;
  if (graph != nullptr && graph->input_schema.is_object()) schema = graph->input_schema.as_object();
  schema["type"] = "object";
  schema.erase("title");
  json::value& props = schema["properties"];
  if (!props.is_object()) props = json::object{};
  json::object& p = props.as_object();
  p["thread_id"] = json::object{
      {"type", "string"},
      {"description",
       "Run on this existing thread (a UUID) and continue its state; omitted: a new thread"}};
  if (graph != nullptr && IsMessageGraph(*graph)) {
    // `message` stands in for `messages`, so `messages` cannot stay required.
    if (json::value* required = schema.if_contains("required"); required && required->is_array()) {
      json::array kept;
      for (const auto& r : required->as_array()) {
        if (!(r.is_string() && r.get_string() == "messages")) kept.push_back(r);
      }
      *required = std::move(kept);
    }
    p["message"] = json::object{
        {"type", "string"},
        {"description", "What the user says, as plain text (instead of `messages`)"}};
  }
  std::string description;
  if (assistant.description && !assistant.description->empty()) {
    description = *assistant.description;
  } else {
    description = "Runs the agentd assistant \"" + assistant.name + "\" (graph " +
                  assistant.graph_id + ") and returns its final answer.";
  }
  return json::object{
      {"name", McpToolName(assistant)},
      {"title", assistant.name},
      {"description", std::move(description)},
      {"inputSchema", std::move(schema)},
  };
}

Result<ToolCallArgs> ReadToolCallArgs(const runtime::GraphInfo* graph,
                                      const json::value& arguments) {
  ToolCallArgs out;
  if (arguments.is_null()) {
    // no arguments
  } else if (!arguments.is_object()) {
    return MakeError(Errc::kInvalidArgument, "arguments must be an object");
  } else {
    out.input = arguments.as_object();
  }
  if (const json::value* t = out.input.if_contains("thread_id")) {
    if (!t->is_string() || !IsUuid(t->get_string())) {
      return MakeError(Errc::kInvalidArgument, "thread_id must be a UUID string");
    }
    out.thread_id = std::string(t->get_string());
    out.input.erase("thread_id");
  }
  const bool messages_graph = graph != nullptr && IsMessageGraph(*graph);
  if (const json::value* m = out.input.if_contains("message")) {
    if (messages_graph) {
      if (!m->is_string()) return MakeError(Errc::kInvalidArgument, "message must be a string");
      json::object with = TextInput(m->get_string());
      out.input.erase("message");
      for (auto& [key, value] : out.input) {
        if (key != "messages") with[key] = value;
      }
      out.input = std::move(with);
    }
  }
  if (messages_graph && !out.input.contains("messages")) {
    return MakeError(Errc::kInvalidArgument, "give `message` (a text) or `messages`");
  }
  return out;
}

}  // namespace agentd::api::detail
