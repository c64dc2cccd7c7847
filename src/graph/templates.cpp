#include "graph/templates.hpp"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

namespace agentd::graph {
namespace {

namespace json = boost::json;

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

const json::value* Walk(const json::value* v, const std::vector<std::string>& path, std::size_t from) {
  for (std::size_t i = from; i < path.size() && v != nullptr; ++i) {
    if (v->is_object()) {
      v = v->get_object().if_contains(path[i]);
    } else if (v->is_array()) {
      const auto& arr = v->get_array();
      std::size_t index = 0;
      bool digits = !path[i].empty();
      for (char c : path[i]) {
        if (c < '0' || c > '9') digits = false;
        else index = index * 10 + static_cast<std::size_t>(c - '0');
      }
      v = digits && index < arr.size() ? &arr[index] : nullptr;
    } else {
      v = nullptr;
    }
  }
  return v;
}

// The value a placeholder names (null when unset).
json::value Lookup(const Placeholder& p, const TemplateContext& ctx) {
  if (p.root == "thread_id") return json::string(ctx.thread_id);
  if (p.root == "run_id") return json::string(ctx.run_id);
  if (p.root == "last") {
    const json::object* last = ctx.state.LastMessage();
    if (p.path.front() == "tool_calls") {
      // The last message's tool calls ([{name, args, id, type}]), [] when it has none.
      const json::value* calls = last != nullptr ? last->if_contains("tool_calls") : nullptr;
      return calls != nullptr && calls->is_array() ? *calls : json::value(json::array());
    }
    const json::value* content = last != nullptr ? last->if_contains("content") : nullptr;
    return json::string(content != nullptr ? MessageText(*content) : std::string());
  }
  if (p.root == "resume" || p.root == "item") {
    const json::value* v = Walk(p.root == "resume" ? ctx.state.resume : ctx.item, p.path, 0);
    return v != nullptr ? *v : json::value(nullptr);
  }
  const json::value* base = nullptr;
  json::value messages_holder;
  if (p.root == "state") {
    if (p.path.front() == "messages") {
      if (ctx.state.messages != nullptr) messages_holder = *ctx.state.messages;
      base = &messages_holder;
    } else if (ctx.state.channels != nullptr) {
      base = ctx.state.channels->if_contains(p.path.front());
    }
  } else {
    const json::object* source = p.root == "config" ? ctx.config : ctx.context;
    base = source != nullptr ? source->if_contains(p.path.front()) : nullptr;
  }
  const json::value* v = Walk(base, p.path, 1);
  return v != nullptr ? *v : json::value(nullptr);
}

void AppendText(std::string& out, const json::value& v) {
  if (v.is_null()) return;
  if (v.is_string()) {
    out += v.get_string();
  } else if (v.is_double()) {
    out += fmt::format("{}", v.get_double());  // shortest form: 0.2, not Boost's 2E-1
  } else {
    out += json::serialize(v);
  }
}

}  // namespace

Result<std::vector<Placeholder>> ParsePlaceholders(std::string_view text) {
  std::vector<Placeholder> out;
  std::size_t pos = 0;
  while ((pos = text.find("{{", pos)) != std::string_view::npos) {
    const std::size_t close = text.find("}}", pos + 2);
    if (close == std::string_view::npos) {
      return MakeError(Errc::kInvalidArgument, fmt::format("unterminated placeholder at offset {}", pos));
    }
    const std::string_view inner = Trim(text.substr(pos + 2, close - pos - 2));
    Placeholder p;
    p.begin = pos;
    p.end = close + 2;
    std::size_t start = 0;
    std::vector<std::string> parts;
    for (std::size_t i = 0; i <= inner.size(); ++i) {
      if (i == inner.size() || inner[i] == '.') {
        parts.emplace_back(inner.substr(start, i - start));
        start = i + 1;
      } else if (!IsNameChar(inner[i])) {
        return MakeError(Errc::kInvalidArgument,
                         fmt::format("placeholder {{{{{}}}}}: unexpected character '{}'", inner, inner[i]));
      }
    }
    for (const auto& part : parts) {
      if (part.empty()) {
        return MakeError(Errc::kInvalidArgument, fmt::format("placeholder {{{{{}}}}}: empty name", inner));
      }
    }
    p.root = parts.front();
    p.path.assign(parts.begin() + 1, parts.end());
    if (p.root == "resume" || p.root == "item") {
      // The whole value or a path into it.
    } else if (p.root == "thread_id" || p.root == "run_id") {
      if (!p.path.empty()) {
        return MakeError(Errc::kInvalidArgument, fmt::format("placeholder {{{{{}}}}}: {} has no fields", inner, p.root));
      }
    } else if (p.root == "last") {
      if (p.path.size() != 1 || (p.path.front() != "text" && p.path.front() != "tool_calls")) {
        return MakeError(Errc::kInvalidArgument,
                         fmt::format("placeholder {{{{{}}}}}: expected {{{{last.text}}}} or {{{{last.tool_calls}}}}", inner));
      }
    } else if (p.root == "state" || p.root == "config" || p.root == "context") {
      if (p.path.empty()) {
        return MakeError(Errc::kInvalidArgument,
                         fmt::format("placeholder {{{{{}}}}}: name a {} after the dot", inner,
                                     p.root == "state" ? "channel" : p.root == "config" ? "knob" : "key"));
      }
    } else {
      return MakeError(Errc::kInvalidArgument,
                       fmt::format("placeholder {{{{{}}}}}: unknown root \"{}\" (expected state, config, "
                                   "context, last, thread_id, run_id, resume or item)",
                                   inner, p.root));
    }
    out.push_back(std::move(p));
    pos = close + 2;
  }
  return out;
}

std::string RenderText(std::string_view text, const TemplateContext& ctx) {
  auto placeholders = ParsePlaceholders(text);
  if (!placeholders || placeholders->empty()) return std::string(text);
  std::string out;
  std::size_t at = 0;
  for (const auto& p : *placeholders) {
    out += text.substr(at, p.begin - at);
    AppendText(out, Lookup(p, ctx));
    at = p.end;
  }
  out += text.substr(at);
  return out;
}

json::value Render(const json::value& value, const TemplateContext& ctx) {
  switch (value.kind()) {
    case json::kind::string: {
      const std::string_view text = value.get_string();
      if (text.find("{{") == std::string_view::npos) return value;
      auto placeholders = ParsePlaceholders(text);
      if (!placeholders) return value;
      if (placeholders->size() == 1 && placeholders->front().begin == 0 &&
          placeholders->front().end == text.size()) {
        return Lookup(placeholders->front(), ctx);
      }
      return json::string(RenderText(text, ctx));
    }
    case json::kind::array: {
      json::array out;
      out.reserve(value.get_array().size());
      for (const auto& item : value.get_array()) out.push_back(Render(item, ctx));
      return out;
    }
    case json::kind::object: {
      const json::object& obj = value.get_object();
      if (const json::value* each = obj.if_contains(kEachKey)) {
        json::array out;
        const json::value source = Render(*each, ctx);
        const json::value* body = obj.if_contains(kEachDoKey);
        if (source.is_array() && body != nullptr) {
          TemplateContext inner = ctx;
          for (const auto& element : source.get_array()) {
            inner.item = &element;
            out.push_back(Render(*body, inner));
          }
        }
        return out;
      }
      json::object out;
      for (const auto& [key, item] : value.get_object()) out[key] = Render(item, ctx);
      return out;
    }
    default:
      return value;
  }
}

}  // namespace agentd::graph
