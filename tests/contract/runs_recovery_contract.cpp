// RunStore crash-recovery contract: ListByStatus and NextAttempt.
#include "storage_contract.hpp"

namespace agentd::storage::contract {
namespace {

std::vector<std::string> Ids(const std::vector<model::Run>& runs) {
  std::vector<std::string> out;
  for (const auto& r : runs) out.push_back(r.run_id);
  return out;
}

TEST_P(StorageContract, ListByStatusFindsEveryTenantsRunsOldestFirst) {
  Ok(s().threads().Create(NewThread("t1", "{}", "a"), IfExists::kRaise));
  Ok(s().threads().Create(NewThread("t2", "{}", "b"), IfExists::kRaise));
  Ok(s().runs().Create(NewRun("r1", "t1", "asst", "a")));
  Advance(5);
  Ok(s().runs().Create(NewRun("r2", "t2", "asst", "b")));
  Ok(s().runs().Create(NewRun("r3", "t1", "asst", "a")));  // same timestamp: insertion order
  Advance(5);
  Ok(s().runs().Create(NewRun("r4", "t2", "asst", "b")));
  Ok(s().runs().SetStatus("a", "r1", model::RunStatus::kRunning));
  Ok(s().runs().SetStatus("b", "r4", model::RunStatus::kSuccess));

  std::vector<model::RunStatus> active{model::RunStatus::kPending, model::RunStatus::kRunning};
  auto found = Ok(s().runs().ListByStatus(active, 100));
  EXPECT_EQ(Ids(found), (std::vector<std::string>{"r1", "r2", "r3"}));
  EXPECT_EQ(found[0].status, model::RunStatus::kRunning);
  EXPECT_EQ(found[1].tenant, "b");
  EXPECT_EQ(Ids(Ok(s().runs().ListByStatus(active, 2))), (std::vector<std::string>{"r1", "r2"}));
  std::vector<model::RunStatus> done{model::RunStatus::kSuccess};
  EXPECT_EQ(Ids(Ok(s().runs().ListByStatus(done, 100))), std::vector<std::string>{"r4"});
  EXPECT_TRUE(Ok(s().runs().ListByStatus({}, 100)).empty());
}

TEST_P(StorageContract, NextAttemptCountsFromOneAndIsPerRun) {
  Ok(s().threads().Create(NewThread("t1", "{}", "a"), IfExists::kRaise));
  Ok(s().runs().Create(NewRun("r1", "t1", "asst", "a")));
  Ok(s().runs().Create(NewRun("r2", "t1", "asst", "a")));
  EXPECT_EQ(Ok(s().runs().NextAttempt("a", "r1")), 2);
  EXPECT_EQ(Ok(s().runs().NextAttempt("a", "r1")), 3);
  EXPECT_EQ(Ok(s().runs().NextAttempt("a", "r2")), 2);
  EXPECT_EQ(Fails(s().runs().NextAttempt("b", "r1")), Errc::kNotFound);
  EXPECT_EQ(Fails(s().runs().NextAttempt("a", "nope")), Errc::kNotFound);
  // The run itself is unchanged.
  EXPECT_EQ(Ok(s().runs().Get("a", "r1")).status, model::RunStatus::kPending);
}

}  // namespace
}  // namespace agentd::storage::contract
