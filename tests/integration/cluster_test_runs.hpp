#pragma once
// Runs across a test cluster (cluster_test_faults.cpp, cluster_test_partition.cpp): create many,
// wait for their ends, read back what each thread holds and what each stream carried.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/json/array.hpp>

#include "cluster_test_support.hpp"

namespace agentd::cluster_test {

#define SKIP_WITHOUT_SERVICES(services)                                                  \
  auto services = ServicesFromEnv();                                                     \
  if (!services) {                                                                       \
    GTEST_SKIP() << "AGENTD_TEST_PG_DSN / AGENTD_TEST_REDIS_URL not set: run under "     \
                    "tests/harness/with-services --pg --redis";                          \
  }

struct Created {
  std::string thread_id;
  std::string run_id;
  std::string content;
};

// Creates `count` runs, each on its own new thread, on `ports` round-robin, from `clients`
// client threads at once.
std::vector<Created> CreateRuns(const std::vector<std::uint16_t>& ports, int count,
                                const std::string& prefix, int clients, std::string* error);
// The final messages of a thread (empty array on failure).
boost::json::array ThreadMessages(std::uint16_t port, const std::string& thread_id);
// Waits until every run is terminal (statuses read from `ports` in turn); the statuses.
std::vector<std::string> WaitAllTerminal(const std::vector<std::uint16_t>& ports,
                                         const std::vector<Created>& runs,
                                         std::chrono::seconds bound);
// The `attempt` of the last metadata event.
std::optional<int> LastAttempt(const std::vector<SseEvent>& events);
// Whether a `values` event carries the mock's reply to `content`.
bool HasFinalValues(const std::vector<SseEvent>& events, const std::string& content);
// GET /ready: status and body (-1 and the error on transport failure).
std::pair<int, std::string> Ready(std::uint16_t port);
// A new run on `create_on`, joined on `join_on`: true when it ends success with its echo.
bool NewRunSucceeds(std::uint16_t create_on, std::uint16_t join_on, const std::string& content,
                    std::string* why);

}  // namespace agentd::cluster_test
