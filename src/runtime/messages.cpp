#include "runtime/messages.hpp"

#include <string_view>

#include <boost/json/object.hpp>

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
  json::array messages;
  for (const auto& write : writes) ApplyMessageWrite(messages, write);
  return messages;
}

}  // namespace agentd::runtime
