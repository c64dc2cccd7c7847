// ThreadStore TTL contract: ListExpired (every tenant, soonest expiry first), expired threads
// left out of Search and Count, and read as kNotFound with the reason.
#include "storage_contract.hpp"

#include "common/time.hpp"
#include "storage/query.hpp"

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
}

// The reader's one read says "expired" (the API keeps the text as the 404's reason): no second
// read is needed to tell an expired thread from a live one.
TEST_P(StorageContract, ExpiredThreadReadsAsNotFoundWithTheReason) {
  Ok(s().threads().Create(Expiring("soon", "a", Now() + 100), IfExists::kRaise));
  EXPECT_EQ(Ok(s().threads().Get("a", "soon")).expires_at, kStart + 100);  // live until then

  Advance(100);  // expires_at == now counts as expired
  const std::string reason = "Thread soon expired at " + FormatIso8601(kStart + 100);
  auto got = Run(s().threads().Get("a", "soon"));
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, Errc::kNotFound);
  EXPECT_EQ(got.error().message, reason);
  EXPECT_TRUE(IsExpiredError(got.error()));
  // Another tenant still sees a plain "missing", never the other tenant's expiry.
  auto other = Run(s().threads().Get("b", "soon"));
  ASSERT_FALSE(other);
  EXPECT_FALSE(IsExpiredError(other.error()));

  auto copied = Run(s().threads().Copy("a", "soon", "copy", {}));
  ASSERT_FALSE(copied);
  EXPECT_EQ(copied.error().message, reason);
  auto again = Run(s().threads().Create(Expiring("soon", "a", 0), IfExists::kDoNothing));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().message, reason);
  EXPECT_EQ(Fails(s().threads().Create(Expiring("soon", "a", 0), IfExists::kRaise)),
            Errc::kConflict);

  // Writers still reach it: a run that was active when the TTL passed records its end, and the
  // sweeper deletes it.
  ThreadPatch patch;
  patch.status = model::ThreadStatus::kIdle;
  Ok(s().threads().Update("a", "soon", patch));
  Ok(s().threads().Delete("a", "soon"));
  EXPECT_FALSE(IsExpiredError(Run(s().threads().Get("a", "soon")).error()));
}

}  // namespace
}  // namespace agentd::storage::contract
