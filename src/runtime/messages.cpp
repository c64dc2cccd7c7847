#include "runtime/messages.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/json/object.hpp>
#include <fmt/format.h>

#include "common/uuid.hpp"

namespace agentd::runtime {
namespace {

// The id of a message, or "" when it has none (such messages always append).
std::string_view IdOf(const json::object& message) {
  auto it = message.find("id");
  if (it == message.end() || !it->value().is_string()) return {};
  return it->value().get_string();
}

bool IsRemove(const json::object& message) {
  auto it = message.find("type");
  return it != message.end() && it->value().is_string() && it->value().get_string() == "remove";
}

void ApplyOne(json::array& messages, const json::object& message) {
  std::string_view id = IdOf(message);
  if (IsRemove(message)) {
    if (id == kRemoveAllMessages) {
      messages.clear();
      return;
    }
    for (auto it = messages.begin(); it != messages.end(); ++it) {
      if (it->is_object() && !id.empty() && IdOf(it->get_object()) == id) {
        messages.erase(it);
        return;
      }
    }
    return;
  }
  if (!id.empty()) {
    for (auto& existing : messages) {
      if (existing.is_object() && IdOf(existing.get_object()) == id) {
        existing = message;
        return;
      }
    }
  }
  messages.push_back(message);
}

}  // namespace

void ApplyMessageWrite(json::array& messages, const json::value& write) {
  if (write.is_object()) {
    ApplyOne(messages, write.get_object());
  } else if (write.is_array()) {
    for (const auto& item : write.get_array()) {
      if (item.is_object()) ApplyOne(messages, item.get_object());
    }
  }
}

json::array FoldMessages(const json::array& writes) {
  // The same result as ApplyMessageWrite in order, in linear time: an id -> slot index makes
  // replace and remove O(1) (a thread's whole history is folded when its state is loaded, so
  // the quadratic scan showed at 10,000 messages). Removed slots become null tombstones,
  // compacted at the end; messages themselves are always objects.
  std::vector<json::value> slots;
  std::unordered_map<std::string, std::size_t> index;
  auto apply = [&](const json::object& message) {
    const std::string_view id = IdOf(message);
    if (IsRemove(message)) {
      if (id == kRemoveAllMessages) {
        slots.clear();
        index.clear();
      } else if (auto it = index.find(std::string(id)); !id.empty() && it != index.end()) {
        slots[it->second] = nullptr;
        index.erase(it);
      }
      return;
    }
    if (!id.empty()) {
      auto [it, inserted] = index.try_emplace(std::string(id), slots.size());
      if (!inserted) {
        slots[it->second] = message;
        return;
      }
    }
    slots.emplace_back(message);
  };
  for (const auto& write : writes) {
    if (write.is_object()) {
      apply(write.get_object());
    } else if (write.is_array()) {
      for (const auto& item : write.get_array()) {
        if (item.is_object()) apply(item.get_object());
      }
    }
  }
  json::array messages;
  messages.reserve(slots.size());
  for (auto& slot : slots) {
    if (!slot.is_null()) messages.push_back(std::move(slot));
  }
  return messages;
}

}  // namespace agentd::runtime

// ------------------------------------------------------------------------ normalisation

