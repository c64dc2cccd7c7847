// ThreadStore and RunStore contract.
#include "contract/storage_contract.hpp"

namespace agentd::storage::contract {
namespace {

std::vector<std::string> Ids(const std::vector<model::Thread>& v) {
  std::vector<std::string> out;
  for (const auto& t : v) out.push_back(t.thread_id);
  return out;
}
std::vector<std::string> RunIds(const std::vector<model::Run>& v) {
  std::vector<std::string> out;
  for (const auto& r : v) out.push_back(r.run_id);
  return out;
}

TEST_P(StorageContract, ThreadCreateSetsTimestampsAndIfExistsBehaves) {
  auto t = Ok(s().threads().Create(NewThread("t1", R"({"graph_id":"agent"})"), IfExists::kRaise));
  EXPECT_EQ(t.created_at, Now());
  EXPECT_EQ(t.updated_at, Now());
  EXPECT_EQ(t.state_updated_at, Now());
  EXPECT_EQ(t.status, model::ThreadStatus::kIdle);
  EXPECT_TRUE(t.values.is_null());
  EXPECT_EQ(Fails(s().threads().Create(NewThread("t1"), IfExists::kRaise)), Errc::kConflict);
  auto kept = Ok(s().threads().Create(NewThread("t1", R"({"x":1})"), IfExists::kDoNothing));
  EXPECT_EQ(kept.metadata, Obj(R"({"graph_id":"agent"})"));
  EXPECT_EQ(Fails(s().threads().Get("", "missing")), Errc::kNotFound);
}

TEST_P(StorageContract, ThreadUpdateMergesMetadataReplacesValuesAndBumpsTimestamps) {
  Ok(s().threads().Create(NewThread("t1", R"({"a":1,"b":1})"), IfExists::kRaise));
  Advance(500);
  ThreadPatch p;
  p.metadata = Obj(R"({"b":2})");
  p.status = model::ThreadStatus::kBusy;
  auto t = Ok(s().threads().Update("", "t1", p));
  EXPECT_EQ(t.metadata, Obj(R"({"a":1,"b":2})"));
  EXPECT_EQ(t.status, model::ThreadStatus::kBusy);
  EXPECT_EQ(t.updated_at, kStart + 500);
  EXPECT_EQ(t.state_updated_at, kStart);  // values untouched
  Advance(500);
  ThreadPatch v;
  v.values = Val(R"({"messages":[1,2]})");
  v.interrupts = Obj(R"({"task":[{"value":"q"}]})");
  v.error = Val(R"({"message":"boom"})");
  v.config = Obj(R"({"configurable":{"k":1}})");
  v.expires_at = kStart + 99'000;  // still in the future: an expired thread reads as missing
  Ok(s().threads().Update("", "t1", v));
  auto got = Ok(s().threads().Get("", "t1"));
  EXPECT_EQ(got.values, Val(R"({"messages":[1,2]})"));
  EXPECT_EQ(got.interrupts, Obj(R"({"task":[{"value":"q"}]})"));
  EXPECT_EQ(got.error, Val(R"({"message":"boom"})"));
  EXPECT_EQ(got.config, Obj(R"({"configurable":{"k":1}})"));
  EXPECT_EQ(got.expires_at, kStart + 99'000);
  EXPECT_EQ(got.state_updated_at, kStart + 1000);
  EXPECT_EQ(got.status, model::ThreadStatus::kBusy);
  EXPECT_EQ(Fails(s().threads().Update("", "missing", p)), Errc::kNotFound);
}

TEST_P(StorageContract, ThreadSearchByIdsStatusMetadataAndValues) {
  for (int i = 0; i < 4; ++i) {
    std::string md = i < 2 ? R"({"user":{"id":"u1","x":1}})" : R"({"user":{"id":"u2"}})";
    Ok(s().threads().Create(NewThread("t" + std::to_string(i), md), IfExists::kRaise));
    Advance(10);
  }
  ThreadPatch busy;
  busy.status = model::ThreadStatus::kBusy;
  busy.values = Val(R"({"topic":"cats","n":1})");
  Ok(s().threads().Update("", "t1", busy));
  Ok(s().threads().Update("", "t2", busy));

  ThreadQuery q;
  q.sort_order = model::SortOrder::kAsc;
  q.metadata = Obj(R"({"user":{"id":"u1"}})");
  EXPECT_EQ(Ids(Ok(s().threads().Search(q)).items), (std::vector<std::string>{"t0", "t1"}));

  ThreadQuery by_status;
  by_status.sort_order = model::SortOrder::kAsc;
  by_status.status = model::ThreadStatus::kBusy;
  EXPECT_EQ(Ids(Ok(s().threads().Search(by_status)).items),
            (std::vector<std::string>{"t1", "t2"}));
  EXPECT_EQ(Ok(s().threads().Count(by_status)), 2);

  ThreadQuery by_values;
  by_values.values = Obj(R"({"topic":"cats"})");
  by_values.metadata = Obj(R"({"user":{"id":"u2"}})");
  EXPECT_EQ(Ids(Ok(s().threads().Search(by_values)).items), (std::vector<std::string>{"t2"}));

  ThreadQuery by_ids;
  by_ids.sort_order = model::SortOrder::kAsc;
  by_ids.ids = std::vector<std::string>{"t3", "t0", "nope"};
  auto page = Ok(s().threads().Search(by_ids));
  EXPECT_EQ(Ids(page.items), (std::vector<std::string>{"t0", "t3"}));
  EXPECT_EQ(page.total, 2);
}

TEST_P(StorageContract, ThreadSearchSortsAndPaginatesWithExactTotal) {
  for (int i = 0; i < 5; ++i) {
    Ok(s().threads().Create(NewThread("t" + std::to_string(i), R"({"k":"v"})"),
                            IfExists::kRaise));
    Advance(10);
  }
  ThreadPatch busy;
  busy.status = model::ThreadStatus::kBusy;
  Ok(s().threads().Update("", "t0", busy));

  ThreadQuery q;  // created_at desc
  q.metadata = Obj(R"({"k":"v"})");
  q.limit = 2;
  q.offset = 2;
  auto page = Ok(s().threads().Search(q));
  EXPECT_EQ(Ids(page.items), (std::vector<std::string>{"t2", "t1"}));
  EXPECT_EQ(page.total, 5);

  ThreadQuery by_status;
  by_status.sort_by = "status";
  by_status.sort_order = model::SortOrder::kAsc;  // "busy" < "idle"
  by_status.limit = 1;
  EXPECT_EQ(Ids(Ok(s().threads().Search(by_status)).items), (std::vector<std::string>{"t0"}));

  ThreadQuery by_updated;
  by_updated.sort_by = "updated_at";
  by_updated.limit = 1;
  EXPECT_EQ(Ids(Ok(s().threads().Search(by_updated)).items), (std::vector<std::string>{"t0"}));

  ThreadQuery by_id;
  by_id.sort_by = "thread_id";
  by_id.sort_order = model::SortOrder::kDesc;
  by_id.limit = 2;
  EXPECT_EQ(Ids(Ok(s().threads().Search(by_id)).items), (std::vector<std::string>{"t4", "t3"}));
}

TEST_P(StorageContract, ThreadDeleteCascadesRunsAndCheckpoints) {
  Ok(s().threads().Create(NewThread("t1"), IfExists::kRaise));
  Ok(s().threads().Create(NewThread("t2"), IfExists::kRaise));
  Ok(s().runs().Create(NewRun("r1", "t1")));
  Ok(s().runs().Create(NewRun("r2", "t2")));
  Ok(s().checkpoints().Put(NewCheckpoint("t1", "c1", std::nullopt, {"m1"})));
  Ok(s().checkpoints().Put(NewCheckpoint("t2", "c1", std::nullopt, {"m2"})));
  Ok(s().threads().Delete("", "t1"));
  EXPECT_EQ(Fails(s().threads().Get("", "t1")), Errc::kNotFound);
  EXPECT_EQ(Fails(s().runs().Get("", "r1")), Errc::kNotFound);
  EXPECT_EQ(Fails(s().checkpoints().Get("t1", "c1")), Errc::kNotFound);
  EXPECT_FALSE(Ok(s().checkpoints().Latest("t1", "")).has_value());
  EXPECT_EQ(Fails(s().threads().Delete("", "t1")), Errc::kNotFound);
  // The other thread is untouched.
  Ok(s().runs().Get("", "r2"));
  EXPECT_EQ(Ok(s().checkpoints().MessageWrites("t2", "c1")), Val(R"(["m2"])").as_array());
}

TEST_P(StorageContract, ThreadCopyCopiesStateAndCheckpointsKeepingIds) {
  auto src = NewThread("t1", R"({"owner":"me","n":1})");
  Ok(s().threads().Create(src, IfExists::kRaise));
  ThreadPatch p;
  p.values = Val(R"({"messages":["m1","m2"]})");
  p.config = Obj(R"({"configurable":{"k":1}})");
  p.status = model::ThreadStatus::kBusy;
  Ok(s().threads().Update("", "t1", p));
  Ok(s().checkpoints().Put(NewCheckpoint("t1", "c1", std::nullopt, {"m1"})));
  Ok(s().checkpoints().Put(NewCheckpoint("t1", "c2", "c1", {"m2"})));
  Advance(100);
  auto copy = Ok(s().threads().Copy("", "t1", "t2", Obj(R"({"n":2,"thread_id":"t2"})")));
  EXPECT_EQ(copy.thread_id, "t2");
  EXPECT_EQ(copy.status, model::ThreadStatus::kIdle);
  EXPECT_EQ(copy.metadata, Obj(R"({"owner":"me","n":2,"thread_id":"t2"})"));
  EXPECT_EQ(copy.values, Val(R"({"messages":["m1","m2"]})"));
  EXPECT_EQ(copy.config, Obj(R"({"configurable":{"k":1}})"));
  EXPECT_EQ(copy.created_at, kStart + 100);
  EXPECT_EQ(Ok(s().threads().Get("", "t2")).metadata, copy.metadata);
  auto latest = Ok(s().checkpoints().Latest("t2", ""));
  ASSERT_TRUE(latest.has_value());
  EXPECT_EQ(latest->checkpoint_id, "c2");
  EXPECT_EQ(latest->thread_id, "t2");
  EXPECT_EQ(Ok(s().checkpoints().MessageWrites("t2", "c2")), Val(R"(["m1","m2"])").as_array());
  // The copy is independent: deleting the source leaves it whole.
  Ok(s().threads().Delete("", "t1"));
  EXPECT_EQ(Ok(s().checkpoints().List(HistoryQuery{"t2"})).size(), 2u);
  EXPECT_EQ(Fails(s().threads().Copy("", "t1", "t3", {})), Errc::kNotFound);
  EXPECT_EQ(Fails(s().threads().Copy("", "t2", "t2", {})), Errc::kConflict);
}

TEST_P(StorageContract, ThreadsOfAnotherTenantAreInvisible) {
  Ok(s().threads().Create(NewThread("tb", "{}", "b"), IfExists::kRaise));
  Ok(s().runs().Create(NewRun("rb", "tb", "asst", "b")));
  EXPECT_EQ(Fails(s().threads().Get("a", "tb")), Errc::kNotFound);
  EXPECT_EQ(Fails(s().threads().Update("a", "tb", ThreadPatch{})), Errc::kNotFound);
  EXPECT_EQ(Fails(s().threads().Delete("a", "tb")), Errc::kNotFound);
  EXPECT_EQ(Fails(s().threads().Copy("a", "tb", "tc", {})), Errc::kNotFound);
  EXPECT_EQ(Fails(s().threads().Create(NewThread("tb", "{}", "a"), IfExists::kDoNothing)),
            Errc::kConflict);
  ThreadQuery q;
  q.tenant = "a";
  EXPECT_EQ(Ok(s().threads().Search(q)).total, 0);
  EXPECT_EQ(Ok(s().threads().Count(q)), 0);
  EXPECT_EQ(Fails(s().runs().Get("a", "rb")), Errc::kNotFound);
  EXPECT_EQ(Fails(s().runs().SetStatus("a", "rb", model::RunStatus::kError)), Errc::kNotFound);
  EXPECT_EQ(Fails(s().runs().Delete("a", "rb")), Errc::kNotFound);
  RunQuery rq;
  rq.tenant = "a";
  rq.thread_id = "tb";
  EXPECT_EQ(Fails(s().runs().List(rq)), Errc::kNotFound);
  Ok(s().threads().Get("b", "tb"));
  Ok(s().runs().Get("b", "rb"));
}

TEST_P(StorageContract, RunCreateGetSetStatusDelete) {
  Ok(s().threads().Create(NewThread("t1"), IfExists::kRaise));
  auto run = NewRun("r1", "t1", "a1");
  run.metadata = Obj(R"({"m":1})");
  run.kwargs = Obj(R"({"input":{"x":1}})");
  run.multitask_strategy = "enqueue";
  auto created = Ok(s().runs().Create(run));
  EXPECT_EQ(created.created_at, Now());
  EXPECT_EQ(created.status, model::RunStatus::kPending);
  EXPECT_EQ(Fails(s().runs().Create(run)), Errc::kConflict);
  auto got = Ok(s().runs().Get("", "r1"));
  EXPECT_EQ(got.thread_id, "t1");
  EXPECT_EQ(got.assistant_id, "a1");
  EXPECT_EQ(got.metadata, Obj(R"({"m":1})"));
  EXPECT_EQ(got.kwargs, Obj(R"({"input":{"x":1}})"));
  EXPECT_EQ(got.multitask_strategy, "enqueue");
  Advance(7);
  auto done = Ok(s().runs().SetStatus("", "r1", model::RunStatus::kSuccess));
  EXPECT_EQ(done.status, model::RunStatus::kSuccess);
  EXPECT_EQ(done.updated_at, kStart + 7);
  EXPECT_EQ(Ok(s().runs().Get("", "r1")).status, model::RunStatus::kSuccess);
  Ok(s().runs().Delete("", "r1"));
  EXPECT_EQ(Fails(s().runs().Get("", "r1")), Errc::kNotFound);
  EXPECT_EQ(Fails(s().runs().Delete("", "r1")), Errc::kNotFound);
  EXPECT_EQ(Fails(s().runs().SetStatus("", "r1", model::RunStatus::kError)), Errc::kNotFound);
}

TEST_P(StorageContract, RunListNewestFirstWithStatusFilterAndPaging) {
  Ok(s().threads().Create(NewThread("t1"), IfExists::kRaise));
  Ok(s().threads().Create(NewThread("t2"), IfExists::kRaise));
  for (int i = 0; i < 4; ++i) {
    Ok(s().runs().Create(NewRun("r" + std::to_string(i), "t1")));
    Advance(10);
  }
  Ok(s().runs().Create(NewRun("other", "t2")));
  Ok(s().runs().SetStatus("", "r1", model::RunStatus::kSuccess));
  Ok(s().runs().SetStatus("", "r3", model::RunStatus::kSuccess));
  RunQuery q;
  q.thread_id = "t1";
  EXPECT_EQ(RunIds(Ok(s().runs().List(q))), (std::vector<std::string>{"r3", "r2", "r1", "r0"}));
  q.limit = 2;
  q.offset = 1;
  EXPECT_EQ(RunIds(Ok(s().runs().List(q))), (std::vector<std::string>{"r2", "r1"}));
  RunQuery ok;
  ok.thread_id = "t1";
  ok.status = model::RunStatus::kSuccess;
  EXPECT_EQ(RunIds(Ok(s().runs().List(ok))), (std::vector<std::string>{"r3", "r1"}));
  RunQuery missing;
  missing.thread_id = "nope";
  EXPECT_EQ(Fails(s().runs().List(missing)), Errc::kNotFound);
}

}  // namespace
}  // namespace agentd::storage::contract
