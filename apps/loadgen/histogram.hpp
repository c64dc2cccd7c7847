#pragma once
// A fixed-bucket log-linear histogram (HDR-like) of non-negative integer values (the loadgen
// records microseconds). Values below 128 are exact; above, each power of two is split into 64
// buckets, so any reported percentile is within 1/64 (1.6%) of a recorded value. Because the
// buckets are fixed, histograms from several client processes merge by adding counts, which
// sorted samples would not allow without shipping every sample. Not thread-safe: one per
// coroutine strand / process, merged at the end.

#include <array>
#include <cstddef>
#include <cstdint>

#include <boost/json/value.hpp>

#include "common/error.hpp"

namespace agentd::loadgen {

class Histogram {
 public:
  static constexpr int kExactBelow = 128;  // values 0..127 get their own bucket
  static constexpr int kSubBuckets = 64;   // buckets per power of two above that
  static constexpr int kMaxShift = 40;     // values up to 2^47 us (~4.5 years)
  static constexpr std::size_t kBuckets = kExactBelow + kMaxShift * kSubBuckets;

  void Record(std::uint64_t value, std::uint64_t times = 1);
  void Merge(const Histogram& other);

  std::uint64_t count() const { return count_; }
  std::uint64_t min() const { return count_ == 0 ? 0 : min_; }
  std::uint64_t max() const { return max_; }
  double Mean() const { return count_ == 0 ? 0.0 : static_cast<double>(sum_) / static_cast<double>(count_); }
  // The value at percentile p (0..100]: the highest value of the bucket holding the
  // ceil(p% * count)-th smallest value, clamped to [min, max]. 0 when empty.
  std::uint64_t Percentile(double p) const;

  // Sparse JSON: {"count","sum","min","max","buckets":[[index,count],...]}; FromJson inverts it.
  boost::json::value ToJson() const;
  static Result<Histogram> FromJson(const boost::json::value& v);

  static std::size_t BucketOf(std::uint64_t value);
  static std::uint64_t BucketHigh(std::size_t index);
  static std::uint64_t BucketLow(std::size_t index);

 private:
  std::array<std::uint64_t, kBuckets> counts_{};
  std::uint64_t count_ = 0;
  std::uint64_t sum_ = 0;
  std::uint64_t min_ = UINT64_MAX;
  std::uint64_t max_ = 0;
};

}  // namespace agentd::loadgen
