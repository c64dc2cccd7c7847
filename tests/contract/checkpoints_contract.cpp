// CheckpointStore contract.
#include "contract/storage_contract.hpp"

namespace agentd::storage::contract {
namespace {

std::vector<std::string> Ids(const std::vector<model::Checkpoint>& v) {
  std::vector<std::string> out;
  for (const auto& c : v) out.push_back(c.checkpoint_id);
  return out;
}

TEST_P(StorageContract, CheckpointPutGetRoundTripsEveryField) {
  auto c = NewCheckpoint("t1", "c1", std::nullopt, {"m1", "m2"}, R"({"source":"input","step":-1})");
  c.run_id = "r1";
  c.next = Val(R"(["agent"])").as_array();
  c.tasks = Val(R"([{"id":"x","name":"agent"}])").as_array();
  c.channels = Obj(R"({"count":3})");
  c.created_at = 1234;
  Ok(s().checkpoints().Put(c));
  auto got = Ok(s().checkpoints().Get("t1", "c1"));
  EXPECT_EQ(got.checkpoint_ns, "");
  EXPECT_FALSE(got.parent_checkpoint_id.has_value());
  EXPECT_EQ(got.run_id, "r1");
  EXPECT_EQ(got.metadata, c.metadata);
  EXPECT_EQ(got.next, c.next);
  EXPECT_EQ(got.tasks, c.tasks);
  EXPECT_EQ(got.channels, c.channels);
  EXPECT_EQ(got.appended_messages, c.appended_messages);
  EXPECT_EQ(got.message_count, 2);
  EXPECT_EQ(got.created_at, 1234);
  // Without a created_at the backend stamps one.
  Ok(s().checkpoints().Put(NewCheckpoint("t1", "c2", "c1")));
  EXPECT_EQ(Ok(s().checkpoints().Get("t1", "c2")).created_at, Now());
  EXPECT_EQ(Fails(s().checkpoints().Put(NewCheckpoint("t1", "c1", std::nullopt))),
            Errc::kConflict);
  EXPECT_EQ(Fails(s().checkpoints().Get("t1", "c9")), Errc::kNotFound);
  EXPECT_EQ(Fails(s().checkpoints().Get("t2", "c1")), Errc::kNotFound);
}

TEST_P(StorageContract, CheckpointLatestIsNewestIdOfTheNamespace) {
  EXPECT_FALSE(Ok(s().checkpoints().Latest("t1", "")).has_value());
  Ok(s().checkpoints().Put(NewCheckpoint("t1", "c1", std::nullopt)));
  Ok(s().checkpoints().Put(NewCheckpoint("t1", "c3", "c1")));
  Ok(s().checkpoints().Put(NewCheckpoint("t1", "c2", "c1")));  // written last, older id
  Ok(s().checkpoints().Put(NewCheckpoint("t1", "c9", std::nullopt, {}, "{}", "sub:1")));
  Ok(s().checkpoints().Put(NewCheckpoint("t2", "c8", std::nullopt)));
  EXPECT_EQ(Ok(s().checkpoints().Latest("t1", ""))->checkpoint_id, "c3");
  EXPECT_EQ(Ok(s().checkpoints().Latest("t1", "sub:1"))->checkpoint_id, "c9");
  EXPECT_FALSE(Ok(s().checkpoints().Latest("t1", "sub:2")).has_value());
}

TEST_P(StorageContract, CheckpointListNewestFirstWithBeforeLimitAndMetadata) {
  Ok(s().checkpoints().Put(NewCheckpoint("t1", "c1", std::nullopt, {}, R"({"source":"input"})")));
  Ok(s().checkpoints().Put(NewCheckpoint("t1", "c2", "c1", {}, R"({"source":"loop"})")));
  Ok(s().checkpoints().Put(NewCheckpoint("t1", "c3", "c2", {}, R"({"source":"loop"})")));
  Ok(s().checkpoints().Put(NewCheckpoint("t1", "c4", "c3", {}, R"({"source":"input"})")));
  Ok(s().checkpoints().Put(NewCheckpoint("t1", "c5", std::nullopt, {}, "{}", "sub")));
  HistoryQuery q{"t1"};
  EXPECT_EQ(Ids(Ok(s().checkpoints().List(q))), (std::vector<std::string>{"c4", "c3", "c2", "c1"}));
  q.limit = 2;
  EXPECT_EQ(Ids(Ok(s().checkpoints().List(q))), (std::vector<std::string>{"c4", "c3"}));
  q.before = "c3";
  EXPECT_EQ(Ids(Ok(s().checkpoints().List(q))), (std::vector<std::string>{"c2", "c1"}));
  HistoryQuery by_md{"t1"};
  by_md.metadata = Obj(R"({"source":"input"})");
  by_md.limit = 1;
  EXPECT_EQ(Ids(Ok(s().checkpoints().List(by_md))), (std::vector<std::string>{"c4"}));
  by_md.limit = 10;
  EXPECT_EQ(Ids(Ok(s().checkpoints().List(by_md))), (std::vector<std::string>{"c4", "c1"}));
  HistoryQuery sub{"t1", "sub"};
  EXPECT_EQ(Ids(Ok(s().checkpoints().List(sub))), (std::vector<std::string>{"c5"}));
  EXPECT_TRUE(Ok(s().checkpoints().List(HistoryQuery{"none"})).empty());
}

TEST_P(StorageContract, CheckpointMessageWritesFollowOnlyTheirOwnBranch) {
  // c1 -> c2 -> {c3a, c3b}: two children of one parent (a fork, e.g. an edited message).
  Ok(s().checkpoints().Put(NewCheckpoint("t1", "c1", std::nullopt, {"hi", "hello"})));
  Ok(s().checkpoints().Put(NewCheckpoint("t1", "c2", "c1", {})));
  Ok(s().checkpoints().Put(NewCheckpoint("t1", "c3a", "c2", {"a1", "a2"})));
  Ok(s().checkpoints().Put(NewCheckpoint("t1", "c3b", "c2", {"b1"})));
  Ok(s().checkpoints().Put(NewCheckpoint("t1", "c4b", "c3b", {"b2"})));
  EXPECT_EQ(Ok(s().checkpoints().MessageWrites("t1", "c1")), Val(R"(["hi","hello"])").as_array());
  EXPECT_EQ(Ok(s().checkpoints().MessageWrites("t1", "c2")), Val(R"(["hi","hello"])").as_array());
  EXPECT_EQ(Ok(s().checkpoints().MessageWrites("t1", "c3a")),
            Val(R"(["hi","hello","a1","a2"])").as_array());
  EXPECT_EQ(Ok(s().checkpoints().MessageWrites("t1", "c4b")),
            Val(R"(["hi","hello","b1","b2"])").as_array());
  EXPECT_EQ(Fails(s().checkpoints().MessageWrites("t1", "nope")), Errc::kNotFound);
}

TEST_P(StorageContract, CheckpointRemoveDropsCheckpointsAndTheirMessages) {
  Ok(s().checkpoints().Put(NewCheckpoint("t1", "c1", std::nullopt, {"m1"})));
  Ok(s().checkpoints().Put(NewCheckpoint("t1", "c2", "c1", {"m2"})));
  Ok(s().checkpoints().Put(NewCheckpoint("t1", "c3", "c2", {"m3"})));
  std::vector<std::string> doomed{"c2", "c3", "never-existed"};
  Ok(s().checkpoints().Remove("t1", doomed));
  EXPECT_EQ(Ids(Ok(s().checkpoints().List(HistoryQuery{"t1"}))), (std::vector<std::string>{"c1"}));
  EXPECT_EQ(Ok(s().checkpoints().Latest("t1", ""))->checkpoint_id, "c1");
  EXPECT_EQ(Fails(s().checkpoints().MessageWrites("t1", "c3")), Errc::kNotFound);
  // The id is free again, and its old message rows are gone.
  Ok(s().checkpoints().Put(NewCheckpoint("t1", "c2", "c1", {"new"})));
  EXPECT_EQ(Ok(s().checkpoints().MessageWrites("t1", "c2")), Val(R"(["m1","new"])").as_array());
}

}  // namespace
}  // namespace agentd::storage::contract
