#include "graph/conditions.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "graph/source_tree.hpp"

namespace agentd::graph {
namespace {

namespace json = boost::json;

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool ContainsNoCase(std::string_view text, std::string_view needle) {
  if (needle.empty()) return true;
  auto it = std::search(text.begin(), text.end(), needle.begin(), needle.end(),
                        [](char a, char b) { return Lower(a) == Lower(b); });
  return it != text.end();
}

constexpr std::string_view kKeys =
    "channel or resume + equals | in | exists | matches, tool_calls, last_message_contains, all, any, not";

// The value `path` names inside `v` (object keys, array indexes), or null.
const json::value* WalkPath(const json::value* v, const std::vector<std::string>& path) {
  for (const auto& key : path) {
    if (v == nullptr) return nullptr;
    if (v->is_object()) {
      v = v->get_object().if_contains(key);
    } else if (v->is_array()) {
      std::size_t index = 0;
      bool digits = !key.empty();
      for (char c : key) {
        if (c < '0' || c > '9') digits = false;
        else index = index * 10 + static_cast<std::size_t>(c - '0');
      }
      v = digits && index < v->get_array().size() ? &v->get_array()[index] : nullptr;
    } else {
      return nullptr;
    }
  }
  return v != nullptr && !v->is_null() ? v : nullptr;
}

// What a channel/resume test reads: the channel, or the resume value at the condition's path.
const json::value* Subject(const Condition& c, const StateView& state) {
  if (c.on_resume) return WalkPath(state.resume, c.resume_path);
  return state.Channel(c.channel);
}

}  // namespace

const json::value* StateView::Channel(std::string_view name) const {
  if (name == "messages" || channels == nullptr) return nullptr;
  const json::value* v = channels->if_contains(name);
  return v != nullptr && !v->is_null() ? v : nullptr;
}

const json::object* StateView::LastMessage() const {
  if (appended != nullptr) return appended;
  if (messages == nullptr || messages->empty() || !messages->back().is_object()) return nullptr;
  return &messages->back().get_object();
}

std::string MessageText(const json::value& content) {
  if (content.is_string()) return std::string(content.get_string());
  std::string out;
  if (content.is_array()) {
    for (const auto& part : content.get_array()) {
      if (part.is_string()) {
        out += part.get_string();
      } else if (part.is_object()) {
        const auto* text = part.get_object().if_contains("text");
        if (text != nullptr && text->is_string()) out += text->get_string();
      }
    }
  }
  return out;
}

std::optional<Condition> ParseCondition(const SourceNode& node, const std::string& path, Diagnostics& diags) {
  if (!node.is_map()) {
    diags.Add(node.mark, path, fmt::format("a condition must be a map ({}), got {}", kKeys, node.Describe()));
    return std::nullopt;
  }
  Condition c;
  c.mark = node.mark;
  c.path = path;
  const std::size_t errors_before = diags.items().size();
  auto key_path = [&](std::string_view key) { return fmt::format("{}.{}", path, key); };

  const SourceNode* channel = node.Find("channel");
  const SourceNode* resume = node.Find("resume");
  if (channel != nullptr && resume != nullptr) {
    diags.Add(resume->mark, key_path("resume"), "a condition reads either `channel` or `resume`, not both");
  }
  if (channel == nullptr) channel = resume;
  int tests = 0;
  for (const auto& e : node.entries) {
    const std::string_view k = e.key;
    if (k == "channel" || k == "resume") continue;
    if (k == "equals" || k == "in" || k == "exists" || k == "matches") {
      if (channel == nullptr) diags.Add(e.key_mark, key_path(k), fmt::format("`{}` needs `channel` or `resume`", k));
    } else if (k != "tool_calls" && k != "last_message_contains" && k != "all" && k != "any" && k != "not") {
      diags.Add(e.key_mark, key_path(k), fmt::format("unknown key in a condition (expected {})", kKeys));
      continue;
    }
    ++tests;
    const SourceNode& v = e.value;
    if (k == "equals") {
      c.kind = Condition::Kind::kEquals;
      c.value = ToJson(v);
    } else if (k == "in") {
      c.kind = Condition::Kind::kIn;
      if (!v.is_sequence()) diags.Add(v.mark, key_path(k), fmt::format("expected a list, got {}", v.Describe()));
      c.value = ToJson(v);
    } else if (k == "exists" || k == "tool_calls") {
      c.kind = k == "exists" ? Condition::Kind::kExists : Condition::Kind::kToolCalls;
      if (v.kind != SourceNode::Kind::kScalar || !v.scalar.is_bool()) {
        diags.Add(v.mark, key_path(k), fmt::format("expected true or false, got {}", v.Describe()));
      } else {
        c.flag = v.scalar.get_bool();
      }
    } else if (k == "matches" || k == "last_message_contains") {
      c.kind = k == "matches" ? Condition::Kind::kMatches : Condition::Kind::kLastMessageContains;
      if (!v.is_string()) {
        diags.Add(v.mark, key_path(k), fmt::format("expected a string, got {}", v.Describe()));
        continue;
      }
      c.text = std::string(v.scalar.get_string());
      if (k == "matches") {
        if (c.text.size() > kMaxRegexPattern) {
          diags.Add(v.mark, key_path(k), fmt::format("pattern longer than {} characters", kMaxRegexPattern));
          continue;
        }
        try {
          c.regex = std::make_shared<const std::regex>(c.text, std::regex::ECMAScript);
        } catch (const std::regex_error& err) {
          diags.Add(v.mark, key_path(k), fmt::format("invalid regular expression: {}", err.what()));
        }
      }
    } else if (k == "all" || k == "any") {
      c.kind = k == "all" ? Condition::Kind::kAll : Condition::Kind::kAny;
      if (!v.is_sequence() || v.items.empty()) {
        diags.Add(v.mark, key_path(k), "expected a non-empty list of conditions");
        continue;
      }
      for (std::size_t i = 0; i < v.items.size(); ++i) {
        auto child = ParseCondition(v.items[i], fmt::format("{}[{}]", key_path(k), i), diags);
        if (child) c.children.push_back(std::move(*child));
      }
    } else {  // not
      c.kind = Condition::Kind::kNot;
      auto child = ParseCondition(v, key_path(k), diags);
      if (child) c.children.push_back(std::move(*child));
    }
  }
  if (channel != nullptr && channel == resume) {
    // A dotted path into the resume value; "" is the whole value.
    if (!channel->is_string()) {
      diags.Add(channel->mark, key_path("resume"), "expected a path into the resume value (\"\" for all of it)");
    } else {
      c.on_resume = true;
      const std::string_view text = channel->scalar.get_string();
      std::size_t start = 0;
      while (!text.empty() && start <= text.size()) {
        const std::size_t dot = std::min(text.find('.', start), text.size());
        c.resume_path.emplace_back(text.substr(start, dot - start));
        start = dot + 1;
      }
    }
    if (tests == 0) diags.Add(node.mark, path, "`resume` needs one of equals, in, exists, matches");
  } else if (channel != nullptr) {
    if (!channel->is_string()) {
      diags.Add(channel->mark, key_path("channel"), "expected a channel name");
    } else {
      c.channel = std::string(channel->scalar.get_string());
    }
    if (tests == 0) diags.Add(node.mark, path, "`channel` needs one of equals, in, exists, matches");
  }
  if (tests == 0 && channel == nullptr) diags.Add(node.mark, path, fmt::format("empty condition (expected {})", kKeys));
  if (tests > 1) diags.Add(node.mark, path, "one test per condition: combine several with `all` or `any`");
  if (diags.items().size() != errors_before) return std::nullopt;
  return c;
}

Result<bool> Evaluate(const Condition& c, const StateView& state) {
  switch (c.kind) {
    case Condition::Kind::kEquals: {
      const json::value* v = Subject(c, state);
      return v != nullptr ? *v == c.value : c.value.is_null();
    }
    case Condition::Kind::kIn: {
      const json::value* v = Subject(c, state);
      if (!c.value.is_array()) return false;
      for (const auto& option : c.value.get_array()) {
        if (v != nullptr ? *v == option : option.is_null()) return true;
      }
      return false;
    }
    case Condition::Kind::kExists: {
      const bool exists = c.on_resume ? Subject(c, state) != nullptr
                          : c.channel == "messages"
                              ? state.appended != nullptr || (state.messages != nullptr && !state.messages->empty())
                              : state.Channel(c.channel) != nullptr;
      return exists == c.flag;
    }
    case Condition::Kind::kMatches: {
      const json::value* v = Subject(c, state);
      if (v == nullptr || !v->is_string() || !c.regex) return false;
      std::string_view text = v->get_string();
      if (text.size() > kMaxRegexInput) text = text.substr(0, kMaxRegexInput);
      try {
        return std::regex_search(text.begin(), text.end(), *c.regex);
      } catch (const std::regex_error& err) {
        return MakeError(Errc::kInvalidArgument,
                         fmt::format("{}: regular expression /{}/ gave up: {}", c.path, c.text, err.what()));
      }
    }
    case Condition::Kind::kToolCalls: {
      bool has = false;
      if (const json::object* last = state.LastMessage()) {
        const auto* type = last->if_contains("type");
        const auto* calls = last->if_contains("tool_calls");
        has = type != nullptr && *type == "ai" && calls != nullptr && calls->is_array() &&
              !calls->get_array().empty();
      }
      return has == c.flag;
    }
    case Condition::Kind::kLastMessageContains: {
      const json::object* last = state.LastMessage();
      if (last == nullptr) return false;
      const auto* content = last->if_contains("content");
      return content != nullptr && ContainsNoCase(MessageText(*content), c.text);
    }
    case Condition::Kind::kAll:
    case Condition::Kind::kAny: {
      const bool all = c.kind == Condition::Kind::kAll;
      for (const auto& child : c.children) {
        auto r = Evaluate(child, state);
        if (!r) return r;
        if (*r != all) return !all;
      }
      return all;
    }
    case Condition::Kind::kNot: {
      if (c.children.empty()) return false;
      auto r = Evaluate(c.children.front(), state);
      if (!r) return r;
      return !*r;
    }
  }
  return false;
}

bool ReadsResume(const Condition& c) {
  if (c.on_resume) return true;
  for (const auto& child : c.children) {
    if (ReadsResume(child)) return true;
  }
  return false;
}

void CollectChannels(const Condition& c, std::vector<const Condition*>& out) {
  if (!c.channel.empty()) out.push_back(&c);
  for (const auto& child : c.children) CollectChannels(child, out);
}

}  // namespace agentd::graph
