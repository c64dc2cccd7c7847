// BuildAnthropicRequest, declared in anthropic_stream.hpp.
#include <string>
#include <utility>

#include <boost/json/array.hpp>

#include "common/json.hpp"
#include "runtime/providers/anthropic_stream.hpp"
#include "runtime/providers/detail/json_fields.hpp"

namespace agentd::runtime::providers {
namespace {

namespace json = boost::json;

json::object TextBlock(const std::string& text) {
  return json::object{{"type", "text"}, {"text", text}};
}

// Appends `blocks` as a turn of `role`, joining the previous turn when it has the same role:
// tool results and the user message after them must travel in one user turn.
void AppendTurn(json::array& turns, std::string_view role, json::array blocks) {
  if (blocks.empty()) return;
  if (!turns.empty()) {
    json::object& last = turns.back().as_object();
    if (last["role"].as_string() == role) {
      json::array& content = last["content"].as_array();
      for (json::value& b : blocks) content.push_back(std::move(b));
      return;
    }
  }
  turns.push_back(json::object{{"role", role}, {"content", std::move(blocks)}});
}

json::array AssistantBlocks(const ChatMessage& m) {
  json::array blocks;
  if (!m.content.empty()) blocks.push_back(TextBlock(m.content));
  for (const ToolCall& c : m.tool_calls) {
    auto input = detail::ArgumentsObject(c.arguments_json);
    blocks.push_back(json::object{{"type", "tool_use"},
                                  {"id", c.id},
                                  {"name", c.name},
                                  {"input", input ? std::move(*input) : json::object{}}});
  }
  return blocks;
}

json::value ToolChoice(const std::string& choice) {
  if (choice == "auto") return json::object{{"type", "auto"}};
  if (choice == "required") return json::object{{"type", "any"}};
  if (choice == "none") return json::object{{"type", "none"}};
  return json::object{{"type", "tool"}, {"name", choice}};
}

}  // namespace

json::object BuildAnthropicRequest(std::span<const ChatMessage> messages,
                                   std::span<const ToolSpec> tools, std::string_view model,
                                   bool stream, const ChatOptions& options) {
  std::string system;
  json::array turns;
  for (const ChatMessage& m : messages) {
    switch (m.role) {
      case ChatRole::kSystem:
        if (m.content.empty()) break;
        if (!system.empty()) system += "\n\n";
        system += m.content;
        break;
      case ChatRole::kUser: {
        json::array blocks;
        if (!m.content.empty()) blocks.push_back(TextBlock(m.content));
        AppendTurn(turns, "user", std::move(blocks));
        break;
      }
      case ChatRole::kTool: {
        // The result travels even when empty: the matching tool_use needs its answer.
        json::object result{
            {"type", "tool_result"}, {"tool_use_id", m.tool_call_id}, {"content", m.content}};
        json::array blocks;
        blocks.push_back(std::move(result));
        AppendTurn(turns, "user", std::move(blocks));
        break;
      }
      case ChatRole::kAssistant:
        AppendTurn(turns, "assistant", AssistantBlocks(m));
        break;
    }
  }

  json::object body;
  body["model"] = model;
  body["max_tokens"] = options.max_tokens.value_or(kDefaultAnthropicMaxTokens);
  if (!system.empty()) body["system"] = system;
  body["messages"] = std::move(turns);
  if (!tools.empty()) {
    json::array wire_tools;
    for (const ToolSpec& t : tools) {
      json::object tool{{"name", t.name}};
      if (!t.description.empty()) tool["description"] = t.description;
      tool["input_schema"] = t.parameters.is_null()
                                 ? json::value(json::object{{"type", "object"},
                                                            {"properties", json::object{}}})
                                 : t.parameters;
      wire_tools.push_back(std::move(tool));
    }
    body["tools"] = std::move(wire_tools);
  }
  if (!options.tool_choice.empty()) body["tool_choice"] = ToolChoice(options.tool_choice);
  if (options.temperature) body["temperature"] = *options.temperature;
  if (options.top_p) body["top_p"] = *options.top_p;
  if (!options.stop.empty()) {
    json::array stop;
    for (const std::string& s : options.stop) stop.emplace_back(s);
    body["stop_sequences"] = std::move(stop);
  }
  if (stream) body["stream"] = true;
  MergeShallow(body, options.extra);
  return body;
}

}  // namespace agentd::runtime::providers
