#include "loadgen/histogram.hpp"

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace agentd::loadgen {
namespace {

TEST(HistogramTest, EmptyHistogramReportsZero) {
  Histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.Percentile(50), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.min(), 0u);
}

TEST(HistogramTest, SmallValuesArePercentilesExactly) {
  Histogram h;
  for (std::uint64_t v = 1; v <= 100; ++v) h.Record(v);
  EXPECT_EQ(h.Percentile(50), 50u);
  EXPECT_EQ(h.Percentile(90), 90u);
  EXPECT_EQ(h.Percentile(99), 99u);
  EXPECT_EQ(h.Percentile(100), 100u);
  EXPECT_EQ(h.Percentile(0.5), 1u);
  EXPECT_DOUBLE_EQ(h.Mean(), 50.5);
}

TEST(HistogramTest, BucketsTileTheRangeWithoutGaps) {
  for (std::size_t i = 1; i < Histogram::kBuckets - 1; ++i) {
    ASSERT_EQ(Histogram::BucketLow(i), Histogram::BucketHigh(i - 1) + 1) << i;
    ASSERT_EQ(Histogram::BucketOf(Histogram::BucketLow(i)), i);
    ASSERT_EQ(Histogram::BucketOf(Histogram::BucketHigh(i)), i);
  }
}

TEST(HistogramTest, LargeValuePercentilesAreWithinRelativeErrorOfSortedSamples) {
  std::mt19937_64 rng(42);
  std::lognormal_distribution<double> dist(10.0, 2.0);  // microseconds, heavy tail
  std::vector<std::uint64_t> samples;
  Histogram h;
  for (int i = 0; i < 100000; ++i) {
    auto v = static_cast<std::uint64_t>(dist(rng));
    samples.push_back(v);
    h.Record(v);
  }
  std::sort(samples.begin(), samples.end());
  for (double p : {50.0, 90.0, 99.0, 99.9}) {
    auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * samples.size()));
    const double exact = static_cast<double>(samples[rank - 1]);
    const double got = static_cast<double>(h.Percentile(p));
    EXPECT_GE(got, exact) << p;                  // the bucket's highest value
    EXPECT_LE(got, exact * (1.0 + 1.0 / 64) + 1) << p;
  }
  EXPECT_EQ(h.max(), samples.back());
  EXPECT_EQ(h.Percentile(100), samples.back());
}

TEST(HistogramTest, MergeEqualsRecordingEverythingInOne) {
  Histogram a, b, all;
  for (std::uint64_t v = 0; v < 5000; v += 3) {
    a.Record(v * 7);
    all.Record(v * 7);
  }
  for (std::uint64_t v = 0; v < 9000; v += 5) {
    b.Record(v * 11 + 1000);
    all.Record(v * 11 + 1000);
  }
  a.Merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.max(), all.max());
  EXPECT_DOUBLE_EQ(a.Mean(), all.Mean());
  for (double p : {1.0, 25.0, 50.0, 75.0, 90.0, 99.0, 99.9, 100.0}) EXPECT_EQ(a.Percentile(p), all.Percentile(p)) << p;
}

TEST(HistogramTest, JsonRoundTripKeepsEveryFigure) {
  Histogram h;
  for (std::uint64_t v : {3u, 900u, 1234567u, 2000001u, 2000001u}) h.Record(v);
  auto back = Histogram::FromJson(h.ToJson());
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->count(), 5u);
  EXPECT_EQ(back->min(), 3u);
  EXPECT_EQ(back->max(), 2000001u);
  EXPECT_DOUBLE_EQ(back->Mean(), h.Mean());
  EXPECT_EQ(back->Percentile(50), h.Percentile(50));
}

TEST(HistogramTest, FromJsonRejectsABadBucketIndex) {
  auto bad = boost::json::parse(R"({"count":1,"buckets":[[999999,1]]})");
  EXPECT_FALSE(Histogram::FromJson(bad).has_value());
}

}  // namespace
}  // namespace agentd::loadgen
