#include "graph/structured_output.hpp"

#include <cmath>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

namespace agentd::graph {
namespace {

namespace json = boost::json;

std::string Show(const json::value& v) {
  std::string s = v.is_double() ? fmt::format("{}", v.get_double()) : json::serialize(v);
  if (s.size() > 80) s = s.substr(0, 77) + "...";
  return s;
}

std::optional<double> Number(const json::value& v) {
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  if (v.is_double()) return v.get_double();
  return std::nullopt;
}

std::size_t Utf8Length(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::optional<std::string> Check(const json::value& schema, const json::value& value, const std::string& path,
                                 int depth) {
  if (depth > 64 || !schema.is_object()) return std::nullopt;
  const json::object& s = schema.get_object();
  if (const auto* c = s.if_contains("const"); c != nullptr && *c != value) {
    return fmt::format("{}: expected {}, got {}", path, Show(*c), Show(value));
  }
  if (const auto* e = s.if_contains("enum"); e != nullptr && e->is_array()) {
    bool found = false;
    for (const auto& option : e->get_array()) found = found || option == value;
    if (!found) return fmt::format("{}: expected one of {}, got {}", path, Show(*e), Show(value));
  }
  for (const char* key : {"anyOf", "oneOf"}) {
    const auto* alternatives = s.if_contains(key);
    if (alternatives == nullptr || !alternatives->is_array()) continue;
    bool any = false;
    for (const auto& alt : alternatives->get_array()) any = any || !Check(alt, value, path, depth + 1);
    if (!any) return fmt::format("{}: matches none of the {} alternatives", path, key);
  }
  if (const auto* type = s.if_contains("type")) {
    bool ok = false;
    if (type->is_string()) {
      ok = HasType(value, type->get_string());
    } else if (type->is_array()) {
      for (const auto& t : type->get_array()) ok = ok || (t.is_string() && HasType(value, t.get_string()));
    } else {
      ok = true;
    }
    if (!ok) return fmt::format("{}: expected {}, got {}", path, Show(*type), Show(value));
  }
  if (value.is_string()) {
    const std::size_t n = Utf8Length(value.get_string());
    if (const auto* m = s.if_contains("minLength"); m && Number(*m) && n < *Number(*m)) {
      return fmt::format("{}: shorter than {} characters", path, Show(*m));
    }
    if (const auto* m = s.if_contains("maxLength"); m && Number(*m) && n > *Number(*m)) {
      return fmt::format("{}: longer than {} characters", path, Show(*m));
    }
  }
  if (auto n = Number(value)) {
    if (const auto* m = s.if_contains("minimum"); m && Number(*m) && *n < *Number(*m)) {
      return fmt::format("{}: {} is below the minimum {}", path, Show(value), Show(*m));
    }
    if (const auto* m = s.if_contains("maximum"); m && Number(*m) && *n > *Number(*m)) {
      return fmt::format("{}: {} is above the maximum {}", path, Show(value), Show(*m));
    }
  }
  if (value.is_array()) {
    const auto& arr = value.get_array();
    if (const auto* m = s.if_contains("minItems"); m && Number(*m) && arr.size() < *Number(*m)) {
      return fmt::format("{}: fewer than {} items", path, Show(*m));
    }
    if (const auto* m = s.if_contains("maxItems"); m && Number(*m) && arr.size() > *Number(*m)) {
      return fmt::format("{}: more than {} items", path, Show(*m));
    }
    if (const auto* items = s.if_contains("items")) {
      for (std::size_t i = 0; i < arr.size(); ++i) {
        if (auto problem = Check(*items, arr[i], fmt::format("{}[{}]", path, i), depth + 1)) return problem;
      }
    }
  }
  if (value.is_object()) {
    const auto& obj = value.get_object();
    const auto* properties = s.if_contains("properties");
    if (const auto* required = s.if_contains("required"); required && required->is_array()) {
      for (const auto& name : required->get_array()) {
        if (name.is_string() && !obj.contains(name.get_string())) {
          return fmt::format("{}.{}: required property missing", path, std::string_view(name.get_string()));
        }
      }
    }
    const auto* additional = s.if_contains("additionalProperties");
    for (const auto& [key, item] : obj) {
      const std::string sub = fmt::format("{}.{}", path, std::string_view(key));
      const json::value* prop = properties != nullptr && properties->is_object()
                                    ? properties->get_object().if_contains(key)
                                    : nullptr;
      if (prop != nullptr) {
        if (auto problem = Check(*prop, item, sub, depth + 1)) return problem;
      } else if (additional != nullptr) {
        if (additional->is_bool() && !additional->get_bool()) return fmt::format("{}: property not allowed", sub);
        if (auto problem = Check(*additional, item, sub, depth + 1)) return problem;
      }
    }
  }
  return std::nullopt;
}

}  // namespace

bool HasType(const json::value& value, std::string_view type) {
  if (type == "string") return value.is_string();
  if (type == "boolean") return value.is_bool();
  if (type == "null") return value.is_null();
  if (type == "object") return value.is_object();
  if (type == "array") return value.is_array();
  if (type == "number") return value.is_number();
  if (type == "integer") {
    if (value.is_int64() || value.is_uint64()) return true;
    return value.is_double() && std::floor(value.get_double()) == value.get_double() &&
           std::isfinite(value.get_double());
  }
  return false;
}

ProviderSchema WrapSchema(const json::value& schema) {
  const json::value* type = schema.is_object() ? schema.get_object().if_contains("type") : nullptr;
  if (type != nullptr && *type == "object") return ProviderSchema{schema, false};
  json::object wrapped{
      {"type", "object"},
      {"properties", json::object{{"value", schema}}},
      {"required", json::array{"value"}},
      {"additionalProperties", false},
  };
  return ProviderSchema{std::move(wrapped), true};
}

std::optional<json::value> Unwrap(const json::value& answer, bool wrapped) {
  if (!wrapped) return answer;
  if (!answer.is_object()) return std::nullopt;
  const auto* v = answer.get_object().if_contains("value");
  if (v == nullptr) return std::nullopt;
  return *v;
}

std::optional<std::string> ValidateValue(const json::value& schema, const json::value& value) {
  return Check(schema, value, "$", 0);
}

}  // namespace agentd::graph
