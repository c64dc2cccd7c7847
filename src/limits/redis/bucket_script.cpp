#include "limits/redis/bucket_script.hpp"

#include <charconv>

#include <fmt/format.h>

#include "limits/redis/sha1_hex.hpp"

namespace agentd::limits::redis {
namespace {

using bus::redis::detail::Reply;

// Numbers are formatted by hand: Redis would turn a Lua number into a string with 14 digits,
// losing the microseconds of a timestamp, and a large TTL would become "1e+15".
constexpr std::string_view kScript = R"lua(
if redis.replicate_commands then pcall(redis.replicate_commands) end
local op = ARGV[1]
local cost = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local out = {}
for i, key in ipairs(KEYS) do
  local rate = tonumber(ARGV[2 + 2 * i])
  local burst = tonumber(ARGV[3 + 2 * i])
  local state = redis.call('HMGET', key, 't', 'ts')
  local tokens = tonumber(state[1])
  local last = tonumber(state[2])
  local existed = tokens ~= nil and last ~= nil
  if not existed then
    tokens = burst
    last = now
  end
  if now > last then
    tokens = math.min(burst, tokens + (now - last) / 1000000 * rate)
    last = now
  end
  local allowed
  if op == 'acquire' then
    allowed = tokens >= cost
    if allowed then tokens = tokens - cost end
  elseif op == 'charge' then
    tokens = tokens - cost
    allowed = tokens > 0
  else
    allowed = tokens > 0
  end
  if existed or op ~= 'check' then
    if tokens >= burst then
      redis.call('DEL', key)
    else
      redis.call('HSET', key, 't', string.format('%.17g', tokens), 'ts', string.format('%.17g', last))
      local ttl = math.min(math.ceil((burst - tokens) / rate * 1000) + 1000, 1e15)
      redis.call('PEXPIRE', key, string.format('%d', ttl))
    end
  end
  out[#out + 1] = allowed and 1 or 0
  out[#out + 1] = string.format('%.17g', tokens)
  if not allowed and op ~= 'charge' then break end
end
return out
)lua";


}  // namespace

std::string_view BucketOpName(BucketOp op) {
  switch (op) {
    case BucketOp::kAcquire: return "acquire";
    case BucketOp::kCharge: return "charge";
    case BucketOp::kCheck: return "check";
  }
  return "check";
}

std::string_view BucketScript() { return kScript; }

const std::string& BucketScriptSha() {
  static const std::string sha = Sha1Hex(kScript);
  return sha;
}

Result<std::vector<BucketOutcome>> ParseBucketReply(const Reply& reply) {
  auto bad = [] { return Error(Errc::kInternal, "redis limiter: unexpected script reply"); };
  if (!reply.is_array() || reply.elements.size() % 2 != 0) return bad();
  std::vector<BucketOutcome> out;
  out.reserve(reply.elements.size() / 2);
  for (std::size_t i = 0; i < reply.elements.size(); i += 2) {
    const Reply& allowed = reply.elements[i];
    const Reply& tokens = reply.elements[i + 1];
    if (allowed.type != Reply::Type::kInteger || !tokens.is_string()) return bad();
    BucketOutcome o;
    o.allowed = allowed.integer != 0;
    const char* end = tokens.str.data() + tokens.str.size();
    auto [ptr, ec] = std::from_chars(tokens.str.data(), end, o.tokens);
    if (ec != std::errc() || ptr != end) return bad();
    out.push_back(o);
  }
  return out;
}

}  // namespace agentd::limits::redis
