#pragma once
// A Redis reply copied out of hiredis' redisReply, so nothing outside src/bus/redis ever
// sees a hiredis type. Replies are small (stream batches, statuses), so the copy is cheap
// next to the round trip that produced them.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace agentd::bus::redis::detail {

struct Reply {
  enum class Type { kString, kArray, kInteger, kNil, kStatus, kError };
  Type type = Type::kNil;
  std::string str;  // kString, kStatus, kError
  long long integer = 0;
  std::vector<Reply> elements;  // kArray

  bool is_nil() const { return type == Type::kNil; }
  bool is_array() const { return type == Type::kArray; }
  bool is_error() const { return type == Type::kError; }
  bool is_string() const { return type == Type::kString || type == Type::kStatus; }
};

// A stream entry id "ms-seq" split into its parts; nullopt when malformed.
struct StreamId {
  std::uint64_t ms = 0;
  std::uint64_t seq = 0;
};
std::optional<StreamId> ParseStreamId(std::string_view text);
std::optional<std::uint64_t> ParseU64(std::string_view text);

}  // namespace agentd::bus::redis::detail
