#include "graph/source_tree.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <set>
#include <string>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

namespace agentd::graph {
namespace {

namespace json = boost::json;

Mark MarkOf(const YAML::Mark& m) { return Mark{m.line + 1, m.column + 1}; }

bool IsDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// YAML 1.2 core schema resolution of a plain scalar.
json::value Resolve(const std::string& text) {
  if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") return nullptr;
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  std::string_view body = text;
  if (body.front() == '-' || body.front() == '+') body.remove_prefix(1);
  if (IsDigits(body)) {
    errno = 0;
    char* end = nullptr;
    const long long n = std::strtoll(text.c_str(), &end, 10);
    if (errno == 0 && end == text.c_str() + text.size()) return static_cast<std::int64_t>(n);
  }
  // [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
  {
    std::size_t i = 0;
    const std::string_view s = text;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    std::size_t digits = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++digits;
    bool ok = true;
    if (i < s.size() && s[i] == '.') {
      ++i;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++digits;
    }
    if (digits == 0) ok = false;
    if (ok && i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
      ++i;
      if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
      std::size_t exp = 0;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++exp;
      if (exp == 0) ok = false;
    }
    if (ok && i == s.size()) {
      const double d = std::strtod(text.c_str(), nullptr);
      if (std::isfinite(d)) return d;
    }
  }
  return json::string(text);
}

class Converter {
 public:
  explicit Converter(Diagnostics& diags) : diags_(diags) {}

  bool Convert(const YAML::Node& in, SourceNode& out, int depth) {
    if (++count_ > kMaxSourceNodes) {
      if (!reported_) {
        diags_.Add(MarkOf(in.Mark()), "", fmt::format("document too large (more than {} nodes)", kMaxSourceNodes));
        reported_ = true;
      }
      return false;
    }
    if (depth > 64) {
      diags_.Add(MarkOf(in.Mark()), "", "document nested more than 64 levels deep");
      return false;
    }
    out.mark = MarkOf(in.Mark());
    switch (in.Type()) {
      case YAML::NodeType::Null:
      case YAML::NodeType::Undefined:
        out.kind = SourceNode::Kind::kNull;
        return true;
      case YAML::NodeType::Scalar:
        out.kind = SourceNode::Kind::kScalar;
        // "!" is the tag of a quoted (non-plain) scalar: always a string.
        out.scalar = in.Tag() == "!" ? json::value(json::string(in.Scalar())) : Resolve(in.Scalar());
        if (out.scalar.is_null()) out.kind = SourceNode::Kind::kNull;
        return true;
      case YAML::NodeType::Sequence:
        out.kind = SourceNode::Kind::kSequence;
        for (const auto& item : in) {
          out.items.emplace_back();
          if (!Convert(item, out.items.back(), depth + 1)) return false;
        }
        return true;
      case YAML::NodeType::Map: {
        out.kind = SourceNode::Kind::kMap;
        std::set<std::string> seen;
        bool ok = true;
        for (const auto& kv : in) {
          const Mark key_mark = MarkOf(kv.first.Mark());
          if (!kv.first.IsScalar()) {
            diags_.Add(key_mark, "", "map keys must be plain strings");
            ok = false;
            continue;
          }
          const std::string key = kv.first.Scalar();
          if (!seen.insert(key).second) {
            diags_.Add(key_mark, key, "duplicate key");
            ok = false;
            continue;
          }
          SourceNode::Entry entry{key, key_mark, {}};
          if (!Convert(kv.second, entry.value, depth + 1)) return false;
          out.entries.push_back(std::move(entry));
        }
        return ok;
      }
    }
    return false;
  }

 private:
  Diagnostics& diags_;
  std::size_t count_ = 0;
  bool reported_ = false;
};

}  // namespace

const SourceNode* SourceNode::Find(std::string_view key) const {
  for (const auto& e : entries) {
    if (e.key == key) return &e.value;
  }
  return nullptr;
}

std::string_view SourceNode::Describe() const {
  switch (kind) {
    case Kind::kNull: return "null";
    case Kind::kSequence: return "a list";
    case Kind::kMap: return "a map";
    case Kind::kScalar:
      if (scalar.is_string()) return "a string";
      if (scalar.is_bool()) return "a boolean";
      return "a number";
  }
  return "a value";
}

std::optional<SourceNode> ParseSource(std::string_view text, Diagnostics& diags) {
  if (text.size() > kMaxSourceBytes) {
    diags.Add({}, "", fmt::format("file too large ({} bytes, at most {})", text.size(), kMaxSourceBytes));
    return std::nullopt;
  }
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    diags.Add(MarkOf(e.mark), "", fmt::format("syntax error: {}", e.msg));
    return std::nullopt;
  }
  SourceNode out;
  Converter converter(diags);
  try {
    if (!converter.Convert(root, out, 0)) return std::nullopt;
  } catch (const YAML::Exception& e) {
    diags.Add(MarkOf(e.mark), "", fmt::format("syntax error: {}", e.msg));
    return std::nullopt;
  }
  return out;
}

json::value ToJson(const SourceNode& node) {
  switch (node.kind) {
    case SourceNode::Kind::kNull: return nullptr;
    case SourceNode::Kind::kScalar: return node.scalar;
    case SourceNode::Kind::kSequence: {
      json::array out;
      out.reserve(node.items.size());
      for (const auto& item : node.items) out.push_back(ToJson(item));
      return out;
    }
    case SourceNode::Kind::kMap: {
      json::object out;
      for (const auto& e : node.entries) out[e.key] = ToJson(e.value);
      return out;
    }
  }
  return nullptr;
}

}  // namespace agentd::graph
