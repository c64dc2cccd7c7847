#include "bus/event_log.hpp"

#include <charconv>

namespace agentd::bus {

std::string EncodeSseFrame(std::string_view event, std::string_view data_json, std::uint64_t id) {
  static constexpr std::string_view kEvent = "event: ";
  static constexpr std::string_view kData = "\ndata: ";
  static constexpr std::string_view kId = "\nid: ";
  char digits[20];  // a uint64 has at most 20 decimal digits
  auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), id);
  (void)ec;  // cannot fail: the buffer fits every uint64
  const std::string_view id_text(digits, static_cast<std::size_t>(end - digits));

  // One exact-size allocation: this runs once per event on the run's executor.
  std::string frame;
  frame.reserve(kEvent.size() + event.size() + kData.size() + data_json.size() + kId.size() +
                id_text.size() + 2);
  frame.append(kEvent).append(event).append(kData).append(data_json).append(kId).append(id_text);
  frame.append("\n\n");
  return frame;
}

}  // namespace agentd::bus
