#include "runtime/providers/detail/json_fields.hpp"

#include <string>

#include <fmt/format.h>

#include "common/json.hpp"

namespace agentd::runtime::providers::detail {

const json::object* ObjectAt(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v ? v->if_object() : nullptr;
}

const json::array* ArrayAt(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v ? v->if_array() : nullptr;
}

std::string_view StringAt(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (!v || !v->is_string()) return {};
  const json::string& s = v->get_string();
  return {s.data(), s.size()};
}

std::optional<std::int64_t> IntAt(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (!v) return std::nullopt;
  return JsonToInt64(*v);
}

Result<json::object> ParseObject(std::string_view text, std::string_view provider) {
  std::string problem;
  std::optional<json::value> v = ParseJson(text, &problem);
  if (!v) {
    return MakeError(Errc::kInternal,
                     fmt::format("{}: malformed JSON from provider: {}", provider, problem));
  }
  if (!v->is_object()) {
    return MakeError(Errc::kInternal,
                     fmt::format("{}: expected a JSON object from provider", provider));
  }
  return std::move(v->get_object());
}

Error ProviderError(std::string_view provider, const json::value& error) {
  std::string_view type;
  std::string_view code;
  std::string_view message;
  if (const json::object* o = error.if_object()) {
    type = StringAt(*o, "type");
    code = StringAt(*o, "code");
    message = StringAt(*o, "message");
  } else if (error.is_string()) {
    message = {error.get_string().data(), error.get_string().size()};
  }
  if (message.empty()) message = "no message";
  const std::string_view kind = type.empty() ? code : type;

  Errc errc = Errc::kUnavailable;
  if (kind.find("rate_limit") != std::string_view::npos ||
      code.find("rate_limit") != std::string_view::npos) {
    errc = Errc::kResourceExhausted;
  } else if (kind == "invalid_request_error") {
    errc = Errc::kInvalidArgument;
  }
  if (kind.empty()) return MakeError(errc, fmt::format("{} error: {}", provider, message));
  return MakeError(errc, fmt::format("{} error ({}): {}", provider, kind, message));
}

Result<json::object> ArgumentsObject(std::string_view arguments_json) {
  if (arguments_json.empty()) return json::object{};
  std::optional<json::value> v = ParseJson(arguments_json);
  if (!v || !v->is_object()) {
    return MakeError(Errc::kInternal, "tool call arguments are not a JSON object");
  }
  return std::move(v->get_object());
}

}  // namespace agentd::runtime::providers::detail
