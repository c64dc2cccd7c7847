// AssistantStore TTL contract: expires_at stored on create and patch, ListExpired (every
// tenant, soonest expiry first), expired assistants left out of Search and Count, read as
// kNotFound with the reason, and still deletable (the sweeper).
#include "storage_contract.hpp"

#include "common/time.hpp"
#include "storage/query.hpp"

namespace agentd::storage::contract {
namespace {

std::vector<std::string> Ids(const std::vector<model::Assistant>& assistants) {
  std::vector<std::string> out;
  for (const auto& a : assistants) out.push_back(a.assistant_id);
  return out;
}

model::Assistant Expiring(std::string id, std::string tenant, TimestampMs expires_at) {
  model::Assistant a;
  a.tenant = std::move(tenant);
  a.assistant_id = std::move(id);
  a.graph_id = "agent";
  a.expires_at = expires_at;
  return a;
}

TEST_P(StorageContract, AssistantExpiryIsStoredOnCreateAndPatch) {
  EXPECT_EQ(Ok(s().assistants().Create(Expiring("x", "a", Now() + 500), IfExists::kRaise))
                .expires_at,
            kStart + 500);
  EXPECT_EQ(Ok(s().assistants().Get("a", "x")).expires_at, kStart + 500);

  AssistantPatch patch;
  patch.expires_at = Now() + 900;
  EXPECT_EQ(Ok(s().assistants().Update("a", "x", patch)).expires_at, kStart + 900);
  EXPECT_EQ(Ok(s().assistants().Get("a", "x")).expires_at, kStart + 900);
  // A patch without a TTL keeps it; a version switch keeps it (it is not versioned).
  AssistantPatch rename;
  rename.name = "renamed";
  EXPECT_EQ(Ok(s().assistants().Update("a", "x", rename)).expires_at, kStart + 900);
  EXPECT_EQ(Ok(s().assistants().SetLatest("a", "x", 1)).expires_at, kStart + 900);
  patch.expires_at = 0;  // cleared
  Ok(s().assistants().Update("a", "x", patch));
  Advance(10'000);
  EXPECT_EQ(Ok(s().assistants().Get("a", "x")).expires_at, 0);
}

TEST_P(StorageContract, ListExpiredFindsEveryTenantsPassedAssistantsSoonestFirst) {
  Ok(s().assistants().Create(Expiring("late", "a", Now() + 300), IfExists::kRaise));
  Ok(s().assistants().Create(Expiring("early", "b", Now() + 100), IfExists::kRaise));
  Ok(s().assistants().Create(Expiring("never", "a", 0), IfExists::kRaise));
  Ok(s().assistants().Create(Expiring("future", "a", Now() + 10'000), IfExists::kRaise));

  EXPECT_TRUE(Ok(s().assistants().ListExpired(Now(), 100)).empty());
  auto found = Ok(s().assistants().ListExpired(Now() + 300, 100));  // expires_at == now counts
  EXPECT_EQ(Ids(found), (std::vector<std::string>{"early", "late"}));
  EXPECT_EQ(found[0].tenant, "b");
  EXPECT_EQ(found[0].expires_at, Now() + 100);
  EXPECT_EQ(Ids(Ok(s().assistants().ListExpired(Now() + 300, 1))),
            std::vector<std::string>{"early"});

  Ok(s().assistants().Delete("b", "early", false));
  EXPECT_EQ(Ids(Ok(s().assistants().ListExpired(Now() + 300, 100))),
            std::vector<std::string>{"late"});
}

TEST_P(StorageContract, ExpiredAssistantIsLeftOutOfSearchAndCount) {
  Ok(s().assistants().Create(Expiring("soon", "a", Now() + 100), IfExists::kRaise));
  Ok(s().assistants().Create(Expiring("never", "a", 0), IfExists::kRaise));
  AssistantQuery q;
  q.tenant = "a";
  EXPECT_EQ(Ok(s().assistants().Count(q)), 2);

  Advance(100);
  auto page = Ok(s().assistants().Search(q));
  EXPECT_EQ(Ids(page.items), std::vector<std::string>{"never"});
  EXPECT_EQ(page.total, 1);
  EXPECT_EQ(Ok(s().assistants().Count(q)), 1);
}

TEST_P(StorageContract, ExpiredAssistantReadsAsNotFoundWithTheReason) {
  Ok(s().assistants().Create(Expiring("soon", "a", Now() + 100), IfExists::kRaise));
  Advance(100);
  const std::string reason = "Assistant soon expired at " + FormatIso8601(kStart + 100);
  auto expect_reason = [&](const auto& result) {
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code, Errc::kNotFound);
    EXPECT_EQ(result.error().message, reason);
    EXPECT_TRUE(IsExpiredError(result.error()));
  };
  expect_reason(Run(s().assistants().Get("a", "soon")));
  AssistantPatch patch;
  patch.expires_at = 0;  // an expired assistant cannot be revived by a patch
  expect_reason(Run(s().assistants().Update("a", "soon", patch)));
  expect_reason(Run(s().assistants().ListVersions("a", "soon", std::nullopt, 10, 0)));
  expect_reason(Run(s().assistants().SetLatest("a", "soon", 1)));
  expect_reason(Run(s().assistants().Create(Expiring("soon", "a", 0), IfExists::kDoNothing)));
  EXPECT_EQ(Fails(s().assistants().Create(Expiring("soon", "a", 0), IfExists::kRaise)),
            Errc::kConflict);
  // Another tenant sees a plain "missing", never the other tenant's expiry.
  auto other = Run(s().assistants().Get("b", "soon"));
  ASSERT_FALSE(other);
  EXPECT_FALSE(IsExpiredError(other.error()));

  // Delete still deletes it (the sweeper); then it is plainly gone.
  Ok(s().assistants().Delete("a", "soon", false));
  auto gone = Run(s().assistants().Get("a", "soon"));
  ASSERT_FALSE(gone);
  EXPECT_FALSE(IsExpiredError(gone.error()));
  EXPECT_TRUE(Ok(s().assistants().ListExpired(Now(), 100)).empty());
}

}  // namespace
}  // namespace agentd::storage::contract
