// A tier's max_concurrent_runs across a cluster (ClusterOptions::permits, RedisRunPermits):
// three instances whose default tier allows 2 concurrent runs per tenant execute at most 2 of
// that tenant's runs at any moment between them, not 2 each, and every run still ends.
//
// What "executing" means here is read back from PostgreSQL once the runs ended, not sampled
// while they ran: a run executes from its first checkpoint (written after its permit and its
// slot were granted) to its end (runs.updated_at, written by RunLeases::Finish before its
// permit is released). Those intervals lie inside the permit's, so at no instant do more than
// the limit of them overlap, and the check has no sampling gaps. All instances share one
// machine clock (milliseconds). `running` in the runs table is not the measure: ClaimTurn
// marks a run running before it waits for its permit.

#include <algorithm>
#include <fstream>
#include <sstream>
#include <utility>

#include <gtest/gtest.h>

#include "cluster_test_runs.hpp"

namespace agentd::cluster_test {
namespace {

using namespace std::chrono_literals;

struct Interval {
  std::string run_id;
  long long start = -1;  // first checkpoint (ms)
  long long end = -1;    // runs.updated_at at Finish (ms)
};

// The largest number of intervals that share an instant; touching ends do not overlap (a
// permit released at t and taken again at t is never held twice).
int MaxOverlap(const std::vector<Interval>& intervals) {
  std::vector<std::pair<long long, int>> edges;
  for (const auto& i : intervals) {
    edges.emplace_back(i.start, +1);
    edges.emplace_back(i.end, -1);
  }
  std::sort(edges.begin(), edges.end());  // at equal times -1 sorts before +1
  int now = 0, most = 0;
  for (const auto& [t, delta] : edges) {
    now += delta;
    most = std::max(most, now);
  }
  return most;
}

std::vector<Interval> ExecutionIntervals(const std::string& dsn, std::string* raw) {
  auto rows = Psql(dsn,
                   "SELECT r.run_id, coalesce((SELECT min(c.created_at) FROM checkpoints c "
                   "WHERE c.run_id = r.run_id), -1), r.updated_at FROM runs r ORDER BY 2");
  std::vector<Interval> out;
  if (!rows) return out;
  *raw = *rows;
  std::istringstream lines(*rows);
  for (std::string line; std::getline(lines, line);) {
    auto a = line.find('|');
    auto b = line.find('|', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    out.push_back({line.substr(0, a), std::stoll(line.substr(a + 1, b - a - 1)),
                   std::stoll(line.substr(b + 1))});
  }
  return out;
}

TEST(ClusterQuota, TierMaxConcurrentRunsHoldsAcrossInstances) {
  SKIP_WITHOUT_SERVICES(services);
  Cluster cluster;
  const auto config = cluster.dir.path() / "quota.json";
  {
    std::ofstream f(config);
    f << R"({"limits": {"tiers": [{"name": "default", "max_concurrent_runs": 2}]}})";
  }
  cluster.extra_args = {"--config", config.string()};
  std::string why;
  ASSERT_TRUE(cluster.Start(*services, "agentd_cluster_quota", 3, &why)) << why;
  LogsOnFailure logs{cluster};
  const std::vector<std::uint16_t> ports{cluster[0].port(), cluster[1].port(), cluster[2].port()};

  // 12 runs of one tenant (auth off: the empty tenant on the default tier), each on its own
  // thread, 4 created on each instance, all at once; each takes 1.5 s in the mock model.
  std::string error;
  auto runs = CreateRuns(ports, 12, "delay=1500 quota ", 12, &error);
  ASSERT_TRUE(error.empty()) << error;
  auto statuses = WaitAllTerminal(ports, runs, 120s);
  for (std::size_t i = 0; i < runs.size(); ++i) {
    EXPECT_EQ(statuses[i], "success") << "run " << i << " " << runs[i].run_id;
  }

  std::string raw;
  auto intervals = ExecutionIntervals(cluster.dsn, &raw);
  ASSERT_EQ(intervals.size(), 12u) << raw;
  for (const auto& i : intervals) {
    ASSERT_GE(i.start, 0) << "run " << i.run_id << " wrote no checkpoint\n" << raw;
    ASSERT_GE(i.end, i.start) << raw;
  }
  // Per instance the quota would allow 2 x 3 = 6 at once; cluster-wide it is 2, and with 12
  // waiting the 2 are always used.
  EXPECT_EQ(MaxOverlap(intervals), 2) << "run|first checkpoint ms|end ms\n" << raw;
}

}  // namespace
}  // namespace agentd::cluster_test
