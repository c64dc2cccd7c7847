#pragma once
// A token-bucket rate limiter keyed by string (client IP, API key, tenant), with an injectable
// clock. Each key's bucket holds up to `burst` tokens and refills at `rate` tokens per second;
// a request takes one (or `cost`) token or is refused with the time until it could pass.
//
// Memory is bounded: at most `max_keys` buckets. A bucket that has refilled to full is
// indistinguishable from a new one, so dropping it loses nothing; such idle buckets are swept
// by EvictIdle() (call it periodically) and whenever a shard reaches its share of `max_keys`.
// An active (not yet full) bucket is never dropped: when a shard is full of active keys, a
// NEW key is refused (fail closed, reported as `overflow`) rather than forgetting a client
// that is being limited.
//
// Thread-safe: keys are spread over `shards` independently locked maps, so event loops rarely
// contend; each critical section is a hash lookup and a few floating-point operations.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace agentd::limits {

using Clock = std::function<std::chrono::steady_clock::time_point()>;
Clock SteadyClock();

struct BucketOptions {
  double rate_per_second = 1;  // refill rate; > 0
  double burst = 1;            // bucket size; >= 1
  std::size_t max_keys = 100'000;
  std::size_t shards = 16;
  bool operator==(const BucketOptions&) const = default;
};

struct Decision {
  bool allowed = false;
  bool overflow = false;  // refused because the key table is full of active keys
  double limit = 0;       // the bucket size (RateLimit-Limit)
  double remaining = 0;   // whole tokens left after this request (RateLimit-Remaining)
  std::chrono::milliseconds retry_after{0};  // refused: until one `cost` fits (Retry-After)
  // RateLimit-Reset. Allowed: until the bucket is full again. Refused: equal to retry_after, so
  // a refusal's RateLimit-Reset and Retry-After name the same moment.
  std::chrono::milliseconds reset{0};
};

// The Decision for a bucket holding `tokens` (possibly negative: a charged debt) under
// `options`: every limiter (in-process or Redis) renders its buckets through this, so the
// RateLimit-* and Retry-After values are the same whichever decided. `cost` is what a refused
// request asked for.
Decision DescribeBucket(const BucketOptions& options, double tokens, bool allowed, double cost);

class TokenBucketLimiter {
 public:
  explicit TokenBucketLimiter(BucketOptions options, Clock clock = SteadyClock());
  ~TokenBucketLimiter();
  TokenBucketLimiter(const TokenBucketLimiter&) = delete;
  TokenBucketLimiter& operator=(const TokenBucketLimiter&) = delete;

  // Takes `cost` tokens from `key`'s bucket if it holds them.
  Decision Acquire(std::string_view key, double cost = 1);
  // Takes `cost` tokens unconditionally; the balance may go negative (a debt repaid by refill
  // before Check allows again). For usage known only afterwards (LLM tokens).
  void Charge(std::string_view key, double cost);
  // Whether `key` has a positive balance, without taking anything.
  Decision Check(std::string_view key);

  // Drops every bucket that has refilled to full; returns how many were dropped.
  std::size_t EvictIdle();
  std::size_t size() const;
  const BucketOptions& options() const { return options_; }

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point last;
  };
  struct Shard;
  enum class Op { kAcquire, kCharge, kCheck };

  Decision Apply(std::string_view key, double cost, Op op);
  Shard& ShardOf(std::string_view key);
  void Refill(Bucket& b, std::chrono::steady_clock::time_point now) const;
  std::size_t SweepLocked(Shard& s, std::chrono::steady_clock::time_point now);
  Decision Describe(const Bucket& b, bool allowed, double cost) const;

  BucketOptions options_;
  Clock clock_;
  std::size_t per_shard_cap_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace agentd::limits
