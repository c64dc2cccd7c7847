#include "runtime/run_events.hpp"

#include <array>
#include <utility>

namespace agentd::runtime {
namespace {

constexpr std::array<std::pair<StreamMode, std::string_view>, 9> kModeNames = {{
    {StreamMode::kValues, "values"},
    {StreamMode::kUpdates, "updates"},
    {StreamMode::kMessagesTuple, "messages-tuple"},
    {StreamMode::kMessages, "messages"},
    {StreamMode::kCustom, "custom"},
    {StreamMode::kEvents, "events"},
    {StreamMode::kDebug, "debug"},
    {StreamMode::kTasks, "tasks"},
    {StreamMode::kCheckpoints, "checkpoints"},
}};

}  // namespace

std::optional<StreamMode> ParseStreamMode(std::string_view name) {
  for (const auto& [mode, mode_name] : kModeNames) {
    if (mode_name == name) return mode;
  }
  return std::nullopt;
}

std::string_view StreamModeName(StreamMode mode) {
  for (const auto& [m, mode_name] : kModeNames) {
    if (m == mode) return mode_name;
  }
  return "values";
}

}  // namespace agentd::runtime
