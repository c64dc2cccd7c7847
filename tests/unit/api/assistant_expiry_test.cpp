// Assistant TTL: `ttl` on create and patch, an expired assistant answers 404 with the reason and
// is left out of listings, and the sweeper deletes it (logged and counted) unless a run of it is
// still pending or running.
#include "api/system_assistants.hpp"
#include "api/thread_expiry.hpp"
#include "api_fixture.hpp"
#include "storage/query.hpp"
#include "support/run_co.hpp"

namespace agentd::api::testing {
namespace {

constexpr std::string_view kExpired = "eeeeeeee-0000-4000-8000-0000000000a1";

class AssistantExpiryTest : public ApiTest {
 protected:
  template <class T>
  T Run(boost::asio::awaitable<T> task) {
    return agentd::testing::RunCo(std::move(task), std::chrono::seconds(5));
  }

  // An assistant of `tenant` that expired a minute ago; returns its expires_at.
  TimestampMs MakeExpired(std::string tenant = "") {
    model::Assistant a;
    a.tenant = std::move(tenant);
    a.assistant_id = std::string(kExpired);
    a.graph_id = "agent";
    a.expires_at = NowMs() - 60'000;
    auto created = Run(storage_->assistants().Create(std::move(a), storage::IfExists::kRaise));
    EXPECT_TRUE(created);
    return created ? created->expires_at : 0;
  }

  std::string Reason(TimestampMs at) {
    return "Assistant " + std::string(kExpired) + " expired at " + FormatIso8601(at);
  }

  std::int64_t StoredExpiry(const std::string& id) {
    auto a = Run(storage_->assistants().Get("", id));
    EXPECT_TRUE(a) << id;
    return a ? a->expires_at : -1;
  }

  std::int64_t Sweep() {
    boost::asio::io_context io;
    ThreadSweeper sweeper(io.get_executor(), *storage_, nullptr, metrics_);
    return Run(sweeper.SweepOnce());
  }
};

TEST_F(AssistantExpiryTest, TtlOnCreateAndPatchIsStoredAsExpiresAt) {
  const TimestampMs before = NowMs();
  Reply created = Post("/assistants", R"({"graph_id":"agent","ttl":2})");
  ASSERT_EQ(created.status, 200) << created.body;
  std::string id = Str(created.Json().at("assistant_id"));
  EXPECT_GE(StoredExpiry(id), before + 120'000);
  EXPECT_LE(StoredExpiry(id), NowMs() + 120'000);

  Reply patched = Patch("/assistants/" + id, R"({"ttl":{"ttl":60,"strategy":"delete"}})");
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_GE(StoredExpiry(id), before + 3'600'000);

  Reply plain = Post("/assistants", R"({"graph_id":"agent"})");
  EXPECT_EQ(StoredExpiry(Str(plain.Json().at("assistant_id"))), 0);
}

TEST_F(AssistantExpiryTest, InvalidTtlIsA400ListingTheField) {
  for (std::string body : {R"({"graph_id":"agent","ttl":0})", R"({"graph_id":"agent","ttl":"x"})",
                           R"({"graph_id":"agent","ttl":{"ttl":5,"strategy":"keep"}})"}) {
    Reply r = Post("/assistants", body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_NE(r.body.find("ttl"), std::string::npos) << r.body;
  }
  EXPECT_EQ(Post("/assistants/count", "{}").body, "2");  // only the two system assistants
}

TEST_F(AssistantExpiryTest, ExpiredAssistantAnswers404WithTheReason) {
  TimestampMs at = MakeExpired();
  std::string id(kExpired);
  for (Reply r : {Get("/assistants/" + id), Patch("/assistants/" + id, R"({"ttl":60})"),
                  Post("/assistants/" + id + "/versions", "{}"),
                  Post("/assistants/" + id + "/latest", R"({"version":1})")}) {
    EXPECT_EQ(r.status, 404) << r.body;
    EXPECT_EQ(r.Detail(), Reason(at));
  }
  // A missing one keeps the protocol's text.
  Reply missing = Get("/assistants/" + std::string(kMissingId));
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body.find("expired"), std::string::npos) << missing.body;
}

TEST_F(AssistantExpiryTest, ExpiredAssistantIsLeftOutOfSearchAndCount) {
  MakeExpired();
  Reply search = Post("/assistants/search", "{}");
  ASSERT_EQ(search.status, 200);
  const json::value listed = search.Json();  // kept alive: the loop walks into it
  for (const auto& a : listed.as_array()) {
    EXPECT_NE(Str(a.at("assistant_id")), std::string(kExpired));
  }
  EXPECT_EQ(Post("/assistants/count", "{}").body, "2");  // the system assistants
}

TEST_F(AssistantExpiryTest, SweeperDeletesExpiredAssistantsAndCountsThem) {
  MakeExpired();
  Reply live = Post("/assistants", R"({"graph_id":"agent","ttl":60})");
  std::string live_id = Str(live.Json().at("assistant_id"));
  EXPECT_EQ(Sweep(), 1);
  EXPECT_EQ(Sweep(), 0);  // gone: nothing left to sweep
  EXPECT_EQ(metrics_.GetCounter("agentd_assistants_expired_total", "").value(), 1u);
  EXPECT_TRUE(Run(storage_->assistants().ListExpired(NowMs(), 10)).value().empty());
  EXPECT_EQ(Get("/assistants/" + live_id).status, 200);
  Reply gone = Get("/assistants/" + std::string(kExpired));
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(gone.body.find("expired"), std::string::npos) << "deleted, not merely expired";
}

TEST_F(AssistantExpiryTest, SweeperSkipsAnAssistantWithAPendingOrRunningRun) {
  MakeExpired();
  std::string thread = NewThread();
  model::Run run;
  run.run_id = "11111111-0000-4000-8000-000000000001";
  run.thread_id = thread;
  run.assistant_id = std::string(kExpired);
  run.status = model::RunStatus::kRunning;
  ASSERT_TRUE(Run(storage_->runs().Create(run)));
  EXPECT_EQ(Sweep(), 0);
  EXPECT_EQ(Run(storage_->assistants().ListExpired(NowMs(), 10)).value().size(), 1u);

  ASSERT_TRUE(Run(storage_->runs().SetStatus("", run.run_id, model::RunStatus::kSuccess)));
  EXPECT_EQ(Sweep(), 1);
  EXPECT_TRUE(Run(storage_->assistants().ListExpired(NowMs(), 10)).value().empty());
}

// The system-assistant decorator (apps/agentd wraps storage in it) must pass a tenant's expiry
// through instead of looking for a system assistant of that id.
TEST_F(AssistantExpiryTest, SharedSystemAssistantsKeepTheTenantsExpiry) {
  TimestampMs at = MakeExpired("tenant-a");
  auto shared = MakeSharedSystemAssistants(*storage_);
  auto got = Run(shared->assistants().Get("tenant-a", std::string(kExpired)));
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().message, Reason(at));
  storage::AssistantPatch patch;
  auto updated = Run(shared->assistants().Update("tenant-a", std::string(kExpired), patch));
  ASSERT_FALSE(updated);
  EXPECT_EQ(updated.error().message, Reason(at));
  EXPECT_EQ(Run(shared->assistants().ListExpired(NowMs(), 10)).value().size(), 1u);
}

}  // namespace
}  // namespace agentd::api::testing
