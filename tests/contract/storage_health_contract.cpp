// Storage::Writable (what /ready asks): a working backend says writable, and ordinary
// failures (a conflict, a missing object) are answers, not a sign that writes fail.
#include "storage_contract.hpp"

namespace agentd::storage::contract {
namespace {

TEST_P(StorageContract, FreshStorageIsWritable) {
  std::string why = "untouched";
  EXPECT_TRUE(s().Writable(&why));
  EXPECT_EQ(why, "untouched");  // only set when not writable
}

TEST_P(StorageContract, ConflictsAndMissingObjectsLeaveStorageWritable) {
  Ok(s().threads().Create(NewThread("t1"), IfExists::kRaise));
  EXPECT_EQ(Fails(s().threads().Create(NewThread("t1"), IfExists::kRaise)), Errc::kConflict);
  EXPECT_EQ(Fails(s().threads().Get("", "missing")), Errc::kNotFound);
  EXPECT_EQ(Fails(s().runs().SetStatus("", "missing", model::RunStatus::kError)), Errc::kNotFound);
  std::string why;
  EXPECT_TRUE(s().Writable(&why)) << why;
}

}  // namespace
}  // namespace agentd::storage::contract
