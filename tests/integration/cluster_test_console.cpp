// The console's operations view in cluster mode: watching one instance lists every instance
// of the cluster (each answers the watcher's ping over Redis with its summary).

#include <set>

#include <boost/json/array.hpp>
#include <gtest/gtest.h>

#include "cluster_test_support.hpp"

namespace agentd::cluster_test {
namespace {

using namespace std::chrono_literals;

TEST(ClusterConsole, OperationsOfOneInstanceListEveryInstance) {
  auto services = ServicesFromEnv();
  if (!services) {
    GTEST_SKIP() << "AGENTD_TEST_PG_DSN / AGENTD_TEST_REDIS_URL not set: run under "
                    "tests/harness/with-services --pg --redis";
  }
  Cluster cluster;
  LogsOnFailure logs{cluster};
  std::string why;
  ASSERT_TRUE(cluster.Start(*services, "agentd_cluster_console", 2, &why)) << why;

  SseReader ops(cluster[0].port(), "/console/api/ops/stream");
  ASSERT_EQ(ops.status(), 200);
  std::set<std::string> seen;
  const auto deadline = Clock::now() + 30s;
  while (seen.size() < 2 && Clock::now() < deadline) {
    auto event = ops.Next(2s);
    if (!event || event->event != "sample") continue;
    auto sample = ParseJson(event->data);
    const auto* instances = sample.as_object().if_contains("instances");
    ASSERT_NE(instances, nullptr) << "a cluster sample lists its instances: " << event->data;
    seen.clear();
    for (const auto& i : instances->as_array()) seen.insert(Str(i, "instance"));
  }
  EXPECT_EQ(seen.size(), 2u) << "instances seen: " << seen.size();
}

}  // namespace
}  // namespace agentd::cluster_test
