#include "loadgen/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

#include <boost/json.hpp>

namespace agentd::loadgen {

std::size_t Histogram::BucketOf(std::uint64_t value) {
  if (value < kExactBelow) return static_cast<std::size_t>(value);
  const int msb = 63 - std::countl_zero(value);   // >= 7
  const int shift = msb - 6;                       // value >> shift is in [64, 127]
  if (shift > kMaxShift) return kBuckets - 1;
  const std::uint64_t sub = (value >> shift) - kSubBuckets;
  return kExactBelow + static_cast<std::size_t>(shift - 1) * kSubBuckets + static_cast<std::size_t>(sub);
}

std::uint64_t Histogram::BucketLow(std::size_t index) {
  if (index < kExactBelow) return index;
  const std::size_t k = index - kExactBelow;
  const int shift = static_cast<int>(k / kSubBuckets) + 1;
  const std::uint64_t sub = k % kSubBuckets + kSubBuckets;
  return sub << shift;
}

std::uint64_t Histogram::BucketHigh(std::size_t index) {
  if (index < kExactBelow) return index;
  const std::size_t k = index - kExactBelow;
  const int shift = static_cast<int>(k / kSubBuckets) + 1;
  const std::uint64_t sub = k % kSubBuckets + kSubBuckets;
  return ((sub + 1) << shift) - 1;
}

void Histogram::Record(std::uint64_t value, std::uint64_t times) {
  if (times == 0) return;
  counts_[BucketOf(value)] += times;
  count_ += times;
  sum_ += value * times;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
}

void Histogram::Merge(const Histogram& other) {
  if (other.count_ == 0) return;
  for (std::size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

std::uint64_t Histogram::Percentile(double p) const {
  if (count_ == 0) return 0;
  p = std::clamp(p, 0.0, 100.0);
  auto rank = static_cast<std::uint64_t>(std::ceil(p / 100.0 * static_cast<double>(count_)));
  rank = std::clamp<std::uint64_t>(rank, 1, count_);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::clamp(BucketHigh(i), min(), max_);
  }
  return max_;
}

boost::json::value Histogram::ToJson() const {
  boost::json::array buckets;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    if (counts_[i] != 0) buckets.push_back(boost::json::array{i, counts_[i]});
  }
  return boost::json::object{{"count", count_}, {"sum", sum_}, {"min", min()}, {"max", max_},
                             {"buckets", std::move(buckets)}};
}

Result<Histogram> Histogram::FromJson(const boost::json::value& v) {
  const auto* obj = v.if_object();
  if (obj == nullptr) return MakeError(Errc::kInvalidArgument, "histogram: not an object");
  const auto* buckets = obj->if_contains("buckets");
  if (buckets == nullptr || !buckets->is_array()) return MakeError(Errc::kInvalidArgument, "histogram: buckets");
  Histogram h;
  for (const auto& b : buckets->get_array()) {
    const auto* pair = b.if_array();
    if (pair == nullptr || pair->size() != 2) return MakeError(Errc::kInvalidArgument, "histogram: bucket");
    auto index = pair->at(0).to_number<std::uint64_t>();
    auto n = pair->at(1).to_number<std::uint64_t>();
    if (index >= kBuckets) return MakeError(Errc::kInvalidArgument, "histogram: bucket index");
    h.counts_[index] += n;
    h.count_ += n;
  }
  auto number = [&](const char* key) -> std::uint64_t {
    const auto* x = obj->if_contains(key);
    return x == nullptr ? 0 : x->to_number<std::uint64_t>();
  };
  h.sum_ = number("sum");
  if (h.count_ != 0) {
    h.min_ = number("min");
    h.max_ = number("max");
  }
  return h;
}

}  // namespace agentd::loadgen
