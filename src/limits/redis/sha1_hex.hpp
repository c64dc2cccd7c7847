#pragma once
// Private to limits/redis: the name EVALSHA calls a Lua script by.

#include <string>
#include <string_view>

namespace agentd::limits::redis {

// Lowercase hex SHA-1 of `text`.
std::string Sha1Hex(std::string_view text);

}  // namespace agentd::limits::redis
