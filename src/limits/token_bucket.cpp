#include "limits/token_bucket.hpp"

#include <algorithm>
#include <cmath>

namespace agentd::limits {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

struct TokenBucketLimiter::Shard {
  std::mutex mu;
  // std::hash<std::string_view> lookups without building a std::string per request.
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, Bucket, Hash, std::equal_to<>> buckets;
  // A full shard of active keys is swept at most once per second, not once per refused key.
  steady_clock::time_point last_sweep{};
};

Clock SteadyClock() {
  return [] { return steady_clock::now(); };
}

TokenBucketLimiter::TokenBucketLimiter(BucketOptions options, Clock clock)
    : options_(options), clock_(std::move(clock)) {
  options_.rate_per_second = std::max(options_.rate_per_second, 1e-9);
  options_.burst = std::max(options_.burst, 1.0);
  options_.shards = std::max<std::size_t>(options_.shards, 1);
  per_shard_cap_ = std::max<std::size_t>(1, options_.max_keys / options_.shards);
  for (std::size_t i = 0; i < options_.shards; ++i) shards_.push_back(std::make_unique<Shard>());
}

TokenBucketLimiter::~TokenBucketLimiter() = default;

TokenBucketLimiter::Shard& TokenBucketLimiter::ShardOf(std::string_view key) {
  return *shards_[std::hash<std::string_view>{}(key) % shards_.size()];
}

void TokenBucketLimiter::Refill(Bucket& b, steady_clock::time_point now) const {
  if (now <= b.last) return;  // a clock that steps back refills nothing
  const double seconds = std::chrono::duration<double>(now - b.last).count();
  b.tokens = std::min(options_.burst, b.tokens + seconds * options_.rate_per_second);
  b.last = now;
}

Decision DescribeBucket(const BucketOptions& options, double tokens, bool allowed, double cost) {
  Decision d;
  d.allowed = allowed;
  d.limit = options.burst;
  d.remaining = std::max(0.0, std::floor(tokens));
  auto ms = [&](double tokens_missing) {
    return milliseconds(static_cast<std::int64_t>(
        std::ceil(std::max(0.0, tokens_missing) / options.rate_per_second * 1000.0)));
  };
  d.reset = ms(options.burst - tokens);
  if (!allowed) {
    d.retry_after = ms(std::min(cost, options.burst) - tokens);
    d.reset = d.retry_after;
  }
  return d;
}

Decision TokenBucketLimiter::Describe(const Bucket& b, bool allowed, double cost) const {
  return DescribeBucket(options_, b.tokens, allowed, cost);
}

std::size_t TokenBucketLimiter::SweepLocked(Shard& s, steady_clock::time_point now) {
  std::size_t dropped = 0;
  for (auto it = s.buckets.begin(); it != s.buckets.end();) {
    Refill(it->second, now);
    if (it->second.tokens >= options_.burst) {
      it = s.buckets.erase(it);
      ++dropped;
    } else {
      ++it;
    }
  }
  s.last_sweep = now;
  return dropped;
}

Decision TokenBucketLimiter::Apply(std::string_view key, double cost, Op op) {
  const auto now = clock_();
  Shard& s = ShardOf(key);
  std::lock_guard lock(s.mu);
  auto it = s.buckets.find(key);
  if (it == s.buckets.end()) {
    Bucket fresh{options_.burst, now};
    if (op == Op::kCheck) return Describe(fresh, true, cost);
    if (s.buckets.size() >= per_shard_cap_) {
      if (now - s.last_sweep >= std::chrono::seconds(1) || s.last_sweep == steady_clock::time_point{}) {
        SweepLocked(s, now);
      }
      if (s.buckets.size() >= per_shard_cap_) {
        Decision d = Describe(Bucket{0, now}, false, cost);
        d.overflow = true;
        return d;
      }
    }
    it = s.buckets.emplace(std::string(key), fresh).first;
  }
  Bucket& b = it->second;
  Refill(b, now);
  switch (op) {
    case Op::kAcquire:
      if (b.tokens >= cost) {
        b.tokens -= cost;
        return Describe(b, true, cost);
      }
      return Describe(b, false, cost);
    case Op::kCharge:
      b.tokens -= cost;
      return Describe(b, b.tokens > 0, cost);
    case Op::kCheck:
      return Describe(b, b.tokens > 0, 1);
  }
  return Describe(b, false, cost);
}

Decision TokenBucketLimiter::Acquire(std::string_view key, double cost) {
  return Apply(key, cost, Op::kAcquire);
}

void TokenBucketLimiter::Charge(std::string_view key, double cost) { Apply(key, cost, Op::kCharge); }

Decision TokenBucketLimiter::Check(std::string_view key) { return Apply(key, 0, Op::kCheck); }

std::size_t TokenBucketLimiter::EvictIdle() {
  const auto now = clock_();
  std::size_t dropped = 0;
  for (auto& s : shards_) {
    std::lock_guard lock(s->mu);
    dropped += SweepLocked(*s, now);
  }
  return dropped;
}

std::size_t TokenBucketLimiter::size() const {
  std::size_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard lock(s->mu);
    n += s->buckets.size();
  }
  return n;
}

}  // namespace agentd::limits
