// RunStore usage contract: SetUsage records a finished run's token usage durably and per tenant.
#include "storage_contract.hpp"

namespace agentd::storage::contract {
namespace {

TEST_P(StorageContract, RunUsageIsEmptyUntilSetThenReadBackEverywhere) {
  Ok(s().threads().Create(NewThread("t1", "{}", "a"), IfExists::kRaise));
  auto created = Ok(s().runs().Create(NewRun("r1", "t1", "asst", "a")));
  EXPECT_TRUE(created.usage.empty());
  EXPECT_TRUE(Ok(s().runs().Get("a", "r1")).usage.empty());

  Advance(5);
  json::object usage = Obj(R"({"input_tokens": 12, "output_tokens": 30, "total_tokens": 42})");
  Ok(s().runs().SetUsage("a", "r1", usage));
  auto got = Ok(s().runs().Get("a", "r1"));
  EXPECT_EQ(got.usage, usage);
  EXPECT_EQ(got.updated_at, created.updated_at);  // usage is not a status change
  // Every read path maps the column.
  RunQuery query;
  query.tenant = "a";
  query.thread_id = "t1";
  auto listed = Ok(s().runs().List(query));
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].usage, usage);
  EXPECT_EQ(Ok(s().runs().SetStatus("a", "r1", model::RunStatus::kSuccess)).usage, usage);
  std::vector<model::RunStatus> done{model::RunStatus::kSuccess};
  auto by_status = Ok(s().runs().ListByStatus(done, 10));
  ASSERT_EQ(by_status.size(), 1u);
  EXPECT_EQ(by_status[0].usage, usage);

  // A second call replaces the first.
  json::object more = Obj(R"({"input_tokens": 1, "output_tokens": 2, "total_tokens": 3})");
  Ok(s().runs().SetUsage("a", "r1", more));
  EXPECT_EQ(Ok(s().runs().Get("a", "r1")).usage, more);
}

TEST_P(StorageContract, RunUsageOfAnotherTenantsOrAMissingRunIsNotFound) {
  Ok(s().threads().Create(NewThread("t1", "{}", "a"), IfExists::kRaise));
  Ok(s().runs().Create(NewRun("r1", "t1", "asst", "a")));
  json::object usage = Obj(R"({"input_tokens": 1, "output_tokens": 1, "total_tokens": 2})");
  EXPECT_EQ(Fails(s().runs().SetUsage("b", "r1", usage)), Errc::kNotFound);
  EXPECT_EQ(Fails(s().runs().SetUsage("a", "nope", usage)), Errc::kNotFound);
  // The refused write left the owner's run untouched.
  EXPECT_TRUE(Ok(s().runs().Get("a", "r1")).usage.empty());
}

}  // namespace
}  // namespace agentd::storage::contract
