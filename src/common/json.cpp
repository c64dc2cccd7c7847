#include "common/json.hpp"

#include <cctype>
#include <cmath>
#include <utility>
#include <vector>

#include <boost/json/error.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/core.h>

namespace agentd {

bool JsonContains(const json::value& target, const json::value& filter) {
  if (filter.is_object()) {
    if (!target.is_object()) return false;
    const auto& t = target.get_object();
    for (const auto& [key, want] : filter.get_object()) {
      auto it = t.find(key);
      if (it == t.end()) return false;
      if (!JsonContains(it->value(), want)) return false;
    }
    return true;
  }
  // Numbers compare by value whatever their storage (int64 vs uint64 vs double).
  if (filter.is_number() && target.is_number()) {
    boost::system::error_code ec1, ec2;
    double a = filter.to_number<double>(ec1);
    double b = target.to_number<double>(ec2);
    return !ec1 && !ec2 && a == b;
  }
  return target == filter;
}

void MergeShallow(json::object& into, const json::object& from) {
  for (const auto& [key, value] : from) into[key] = value;
}

std::string ToJson(const json::value& v) { return json::serialize(v); }

namespace {

// The path of the first non-finite double in `root`, or nullopt when every number is finite.
// Iterative (an explicit stack of containers and the next child to visit), so it costs no
// native stack however deep the value; the stack is the path when a bad number is found.
std::optional<json::array> FindNonFinite(const json::value& root) {
  if (root.is_double()) {
    return std::isfinite(root.get_double()) ? std::nullopt : std::optional(json::array{});
  }
  struct Frame {
    const json::value* container;
    std::size_t next = 0;
  };
  std::vector<Frame> stack;
  if (root.is_object() || root.is_array()) stack.push_back({&root});
  while (!stack.empty()) {
    Frame& top = stack.back();
    const json::value* child = nullptr;
    if (const auto* o = top.container->if_object()) {
      if (top.next < o->size()) child = &(o->begin() + top.next)->value();
    } else if (const auto* a = top.container->if_array()) {
      if (top.next < a->size()) child = &(*a)[top.next];
    }
    if (child == nullptr) {
      stack.pop_back();
      continue;
    }
    ++top.next;
    if (child->is_double() && !std::isfinite(child->get_double())) {
      json::array path;
      for (const Frame& f : stack) {
        const std::size_t index = f.next - 1;
        if (const auto* o = f.container->if_object()) {
          path.emplace_back((o->begin() + index)->key());
        } else {
          path.emplace_back(static_cast<std::int64_t>(index));
        }
      }
      return path;
    }
    if (child->is_object() || child->is_array()) stack.push_back({child});
  }
  return std::nullopt;
}

bool IsPlainKey(std::string_view key) {
  if (key.empty()) return false;
  for (char c : key) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
  }
  return true;
}

}  // namespace

std::string JsonPathText(const json::array& path) {
  std::string out;
  for (const auto& part : path) {
    if (part.is_string()) {
      std::string_view key = part.get_string();
      if (IsPlainKey(key)) {
        if (!out.empty()) out += '.';
        out += key;
      } else {
        out += '[';
        out += json::serialize(part);
        out += ']';
      }
    } else {
      out += fmt::format("[{}]", json::serialize(part));
    }
  }
  return out;
}

std::optional<json::value> ParseJsonLimited(std::string_view text, std::size_t max_depth,
                                            JsonProblem* problem, bool lenient) {
  json::parse_options opts;
  opts.max_depth = max_depth;
  if (lenient) {
    opts.allow_comments = true;
    opts.allow_trailing_commas = true;
  }
  boost::system::error_code ec;
  json::value v = json::parse(text, ec, {}, opts);
  if (ec) {
    if (problem != nullptr) {
      if (ec == json::error::too_deep) {
        *problem = {JsonProblem::Kind::kTooDeep,
                    fmt::format("nesting deeper than {} levels", max_depth), {}};
      } else {
        *problem = {JsonProblem::Kind::kSyntax, ec.message(), {}};
      }
    }
    return std::nullopt;
  }
  if (auto path = FindNonFinite(v)) {
    if (problem != nullptr) {
      std::string where = path->empty() ? std::string("the top level") : JsonPathText(*path);
      *problem = {JsonProblem::Kind::kNumberOutOfRange,
                  fmt::format("number out of range at {}: it does not fit in a double (at most "
                              "1.7976931348623157e308 in magnitude)",
                              where),
                  std::move(*path)};
    }
    return std::nullopt;
  }
  return v;
}

std::optional<json::value> ParseJson(std::string_view text, std::string* error, bool lenient) {
  JsonProblem problem;
  auto v = ParseJsonLimited(text, kStoredJsonMaxDepth, error != nullptr ? &problem : nullptr,
                            lenient);
  if (!v && error != nullptr) *error = std::move(problem.message);
  return v;
}

}  // namespace agentd
