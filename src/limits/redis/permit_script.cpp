#include "limits/redis/permit_script.hpp"

#include <fmt/format.h>

#include "limits/redis/sha1_hex.hpp"

namespace agentd::limits::redis {
namespace {

using bus::redis::detail::Reply;

// Scores and TTLs are formatted by hand: Redis turns a Lua number into a string with 14
// significant digits, too few for milliseconds since the epoch in a few centuries' time, and
// "%d" never yields an exponent.
constexpr std::string_view kScript = R"lua(
if redis.replicate_commands then pcall(redis.replicate_commands) end
local key = KEYS[1]
local op = ARGV[1]
local lease = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', key, '-inf', string.format('%d', now))
local expiry = string.format('%d', now + lease)
local function keep()
  if redis.call('PTTL', key) < lease then
    redis.call('PEXPIRE', key, string.format('%d', lease))
  end
end
if op == 'acquire' then
  local limit = tonumber(ARGV[3])
  local holder = ARGV[4]
  if redis.call('ZSCORE', key, holder) or redis.call('ZCARD', key) < limit then
    redis.call('ZADD', key, expiry, holder)
    keep()
    return {1, redis.call('ZCARD', key)}
  end
  return {0, redis.call('ZCARD', key)}
elseif op == 'renew' then
  local n = 0
  for i = 3, #ARGV do
    if redis.call('ZSCORE', key, ARGV[i]) then
      redis.call('ZADD', key, 'XX', expiry, ARGV[i])
      n = n + 1
    end
  end
  if n > 0 then keep() end
  return {n, redis.call('ZCARD', key)}
end
return redis.error_reply('permits: unknown op ' .. tostring(op))
)lua";


}  // namespace

std::string_view PermitScript() { return kScript; }

const std::string& PermitScriptSha() {
  static const std::string sha = Sha1Hex(kScript);
  return sha;
}

Result<PermitReply> ParsePermitReply(const Reply& reply) {
  if (!reply.is_array() || reply.elements.size() != 2 ||
      reply.elements[0].type != Reply::Type::kInteger ||
      reply.elements[1].type != Reply::Type::kInteger) {
    return Error(Errc::kInternal, "run permits: unexpected script reply");
  }
  return PermitReply{reply.elements[0].integer, reply.elements[1].integer};
}

}  // namespace agentd::limits::redis
