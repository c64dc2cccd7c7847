#include "mock/structured_reply.hpp"

#include <boost/json/array.hpp>

#include "mock/js_json.hpp"

namespace agentd::mock {
namespace {

namespace json = boost::json;

constexpr int kMaxDepth = 16;  // schemas come from the network (mock-llm): bound the recursion

const json::value* Member(const json::value* v, std::string_view key) {
  if (v == nullptr || !v->is_object()) return nullptr;
  return v->get_object().if_contains(key);
}

std::string_view StringOr(const json::value* v, std::string_view fallback) {
  return v != nullptr && v->is_string() ? std::string_view(v->get_string()) : fallback;
}

// The schema's type: "string", "object", ...; the first non-null entry of a type list; inferred
// from `properties`/`items`/`enum` when absent.
std::string_view TypeOf(const json::value& schema) {
  const json::value* type = Member(&schema, "type");
  if (type != nullptr && type->is_string()) return type->get_string();
  if (type != nullptr && type->is_array()) {
    for (const auto& t : type->get_array()) {
      if (t.is_string() && t.get_string() != "null") return t.get_string();
    }
    return "null";
  }
  if (Member(&schema, "properties") != nullptr) return "object";
  if (Member(&schema, "items") != nullptr) return "array";
  if (Member(&schema, "enum") != nullptr) return "string";
  return "";
}

json::value Build(const json::value& schema, std::string_view text, std::string_view property,
                  int depth) {
  if (depth > kMaxDepth || !schema.is_object()) return nullptr;
  if (const json::value* c = Member(&schema, "const")) return *c;
  for (std::string_view key : {"anyOf", "oneOf"}) {
    const json::value* alternatives = Member(&schema, key);
    if (alternatives != nullptr && alternatives->is_array() && !alternatives->get_array().empty()) {
      return Build(alternatives->get_array().front(), text, property, depth + 1);
    }
  }
  const json::value* options = Member(&schema, "enum");
  if (options != nullptr && options->is_array() && !options->get_array().empty()) {
    for (const auto& option : options->get_array()) {
      const std::string word = option.is_string() ? std::string(option.get_string()) : JsToString(option);
      if (ContainsWholeWord(text, word)) return option;
    }
    return options->get_array().front();
  }
  const std::string_view type = TypeOf(schema);
  if (type == "string") return json::string(text);
  if (type == "integer" || type == "number") return static_cast<std::int64_t>(WordCount(text));
  if (type == "boolean") return !property.empty() && ContainsWholeWord(text, property);
  if (type == "array") {
    const json::value* items = Member(&schema, "items");
    static const json::value kString = json::object{{"type", "string"}};
    return json::array{Build(items != nullptr ? *items : kString, text, property, depth + 1)};
  }
  if (type == "object") {
    json::object out;
    const json::value* properties = Member(&schema, "properties");
    if (properties != nullptr && properties->is_object()) {
      for (const auto& [name, sub] : properties->get_object()) {
        out[name] = Build(sub, text, name, depth + 1);
      }
    }
    return out;
  }
  return nullptr;
}

const json::value* ForcedToolSchema(const json::object& request, std::string_view name) {
  const json::value* tools = request.if_contains("tools");
  if (tools == nullptr || !tools->is_array()) return nullptr;
  for (const auto& tool : tools->get_array()) {
    if (StringOr(Member(&tool, "name"), "") == name) {
      if (const json::value* s = Member(&tool, "input_schema")) return s;
    }
    const json::value* function = Member(&tool, "function");
    if (StringOr(Member(function, "name"), "") == name) {
      if (const json::value* s = Member(function, "parameters")) return s;
    }
  }
  return nullptr;
}

}  // namespace

std::size_t WordCount(std::string_view text) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
  std::size_t words = 0;
  bool in_word = false;
  for (char c : text) {
    if (space(c)) {
      in_word = false;
    } else if (!in_word) {
      in_word = true;
      ++words;
    }
  }
  return words;
}

std::optional<StructuredRequest> FindStructuredRequest(const json::object& request) {
  const json::value* format = request.if_contains("response_format");
  if (StringOr(Member(format, "type"), "") == "json_schema") {
    const json::value* schema = Member(Member(format, "json_schema"), "schema");
    if (schema != nullptr && schema->is_object()) return StructuredRequest{*schema, {}};
  }
  const json::value* choice = request.if_contains("tool_choice");
  if (StringOr(Member(choice, "type"), "") == "tool") {
    const std::string_view name = StringOr(Member(choice, "name"), "");
    const json::value* schema = name.empty() ? nullptr : ForcedToolSchema(request, name);
    if (schema != nullptr && schema->is_object()) {
      return StructuredRequest{*schema, std::string(name)};
    }
  }
  return std::nullopt;
}

json::value BuildFromSchema(const json::value& schema, std::string_view user_text) {
  return Build(schema, user_text, "", 0);
}

}  // namespace agentd::mock
