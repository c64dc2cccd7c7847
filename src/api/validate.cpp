#include "api/validate.hpp"

#include <cctype>
#include <cmath>
#include <limits>
#include <utility>

#include <fmt/core.h>

#include "api/errors.hpp"
#include "common/json.hpp"
#include "common/uuid.hpp"

namespace agentd::api {

const json::object Validator::empty_;

BodyResult<json::value> ParseJsonBody(std::string_view input, std::size_t max_depth) {
  JsonProblem problem;
  auto parsed = ParseJsonLimited(input, max_depth, &problem);
  if (parsed) return std::move(*parsed);
  switch (problem.kind) {
    case JsonProblem::Kind::kNumberOutOfRange: {
      std::string detail = problem.message;  // "number out of range at <path>: ..."
      if (!detail.empty()) detail.front() = 'N';
      return ErrorReply(HttpStatus(Errc::kUnprocessable), code::kNumberOutOfRange, detail,
                        json::object{{"path", std::move(problem.path)}});
    }
    case JsonProblem::Kind::kTooDeep:
      return ErrorReply(400, code::kInvalidJson,
                        fmt::format("{}: {} (server.json_max_depth)", text::kMalformedJson,
                                    problem.message));
    case JsonProblem::Kind::kSyntax:
      break;
  }
  return ErrorReply(400, code::kInvalidJson, text::kMalformedJson);
}

BodyResult<json::object> ParseBody(const http::Request& request, std::size_t max_depth) {
  std::string_view body = request.body;
  bool blank = body.find_first_not_of(" \t\r\n") == std::string_view::npos;
  if (blank) return json::object{};
  auto parsed = ParseJsonBody(body, max_depth);
  if (!parsed) return std::move(parsed.error());
  if (!parsed->is_object()) {
    return ErrorReply(400, code::kInvalidBody,
                      fmt::format("Request body must be a JSON object, received {}",
                                  JsonTypeName(*parsed)));
  }
  return std::move(parsed->get_object());
}

std::optional<bool> ParseBool(std::string_view text) {
  std::string lower;
  for (char c : text) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "true" || lower == "1" || lower == "yes") return true;
  if (lower == "false" || lower == "0" || lower == "no") return false;
  return std::nullopt;
}

std::vector<std::string> QueryArray(const http::Request& request, std::string_view name) {
  std::vector<std::string> out;
  for (std::string_view raw : request.QueryAll(name)) {
    if (!raw.empty() && raw.front() == '[') {
      if (auto parsed = ParseJson(raw); parsed && parsed->is_array()) {
        for (const auto& item : parsed->get_array()) {
          if (item.is_string()) out.emplace_back(item.get_string());
        }
        continue;
      }
    }
    out.emplace_back(raw);
  }
  return out;
}

std::string_view JsonTypeName(const json::value& v) {
  switch (v.kind()) {
    case json::kind::string: return "string";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: return "number";
    case json::kind::bool_: return "boolean";
    case json::kind::object: return "object";
    case json::kind::array: return "array";
    case json::kind::null: return "null";
  }
  return "unknown";
}

// ------------------------------------------------------------------------------ issues

json::array Validator::PathOf(std::string_view field) const {
  json::array path = prefix_;
  path.emplace_back(field);
  return path;
}

void Validator::AddIssue(json::object issue) { issues_->push_back(std::move(issue)); }

void Validator::InvalidType(json::array path, std::string_view expected,
                            std::string_view received) {
  AddIssue({{"code", "invalid_type"},
            {"expected", expected},
            {"received", received},
            {"path", std::move(path)},
            {"message", fmt::format("Expected {}, received {}", expected, received)}});
}

void Validator::Required(json::array path) {
  AddIssue({{"code", "invalid_type"},
            {"expected", "string"},
            {"received", "undefined"},
            {"path", std::move(path)},
            {"message", "Required"}});
}

void Validator::InvalidEnum(json::array path, std::span<const std::string_view> options,
                            std::string_view received) {
  json::array opts;
  std::string expected;
  for (auto o : options) {
    opts.emplace_back(o);
    if (!expected.empty()) expected += " | ";
    expected += fmt::format("'{}'", o);
  }
  AddIssue({{"code", "invalid_enum_value"},
            {"options", std::move(opts)},
            {"received", received},
            {"path", std::move(path)},
            {"message",
             fmt::format("Invalid enum value. Expected {}, received '{}'", expected, received)}});
}

void Validator::InvalidUuid(json::array path) {
  AddIssue({{"validation", "uuid"},
            {"code", "invalid_string"},
            {"path", std::move(path)},
            {"message", "Invalid uuid"}});
}

