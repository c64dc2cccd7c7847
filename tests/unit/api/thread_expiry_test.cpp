// Thread TTL: an expired thread answers 404 with a reason on every thread-scoped route, is left
// out of listings, and the sweeper deletes it (logged and counted).
#include "api/thread_expiry.hpp"

#include "api_fixture.hpp"
#include "support/run_co.hpp"

namespace agentd::api::testing {
namespace {

constexpr std::string_view kExpired = "eeeeeeee-0000-4000-8000-000000000001";

class ThreadExpiryTest : public ApiTest {
 protected:
  // A thread that expired a minute ago (by the wall clock the API checks against).
  TimestampMs MakeExpired() {
    model::Thread t;
    t.thread_id = std::string(kExpired);
    t.expires_at = NowMs() - 60'000;
    auto created = agentd::testing::RunCo(
        storage_->threads().Create(std::move(t), storage::IfExists::kRaise),
        std::chrono::seconds(5));
    EXPECT_TRUE(created);
    return created ? created->expires_at : 0;
  }
};

TEST_F(ThreadExpiryTest, ExpiredThreadAnswers404WithReasonOnEveryThreadRoute) {
  TimestampMs at = MakeExpired();
  std::string id(kExpired);
  std::string reason = "Thread " + id + " expired at " + FormatIso8601(at);
  for (Reply r : {Get("/threads/" + id), Get("/threads/" + id + "/state"),
                  Post("/threads/" + id + "/history", "{}"),
                  Patch("/threads/" + id, R"({"metadata":{"a":1}})"),
                  Post("/threads/" + id + "/copy"), Get("/threads/" + id + "/runs"),
                  Delete("/threads/" + id)}) {
    EXPECT_EQ(r.status, 404) << r.body;
    EXPECT_EQ(r.Detail(), reason);
  }
}

TEST_F(ThreadExpiryTest, LiveThreadWithTtlAnswersNormally) {
  std::string id = NewThread(R"({"ttl":60})");
  EXPECT_EQ(Get("/threads/" + id).status, 200);
  EXPECT_EQ(Get("/threads/" + std::string(kMissingId)).Detail(),
            "Thread with ID " + std::string(kMissingId) + " not found");
}

TEST_F(ThreadExpiryTest, ExpiredThreadIsLeftOutOfSearchAndCount) {
  MakeExpired();
  std::string live = NewThread();
  Reply search = Post("/threads/search", "{}");
  ASSERT_EQ(search.status, 200);
  ASSERT_EQ(search.Json().as_array().size(), 1u);
  EXPECT_EQ(Str(search.Json().as_array()[0].at("thread_id")), live);
  EXPECT_EQ(Post("/threads/count", "{}").body, "1");
}

TEST_F(ThreadExpiryTest, SweeperDeletesExpiredThreadsAndCountsThem) {
  MakeExpired();
  std::string live = NewThread(R"({"ttl":60})");
  auto run = [&](ThreadSweeper& sweeper) {
    return agentd::testing::RunCo(sweeper.SweepOnce(), std::chrono::seconds(5));
  };
  boost::asio::io_context io;
  ThreadSweeperOptions options;
  options.clock = [] { return NowMs(); };
  ThreadSweeper sweeper(io.get_executor(), *storage_, nullptr, metrics_, options);
  EXPECT_EQ(run(sweeper), 1);
  EXPECT_EQ(run(sweeper), 0);  // gone: nothing left to sweep
  EXPECT_EQ(metrics_.GetCounter("agentd_threads_expired_total", "").value(), 1u);
  EXPECT_EQ(Get("/threads/" + std::string(kExpired)).status, 404);
  EXPECT_EQ(Get("/threads/" + live).status, 200);
}

}  // namespace
}  // namespace agentd::api::testing
