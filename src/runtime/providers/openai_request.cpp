// BuildOpenAiRequest, declared in openai_stream.hpp.
#include <string>

#include <boost/json/array.hpp>

#include "common/json.hpp"
#include "runtime/providers/openai_stream.hpp"

namespace agentd::runtime::providers {
namespace {

namespace json = boost::json;

json::object MessageJson(const ChatMessage& m) {
  json::object o;
  o["role"] = ChatRoleName(m.role);
  switch (m.role) {
    case ChatRole::kAssistant: {
      // OpenAI wants null, not "", for an assistant turn that only calls tools.
      if (m.content.empty() && !m.tool_calls.empty()) {
        o["content"] = nullptr;
      } else {
        o["content"] = m.content;
      }
      if (!m.tool_calls.empty()) {
        json::array calls;
        for (const ToolCall& c : m.tool_calls) {
          calls.push_back(json::object{
              {"id", c.id},
              {"type", "function"},
              {"function",
               {{"name", c.name}, {"arguments", c.arguments_json.empty() ? "{}" : c.arguments_json}}},
          });
        }
        o["tool_calls"] = std::move(calls);
      }
      break;
    }
    case ChatRole::kTool:
      o["tool_call_id"] = m.tool_call_id;
      o["content"] = m.content;
      break;
    case ChatRole::kSystem:
    case ChatRole::kUser:
      o["content"] = m.content;
      break;
  }
  return o;
}

json::value ParametersOrEmpty(const json::value& parameters) {
  if (!parameters.is_null()) return parameters;
  return json::object{{"type", "object"}, {"properties", json::object{}}};
}

}  // namespace

json::object BuildOpenAiRequest(std::span<const ChatMessage> messages,
                                std::span<const ToolSpec> tools, std::string_view model,
                                bool stream, const ChatOptions& options) {
  json::object body;
  body["model"] = model;
  json::array wire_messages;
  wire_messages.reserve(messages.size());
  for (const ChatMessage& m : messages) wire_messages.push_back(MessageJson(m));
  body["messages"] = std::move(wire_messages);

  if (!tools.empty()) {
    json::array wire_tools;
    for (const ToolSpec& t : tools) {
      json::object function{{"name", t.name}, {"parameters", ParametersOrEmpty(t.parameters)}};
      if (!t.description.empty()) function["description"] = t.description;
      wire_tools.push_back(json::object{{"type", "function"}, {"function", std::move(function)}});
    }
    body["tools"] = std::move(wire_tools);
  }
  if (!options.tool_choice.empty()) {
    const std::string& c = options.tool_choice;
    if (c == "auto" || c == "none" || c == "required") {
      body["tool_choice"] = c;
    } else {
      body["tool_choice"] = json::object{{"type", "function"}, {"function", {{"name", c}}}};
    }
  }
  if (options.max_tokens) body["max_tokens"] = *options.max_tokens;
  if (options.temperature) body["temperature"] = *options.temperature;
  if (options.top_p) body["top_p"] = *options.top_p;
  if (!options.stop.empty()) {
    json::array stop;
    for (const std::string& s : options.stop) stop.emplace_back(s);
    body["stop"] = std::move(stop);
  }
  body["stream"] = stream;
  if (stream) body["stream_options"] = json::object{{"include_usage", true}};
  MergeShallow(body, options.extra);
  return body;
}

}  // namespace agentd::runtime::providers
