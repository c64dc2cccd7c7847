#pragma once
// Private to limits/redis: the Lua token-bucket script and its reply. One EVALSHA applies one
// operation to one or more buckets atomically (Redis runs scripts one at a time), so
// instances sharing a bucket never both spend its last token.
//
//   KEYS: bucket keys, evaluated in order; the first refusal stops the rest (they are neither
//         read nor changed), as RequestLimits checks the credential before the tier.
//   ARGV: op ("acquire" | "charge" | "check"), cost, now in microseconds ("" = Redis TIME,
//         the one clock every instance agrees on), then rate_per_second and burst per key.
//   Reply: per evaluated key, allowed (1/0) and the balance after the operation (a string:
//         Lua numbers become truncated integers in replies).
//
// A bucket is a hash {t: tokens, ts: microseconds of the last refill}, updated exactly when
// TokenBucketLimiter updates its bucket (every refill of an existing bucket, so the floating
// point matches step for step; a check of an absent bucket creates nothing). A write PEXPIREs
// the key for the time it takes to refill to full (plus a second): an expired key reads as a
// fresh full bucket, which is what it would have become; a full bucket is deleted.

#include <string>
#include <string_view>
#include <vector>

#include "bus/redis/detail/reply.hpp"
#include "common/error.hpp"

namespace agentd::limits::redis {

enum class BucketOp { kAcquire, kCharge, kCheck };
std::string_view BucketOpName(BucketOp op);

std::string_view BucketScript();
// Lowercase hex SHA-1 of BucketScript(): what EVALSHA names.
const std::string& BucketScriptSha();

struct BucketOutcome {
  bool allowed = false;
  double tokens = 0;
};

// kInternal when the reply is not the script's (pairs of integer + number string).
Result<std::vector<BucketOutcome>> ParseBucketReply(const bus::redis::detail::Reply& reply);

}  // namespace agentd::limits::redis