void Validator::RangeIssue(std::string_view field, std::int64_t value, std::int64_t min,
                           std::int64_t max) {
  if (value < min) {
    AddIssue({{"code", "too_small"},
              {"minimum", min},
              {"type", "number"},
              {"inclusive", true},
              {"exact", false},
              {"path", PathOf(field)},
              {"message", fmt::format("Number must be greater than or equal to {}", min)}});
  } else if (value > max) {
    AddIssue({{"code", "too_big"},
              {"maximum", max},
              {"type", "number"},
              {"inclusive", true},
              {"exact", false},
              {"path", PathOf(field)},
              {"message", fmt::format("Number must be less than or equal to {}", max)}});
  }
}

http::Response Validator::Response() const { return ValidationResponse(*issues_); }

// ----------------------------------------------------------------------------- getters

const json::value* Validator::Raw(std::string_view field) const {
  const json::value* v = body_->if_contains(field);
  if (v == nullptr || v->is_null()) return nullptr;
  return v;
}

std::optional<std::string> Validator::String(std::string_view field, bool required) {
  const json::value* v = Raw(field);
  if (v == nullptr) {
    if (required) Required(PathOf(field));
    return std::nullopt;
  }
  if (!v->is_string()) {
    InvalidType(PathOf(field), "string", JsonTypeName(*v));
    return std::nullopt;
  }
  return std::string(v->get_string());
}

std::optional<std::string> Validator::Enum(std::string_view field,
                                           std::span<const std::string_view> options) {
  auto value = String(field);
  if (!value) return std::nullopt;
  for (auto o : options) {
    if (o == *value) return value;
  }
  InvalidEnum(PathOf(field), options, *value);
  return std::nullopt;
}

std::optional<std::string> Validator::Uuid(std::string_view field) {
  auto value = String(field);
  if (!value) return std::nullopt;
  if (!IsUuid(*value)) {
    InvalidUuid(PathOf(field));
    return std::nullopt;
  }
  return value;
}

