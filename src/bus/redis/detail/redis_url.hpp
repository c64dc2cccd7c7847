#pragma once
// redis://[[user]:password@]host[:port][/db] -> the parts hiredis needs.

#include <string>
#include <string_view>

#include "common/error.hpp"

namespace agentd::bus::redis::detail {

struct RedisEndpoint {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string password;  // empty: no AUTH
  int db = 0;
};

// kInvalidArgument naming the problem for anything else (rediss://, unix sockets: unsupported).
Result<RedisEndpoint> ParseRedisUrl(std::string_view url);

}  // namespace agentd::bus::redis::detail
