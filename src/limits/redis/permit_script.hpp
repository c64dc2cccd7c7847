#pragma once
// Private to limits/redis: the Lua script of RedisRunPermits (redis_run_permits.hpp). Redis runs
// a script alone, so two instances never both take a tenant's last permit.
//
//   KEYS[1]: the (tier, tenant) ZSET; members are holders, scores their lease expiry (ms).
//   ARGV:    op ("acquire" | "renew"), lease in ms, then
//            acquire: limit, holder   -> {1 granted | 0 full, members after}
//            renew:   holders...      -> {members renewed, members after}
// Every call first drops expired members (score <= now, Redis TIME) and, after a write, makes
// the key live at least one lease longer.

#include <cstdint>
#include <string>
#include <string_view>

#include "bus/redis/detail/reply.hpp"
#include "common/error.hpp"

namespace agentd::limits::redis {

std::string_view PermitScript();
// Lowercase hex SHA-1 of PermitScript(): what EVALSHA names.
const std::string& PermitScriptSha();

struct PermitReply {
  std::int64_t value = 0;    // acquire: 1 granted / 0 full; renew: members renewed
  std::int64_t members = 0;  // holders after the call
};
// kInternal when the reply is not the script's (two integers).
Result<PermitReply> ParsePermitReply(const bus::redis::detail::Reply& reply);

}  // namespace agentd::limits::redis