namespace {

// An integral JSON number (10 and 10.0 alike, as JavaScript sees them), or nullopt.
std::optional<std::int64_t> AsInteger(const json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64()) {
    if (v.get_uint64() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return std::nullopt;
    }
    return static_cast<std::int64_t>(v.get_uint64());
  }
  if (v.is_double()) {
    double d = v.get_double();
    if (std::isfinite(d) && std::trunc(d) == d && std::fabs(d) < 9.0e18) {
      return static_cast<std::int64_t>(d);
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::int64_t> Validator::Int(std::string_view field, bool required) {
  const json::value* v = Raw(field);
  if (v == nullptr) {
    if (required) {
      AddIssue({{"code", "invalid_type"},
                {"expected", "number"},
                {"received", "undefined"},
                {"path", PathOf(field)},
                {"message", "Required"}});
    }
    return std::nullopt;
  }
  if (!v->is_number()) {
    InvalidType(PathOf(field), "number", JsonTypeName(*v));
    return std::nullopt;
  }
  auto i = AsInteger(*v);
  if (!i) InvalidType(PathOf(field), "integer", "float");
  return i;
}

std::optional<double> Validator::Number(std::string_view field) {
  const json::value* v = Raw(field);
  if (v == nullptr) return std::nullopt;
  if (!v->is_number()) {
    InvalidType(PathOf(field), "number", JsonTypeName(*v));
    return std::nullopt;
  }
  return v->to_number<double>();
}

std::optional<bool> Validator::Bool(std::string_view field) {
  const json::value* v = Raw(field);
  if (v == nullptr) return std::nullopt;
  if (!v->is_bool()) {
    InvalidType(PathOf(field), "boolean", JsonTypeName(*v));
    return std::nullopt;
  }
  return v->get_bool();
}

std::optional<json::object> Validator::Object(std::string_view field) {
  const json::value* v = Raw(field);
  if (v == nullptr) return std::nullopt;
  if (!v->is_object()) {
    InvalidType(PathOf(field), "object", JsonTypeName(*v));
    return std::nullopt;
  }
  return v->get_object();
}

std::optional<json::array> Validator::Array(std::string_view field) {
  const json::value* v = Raw(field);
  if (v == nullptr) return std::nullopt;
  if (!v->is_array()) {
    InvalidType(PathOf(field), "array", JsonTypeName(*v));
    return std::nullopt;
  }
  return v->get_array();
}

std::optional<std::vector<std::string>> Validator::Strings(std::string_view field,
                                                           bool required) {
  const json::value* v = Raw(field);
  if (v == nullptr) {
    if (required) {
      AddIssue({{"code", "invalid_type"},
                {"expected", "array"},
                {"received", "undefined"},
                {"path", PathOf(field)},
                {"message", "Required"}});
    }
    return std::nullopt;
  }
  if (!v->is_array()) {
    InvalidType(PathOf(field), "array", JsonTypeName(*v));
    return std::nullopt;
  }
  std::vector<std::string> out;
  bool good = true;
  std::int64_t index = 0;
  for (const auto& item : v->get_array()) {
    if (item.is_string()) {
      out.emplace_back(item.get_string());
    } else {
      json::array path = PathOf(field);
      path.emplace_back(index);
      InvalidType(std::move(path), "string", JsonTypeName(item));
      good = false;
    }
    ++index;
  }
  if (!good) return std::nullopt;
  return out;
}

std::optional<std::vector<std::string>> Validator::Uuids(std::string_view field) {
  auto values = Strings(field);
  if (!values) return std::nullopt;
  bool good = true;
  for (std::size_t i = 0; i < values->size(); ++i) {
    if (!IsUuid((*values)[i])) {
      json::array path = PathOf(field);
      path.emplace_back(static_cast<std::int64_t>(i));
      InvalidUuid(std::move(path));
      good = false;
    }
  }
  if (!good) return std::nullopt;
  return values;
}

std::int64_t Validator::Limit(std::int64_t fallback) {
  auto limit = Int("limit");
  if (!limit) return fallback;
  RangeIssue("limit", *limit, 1, 1000);
  return *limit;
}

std::int64_t Validator::Offset() {
  auto offset = Int("offset");
  if (!offset) return 0;
  RangeIssue("offset", *offset, 0, std::numeric_limits<std::int64_t>::max());
  return *offset;
}

std::optional<std::vector<std::string>> Validator::Select(
    std::span<const std::string_view> allowed) {
  auto fields = Strings("select");
  if (!fields) return std::nullopt;
  bool good = true;
  for (std::size_t i = 0; i < fields->size(); ++i) {
    bool known = false;
    for (auto a : allowed) known = known || a == (*fields)[i];
    if (known) continue;
    json::array path = PathOf("select");
    path.emplace_back(static_cast<std::int64_t>(i));
    InvalidEnum(std::move(path), allowed, (*fields)[i]);
    good = false;
  }
  if (!good) return std::nullopt;
  return fields;
}

std::optional<Validator> Validator::Child(std::string_view field) {
  const json::value* v = Raw(field);
  if (v == nullptr) return std::nullopt;
  if (!v->is_object()) {
    InvalidType(PathOf(field), "object", JsonTypeName(*v));
    return std::nullopt;
  }
  return Validator(v->get_object(), issues_, PathOf(field));
}

// ------------------------------------------------------------------------------- query

std::optional<bool> Validator::QueryBool(const http::Request& request, std::string_view name) {
  auto raw = request.Query(name);
  if (!raw) return std::nullopt;
  auto value = ParseBool(*raw);
  if (!value) InvalidType(PathOf(name), "boolean", "string");
  return value;
}

std::optional<std::int64_t> Validator::QueryInt(const http::Request& request,
                                                std::string_view name, std::int64_t min,
                                                std::int64_t max) {
  auto raw = request.Query(name);
  if (!raw) return std::nullopt;
  auto parsed = ParseJson(*raw);
  std::optional<std::int64_t> value;
  if (parsed && parsed->is_number()) value = AsInteger(*parsed);
  if (!value) {
    InvalidType(PathOf(name), "number", "string");
    return std::nullopt;
  }
  RangeIssue(name, *value, min, max);
  return value;
}

std::optional<TimestampMs> ReadTtl(Validator& v, TimestampMs now) {
  const json::value* raw = v.Raw("ttl");
  if (raw == nullptr) return std::nullopt;
  std::optional<double> minutes;
  if (raw->is_number()) {
    minutes = v.Number("ttl");
  } else if (raw->is_object()) {
    auto child = v.Child("ttl");
    minutes = child->Number("ttl");
    child->Enum("strategy", {"delete"});
    if (!minutes && child->ok()) child->InvalidType(json::array{"ttl", "ttl"}, "number", "undefined");
  } else {
    v.InvalidType(json::array{"ttl"}, "number", JsonTypeName(*raw));
  }
  if (!minutes) return std::nullopt;
  if (!std::isfinite(*minutes) || *minutes <= 0) {
    v.AddIssue({{"code", "too_small"},
                {"minimum", 0},
                {"type", "number"},
                {"inclusive", false},
                {"exact", false},
                {"path", json::array{"ttl"}},
                {"message", "Number must be greater than 0"}});
    return std::nullopt;
  }
  return now + static_cast<TimestampMs>(*minutes * 60'000.0);
}

}  // namespace agentd::api
