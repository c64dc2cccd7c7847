// RunStore trace contract: SetTrace stores a run's trace text as given, GetTrace reads it back
// for the run's own tenant and thread only, and the trace goes with its run.
#include "storage_contract.hpp"

namespace agentd::storage::contract {
namespace {

TEST_P(StorageContract, RunTraceIsAbsentUntilSetThenReadBackAsStored) {
  Ok(s().threads().Create(NewThread("t1", "{}", "a"), IfExists::kRaise));
  auto created = Ok(s().runs().Create(NewRun("r1", "t1", "asst", "a")));
  EXPECT_EQ(Ok(s().runs().GetTrace("a", "t1", "r1")), std::nullopt);

  Advance(5);
  // Stored byte for byte (the endpoint serves it as is), whatever its size.
  std::string trace = R"({"run_id":"r1","status":"success","spans":[{"kind":"node","name":"x"}],)"
                      R"("note":")" + std::string(100'000, 'y') + R"("})";
  Ok(s().runs().SetTrace("a", "r1", trace));
  EXPECT_EQ(Ok(s().runs().GetTrace("a", "t1", "r1")), std::optional<std::string>(trace));
  EXPECT_EQ(Ok(s().runs().Get("a", "r1")).updated_at, created.updated_at);

  // A second write replaces the first (a resumed run's later attempt).
  Ok(s().runs().SetTrace("a", "r1", R"({"run_id":"r1","attempt":2})"));
  EXPECT_EQ(Ok(s().runs().GetTrace("a", "t1", "r1")),
            std::optional<std::string>(R"({"run_id":"r1","attempt":2})"));
}

TEST_P(StorageContract, RunTraceOfAnotherTenantThreadOrAMissingRunIsNotFound) {
  Ok(s().threads().Create(NewThread("t1", "{}", "a"), IfExists::kRaise));
  Ok(s().threads().Create(NewThread("t2", "{}", "a"), IfExists::kRaise));
  Ok(s().runs().Create(NewRun("r1", "t1", "asst", "a")));
  Ok(s().runs().SetTrace("a", "r1", R"({"run_id":"r1"})"));
  EXPECT_EQ(Fails(s().runs().SetTrace("b", "r1", "{}")), Errc::kNotFound);
  EXPECT_EQ(Fails(s().runs().SetTrace("a", "nope", "{}")), Errc::kNotFound);
  EXPECT_EQ(Fails(s().runs().GetTrace("b", "t1", "r1")), Errc::kNotFound);
  EXPECT_EQ(Fails(s().runs().GetTrace("a", "t2", "r1")), Errc::kNotFound);
  EXPECT_EQ(Fails(s().runs().GetTrace("a", "t1", "nope")), Errc::kNotFound);
  // The refused write left the owner's trace untouched.
  EXPECT_EQ(Ok(s().runs().GetTrace("a", "t1", "r1")),
            std::optional<std::string>(R"({"run_id":"r1"})"));
}

TEST_P(StorageContract, RunTraceGoesWithItsRunAndThread) {
  Ok(s().threads().Create(NewThread("t1", "{}", "a"), IfExists::kRaise));
  Ok(s().runs().Create(NewRun("r1", "t1", "asst", "a")));
  Ok(s().runs().Create(NewRun("r2", "t1", "asst", "a")));
  Ok(s().runs().SetTrace("a", "r1", R"({"run_id":"r1"})"));
  Ok(s().runs().SetTrace("a", "r2", R"({"run_id":"r2"})"));
  Ok(s().runs().Delete("a", "r1"));
  EXPECT_EQ(Fails(s().runs().GetTrace("a", "t1", "r1")), Errc::kNotFound);
  // A run created again under the same id starts without one.
  Ok(s().runs().Create(NewRun("r1", "t1", "asst", "a")));
  EXPECT_EQ(Ok(s().runs().GetTrace("a", "t1", "r1")), std::nullopt);
  Ok(s().threads().Delete("a", "t1"));
  EXPECT_EQ(Fails(s().runs().GetTrace("a", "t1", "r2")), Errc::kNotFound);
}

}  // namespace
}  // namespace agentd::storage::contract
