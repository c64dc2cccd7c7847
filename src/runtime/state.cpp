#include "runtime/state.hpp"

#include <utility>

#include "runtime/messages.hpp"

namespace agentd::runtime {

json::object GraphState::Values() const { return Values(json::storage_ptr()); }

json::object GraphState::Values(json::storage_ptr sp) const {
  json::object values(std::move(sp));
  values.reserve(channels.size() + 1);
  values["messages"] = messages;  // assignment copies into values' storage
  for (const auto& [key, value] : channels) values[key] = value;
  return values;
}

Result<AppliedUpdate> ApplyUpdate(GraphState& state, const json::value& update) {
  auto applied = PrepareUpdate(update, state.message_channels);
  if (applied) ApplyPrepared(state, *applied);
  return applied;
}

Result<AppliedUpdate> PrepareUpdate(const json::value& update,
                                    const std::set<std::string>& message_channels) {
  AppliedUpdate applied;
  if (update.is_null()) return applied;
  if (!update.is_object()) {
    return MakeError(Errc::kInvalidArgument, "a state update must be an object of channels");
  }
  // Validate everything before touching the state, so a bad message changes nothing.
  for (const auto& [key, value] : update.get_object()) {
    if (key == "messages") {
      auto normalised = NormalizeMessages(value);
      if (!normalised) return normalised.error();
      applied.update[key] = *normalised;
      applied.message_writes = std::move(*normalised);
    } else if (message_channels.count(std::string(key)) != 0) {
      auto normalised = NormalizeMessages(value);
      if (!normalised) return normalised.error();
      applied.update[key] = std::move(*normalised);
    } else {
      applied.update[key] = value;
    }
  }
  return applied;
}

void ApplyPrepared(GraphState& state, const AppliedUpdate& applied) {
  for (const auto& write : applied.message_writes) ApplyMessageWrite(state.messages, write);
  for (const auto& [key, value] : applied.update) {
    if (key == "messages") continue;
    if (state.message_channels.count(std::string(key)) != 0) {
      json::value& list = state.channels[key];
      if (!list.is_array()) list = json::array{};
      ApplyMessageWrite(list.get_array(), value);
      continue;
    }
    if (state.append_channels.count(std::string(key)) == 0) {
      state.channels[key] = value;
      continue;
    }
    json::value& list = state.channels[key];
    if (!list.is_array()) list = json::array{};
    if (value.is_array()) {
      for (const auto& item : value.get_array()) list.get_array().push_back(item);
    } else {
      list.get_array().push_back(value);
    }
  }
}

}  // namespace agentd::runtime
