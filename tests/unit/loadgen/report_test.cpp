#include "loadgen/report.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "loadgen/fork_runner.hpp"
#include "loadgen/scenarios.hpp"

namespace agentd::loadgen {
namespace {

Report Sample(int index) {
  Report r;
  r.scenario = "wait";
  r.elapsed_s = 1.0 + index;
  r.Count("started", 10);
  r.Count("completed", 9);
  r.Fail("http_503");
  for (std::uint64_t v = 1; v <= 100; ++v) r.latencies["wait"].Record(v * 1000 + static_cast<std::uint64_t>(index));
  return r;
}

TEST(ReportTest, MergeAddsCountersErrorsAndHistogramsAndKeepsLongestElapsed) {
  Report merged;
  merged.Merge(Sample(0));
  merged.Merge(Sample(2));
  EXPECT_EQ(merged.Counter("started"), 20u);
  EXPECT_EQ(merged.Counter("completed"), 18u);
  EXPECT_EQ(merged.Counter("failed"), 2u);
  EXPECT_EQ(merged.errors.at("http_503"), 2u);
  EXPECT_EQ(merged.Latency("wait").count(), 200u);
  EXPECT_DOUBLE_EQ(merged.elapsed_s, 3.0);
}

TEST(ReportTest, JsonRoundTripPreservesWhatMergeNeeds) {
  Report r = Sample(1);
  r.figures["runs_per_s"] = 12.5;
  auto back = Report::FromJson(boost::json::parse(boost::json::serialize(r.ToJson())));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->Counter("completed"), 9u);
  EXPECT_EQ(back->errors.at("http_503"), 1u);
  EXPECT_EQ(back->Latency("wait").Percentile(99), r.Latency("wait").Percentile(99));
  EXPECT_DOUBLE_EQ(back->figures.at("runs_per_s"), 12.5);
}

TEST(ReportTest, ForkedProcessesFiguresAreMergedInTheParent) {
  Report merged = RunForked(3, [](int index) { return Sample(index); });
  EXPECT_EQ(merged.Counter("started"), 30u);
  EXPECT_EQ(merged.Counter("failed"), 3u);
  EXPECT_EQ(merged.errors.count("client_process"), 0u);
  EXPECT_EQ(merged.Latency("wait").count(), 300u);
  EXPECT_EQ(merged.Latency("wait").min(), 1000u);
  EXPECT_EQ(merged.Latency("wait").max(), 100002u);
  EXPECT_DOUBLE_EQ(merged.elapsed_s, 3.0);
}

TEST(ReportTest, ShareSplitsATotalExactly) {
  int sum = 0;
  for (int p = 0; p < 7; ++p) sum += Share(100, p, 7);
  EXPECT_EQ(sum, 100);
  EXPECT_EQ(Share(100, 0, 1), 100);
}

TEST(ReportTest, SourceAddressesSpreadOnlyWhenAskedFor) {
  Options o;
  o.source_addrs = 1;
  EXPECT_EQ(SourceAddress(o, 5), "");
  o.source_addrs = 3;
  EXPECT_EQ(SourceAddress(o, 0), "127.0.0.1");
  EXPECT_EQ(SourceAddress(o, 4), "127.0.0.2");
}

}  // namespace
}  // namespace agentd::loadgen
