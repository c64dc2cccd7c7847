#pragma once
// Wall-clock timestamps, kept as milliseconds since the Unix epoch and written as ISO-8601
// UTC with milliseconds and 'Z' (2026-11-22T19:46:04.764Z), the one format the API uses.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace agentd {

using TimestampMs = std::int64_t;

TimestampMs NowMs();
std::string FormatIso8601(TimestampMs ms);
// Accepts the format FormatIso8601 writes (and seconds-only / +00:00 variants); nullopt otherwise.
std::optional<TimestampMs> ParseIso8601(std::string_view text);

}  // namespace agentd