namespace agentd::runtime {
namespace {

// role/type spellings clients use -> the stored type.
std::optional<std::string_view> TypeOfRole(std::string_view role) {
  if (role == "user" || role == "human") return "human";
  if (role == "assistant" || role == "ai") return "ai";
  if (role == "system" || role == "developer") return "system";
  if (role == "tool") return "tool";
  return std::nullopt;
}

std::optional<std::string_view> TypeOfType(std::string_view type) {
  if (type == "human" || type == "ai" || type == "system" || type == "tool" ||
      type == "remove") {
    return type;
  }
  // Chunk spellings py clients echo back.
  if (type == "AIMessageChunk") return "ai";
  if (type == "HumanMessageChunk") return "human";
  return std::nullopt;
}

Result<json::object> FromObject(const json::object& in) {
  std::string_view type;
  if (const auto* t = in.if_contains("type"); t != nullptr && t->is_string()) {
    auto mapped = TypeOfType(t->get_string());
    if (!mapped) {
      // {type: "user"} happens too: accept role spellings there.
      mapped = TypeOfRole(t->get_string());
    }
    if (!mapped) {
      return MakeError(Errc::kInvalidArgument,
                       fmt::format("message type \"{}\" is not one of human, ai, system, tool, "
                                   "remove",
                                   std::string_view(t->get_string())));
    }
    type = *mapped;
  } else if (const auto* r = in.if_contains("role"); r != nullptr && r->is_string()) {
    auto mapped = TypeOfRole(r->get_string());
    if (!mapped) {
      return MakeError(Errc::kInvalidArgument,
                       fmt::format("message role \"{}\" is not one of user, human, assistant, ai, "
                                   "system, developer, tool",
                                   std::string_view(r->get_string())));
    }
    type = *mapped;
  } else {
    return MakeError(Errc::kInvalidArgument, "message has neither a string \"type\" nor \"role\"");
  }

  json::object out;
  const auto* id = in.if_contains("id");
  const bool has_id = id != nullptr && id->is_string() && !id->get_string().empty();
  if (type == "remove") {
    if (!has_id) return MakeError(Errc::kInvalidArgument, "remove message needs an \"id\"");
    out["type"] = "remove";
    out["id"] = *id;
    out["content"] = "";
    return out;
  }
  const auto* content = in.if_contains("content");
  if (content == nullptr || !(content->is_string() || content->is_array())) {
    if (!(type == "ai" && (content == nullptr || content->is_null()))) {
      return MakeError(Errc::kInvalidArgument,
                       fmt::format("{} message needs \"content\" (a string or content blocks)", type));
    }
  }
  out["content"] = (content == nullptr || content->is_null()) ? json::value("") : *content;
  out["additional_kwargs"] = json::object{};
  out["response_metadata"] = json::object{};
  for (const auto& [key, value] : in) {
    if (key == "role" || key == "type" || key == "content" || key == "id") continue;
    out[key] = value;  // name, tool_calls, additional_kwargs ... as sent
  }
  if (type == "ai") {
    if (!out.contains("tool_calls")) out["tool_calls"] = json::array{};
    if (!out.contains("invalid_tool_calls")) out["invalid_tool_calls"] = json::array{};
  }
  if (type == "tool") {
    const auto* call = in.if_contains("tool_call_id");
    if (call == nullptr || !call->is_string()) {
      return MakeError(Errc::kInvalidArgument, "tool message needs a string \"tool_call_id\"");
    }
  }
  out["id"] = has_id ? *id : json::value(NewUuid4());
  out["type"] = type;
  return out;
}

}  // namespace

Result<json::object> NormalizeMessage(const json::value& message) {
  if (message.is_string()) {
    json::object in{{"type", "human"}, {"content", message}};
    return FromObject(in);
  }
  if (message.is_array()) {
    const auto& pair = message.get_array();
    if (pair.size() != 2 || !pair[0].is_string()) {
      return MakeError(Errc::kInvalidArgument,
                       "a message given as an array must be a [role, content] pair");
    }
    json::object in{{"role", pair[0]}, {"content", pair[1]}};
    return FromObject(in);
  }
  if (message.is_object()) return FromObject(message.get_object());
  return MakeError(Errc::kInvalidArgument,
                   "a message must be an object, a string or a [role, content] pair");
}

Result<json::array> NormalizeMessages(const json::value& messages) {
  json::array out;
  // A [role, content] pair is one message, not a list of two.
  const bool list = messages.is_array() &&
                    !(messages.get_array().size() == 2 && messages.get_array()[0].is_string() &&
                      TypeOfRole(messages.get_array()[0].get_string()));
  if (!list) {
    auto one = NormalizeMessage(messages);
    if (!one) return one.error();
    out.push_back(std::move(*one));
    return out;
  }
  std::size_t index = 0;
  for (const auto& item : messages.get_array()) {
    auto one = NormalizeMessage(item);
    if (!one) {
      return MakeError(Errc::kInvalidArgument,
                       fmt::format("messages[{}]: {}", index, one.error().message));
    }
    out.push_back(std::move(*one));
    ++index;
  }
  return out;
}

std::string ContentText(const json::value& content) {
  if (content.is_string()) return std::string(content.get_string());
  std::string text;
  if (!content.is_array()) return text;
  for (const auto& part : content.get_array()) {
    if (part.is_string()) {
      text += part.get_string();
    } else if (part.is_object()) {
      const auto* t = part.get_object().if_contains("text");
      if (t != nullptr && t->is_string()) text += t->get_string();
    }
  }
  return text;
}

}  // namespace agentd::runtime
