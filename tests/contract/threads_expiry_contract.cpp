// ThreadStore TTL contract: ListExpired (every tenant, soonest expiry first) and expired
// threads left out of Search and Count.
#include "storage_contract.hpp"

namespace agentd::storage::contract {
namespace {

std::vector<std::string> Ids(const std::vector<model::Thread>& threads) {
  std::vector<std::string> out;
  for (const auto& t : threads) out.push_back(t.thread_id);
  return out;
}

model::Thread Expiring(std::string id, std::string tenant, TimestampMs expires_at) {
  model::Thread t;
  t.tenant = std::move(tenant);
  t.thread_id = std::move(id);
  t.expires_at = expires_at;
  return t;
}

TEST_P(StorageContract, ListExpiredFindsEveryTenantsPassedThreadsSoonestFirst) {
  Ok(s().threads().Create(Expiring("late", "a", Now() + 300), IfExists::kRaise));
  Ok(s().threads().Create(Expiring("early", "b", Now() + 100), IfExists::kRaise));
  Ok(s().threads().Create(Expiring("never", "a", 0), IfExists::kRaise));
  Ok(s().threads().Create(Expiring("future", "a", Now() + 10'000), IfExists::kRaise));

  EXPECT_TRUE(Ok(s().threads().ListExpired(Now(), 100)).empty());
  auto found = Ok(s().threads().ListExpired(Now() + 300, 100));  // expires_at == now counts
  EXPECT_EQ(Ids(found), (std::vector<std::string>{"early", "late"}));
  EXPECT_EQ(found[0].tenant, "b");
  EXPECT_EQ(found[0].expires_at, Now() + 100);
  EXPECT_EQ(Ids(Ok(s().threads().ListExpired(Now() + 300, 1))),
            std::vector<std::string>{"early"});

  // Deleting an expired thread removes it from the next sweep.
  Ok(s().threads().Delete("b", "early"));
  EXPECT_EQ(Ids(Ok(s().threads().ListExpired(Now() + 300, 100))),
            std::vector<std::string>{"late"});
}

TEST_P(StorageContract, SearchAndCountLeaveOutExpiredThreads) {
  Ok(s().threads().Create(Expiring("soon", "a", Now() + 100), IfExists::kRaise));
  Ok(s().threads().Create(Expiring("never", "a", 0), IfExists::kRaise));
  ThreadQuery q;
  q.tenant = "a";
  EXPECT_EQ(Ok(s().threads().Count(q)), 2);

  Advance(100);
  auto page = Ok(s().threads().Search(q));
  EXPECT_EQ(Ids(page.items), std::vector<std::string>{"never"});
  EXPECT_EQ(page.total, 1);
  EXPECT_EQ(Ok(s().threads().Count(q)), 1);
  // Get still answers: the API decides how an expired thread looks (404 with a reason).
  EXPECT_EQ(Ok(s().threads().Get("a", "soon")).expires_at, kStart + 100);
}

}  // namespace
}  // namespace agentd::storage::contract
