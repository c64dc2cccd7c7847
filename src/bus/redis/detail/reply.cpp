#include "bus/redis/detail/reply.hpp"

#include <charconv>

namespace agentd::bus::redis::detail {

std::optional<std::uint64_t> ParseU64(std::string_view text) {
  std::uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty()) return std::nullopt;
  return v;
}

std::optional<StreamId> ParseStreamId(std::string_view text) {
  auto dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  auto ms = ParseU64(text.substr(0, dash));
  auto seq = ParseU64(text.substr(dash + 1));
  if (!ms || !seq) return std::nullopt;
  return StreamId{*ms, *seq};
}

}  // namespace agentd::bus::redis::detail
