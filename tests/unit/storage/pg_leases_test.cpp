// RunLeases on PostgreSQL as one caller sees it: admission under each multitask strategy, whose
// turn it is, renewal, adoption of expired leases, the Finish fence, cancel requests and the
// one-running-run-per-thread index. Races between instances: pg_leases_race_test.cpp.
#include <algorithm>

#include "unit/storage/pg_leases_fixture.hpp"

namespace agentd::storage::postgres::leasetest {
namespace {

using model::RunStatus;

// Renew's answer in id order (the interface does not promise one).
std::vector<std::string> Ids(const std::vector<LeaseState>& states) {
  std::vector<std::string> ids;
  for (const auto& s : states) ids.push_back(s.run_id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

// ------------------------------------------------------------------------------- Enqueue

TEST_F(PgLeasesTest, EnqueueStoresAPendingRunOwnedByTheCaller) {
  CreateThread("t");
  model::Run run = NewRun("r1", "t");
  run.status = RunStatus::kRunning;  // whatever the caller says, a new run starts pending
  auto r = Enqueue(run, "reject", "a");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->run.run_id, "r1");
  EXPECT_TRUE(r->cancelled_run_ids.empty());
  auto row = Peek("r1");
  ASSERT_TRUE(row);
  EXPECT_EQ(row->status, "pending");
  EXPECT_EQ(row->owner, "a");
  EXPECT_FALSE(row->cancel_action);
  auto stored = RunCo(storage_->runs().Get("", "r1"), 10s);
  ASSERT_TRUE(stored) << stored.error().message;
  EXPECT_EQ(stored->status, RunStatus::kPending);
  EXPECT_EQ(stored->assistant_id, "asst");
  EXPECT_TRUE(*RunCo(leases_->IsActive("", "r1"), 10s));
  EXPECT_TRUE(*RunCo(leases_->ThreadHasActiveRuns("", "t"), 10s));
}

TEST_F(PgLeasesTest, EnqueueOnAMissingOrForeignThreadIsNotFound) {
  CreateThread("t", "tenant-a");
  auto missing = Enqueue(NewRun("r1", "nope", "tenant-a"), "enqueue", "a");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::kNotFound);
  auto foreign = Enqueue(NewRun("r2", "t", "tenant-b"), "enqueue", "a");
  ASSERT_FALSE(foreign);
  EXPECT_EQ(foreign.error().code, Errc::kNotFound);
  EXPECT_EQ(CountRuns(), 0);
}

TEST_F(PgLeasesTest, RejectOnABusyThreadIsUnprocessableAndWritesNothing) {
  CreateThread("t");
  MustEnqueue(NewRun("r1", "t"), "a");
  auto second = Enqueue(NewRun("r2", "t"), "reject", "a");
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, Errc::kUnprocessable);
  EXPECT_FALSE(Peek("r2"));
  EXPECT_EQ(CountRuns(), 1);
  EXPECT_FALSE(Peek("r1")->cancel_action);
  // The rejected call released the thread's row lock: the thread still takes runs.
  EXPECT_EQ(Claim("r1", "a").kind, Kind::kGranted);
  EXPECT_TRUE(Finish("r1", "a").owned);
  auto third = Enqueue(NewRun("r3", "t"), "reject", "a");
  EXPECT_TRUE(third) << third.error().message;  // only ended runs: not busy
}

TEST_F(PgLeasesTest, EnqueueStrategyQueuesRunsFifo) {
  CreateThread("t");
  for (const char* id : {"r1", "r2", "r3"}) MustEnqueue(NewRun(id, "t"), "a");
  EXPECT_EQ(Claim("r2", "a").kind, Kind::kNotYet);
  EXPECT_EQ(Claim("r3", "a").kind, Kind::kNotYet);
  EXPECT_EQ(Claim("r1", "a").kind, Kind::kGranted);
  EXPECT_EQ(Claim("r2", "a").kind, Kind::kNotYet);  // r1 runs
  EXPECT_EQ(Peek("r2")->status, "pending");

  auto f1 = Finish("r1", "a");
  EXPECT_TRUE(f1.owned);
  EXPECT_TRUE(f1.others_active);
  EXPECT_EQ(Peek("r1")->status, "success");
  EXPECT_FALSE(Peek("r1")->owner);
  EXPECT_EQ(Claim("r3", "a").kind, Kind::kNotYet);  // r2 is older
  EXPECT_EQ(Claim("r2", "a").kind, Kind::kGranted);
  auto f2 = Finish("r2", "a", RunStatus::kError);
  EXPECT_TRUE(f2.owned);
  EXPECT_TRUE(f2.others_active);
  EXPECT_EQ(Peek("r2")->status, "error");
  EXPECT_EQ(Claim("r3", "a").kind, Kind::kGranted);
  auto f3 = Finish("r3", "a");
  EXPECT_TRUE(f3.owned);
  EXPECT_FALSE(f3.others_active);
  EXPECT_FALSE(*RunCo(leases_->ThreadHasActiveRuns("", "t"), 10s));
}

// Both cancel strategies: the active runs are marked and listed, the new run is not, a claim
// on a marked run says so, and the new run waits until the marked ones have ended.
void ExpectCancellingStrategy(PgLeasesTest& fx, const std::string& strategy) {
  fx.CreateThread("t");
  fx.MustEnqueue(PgLeasesTest::NewRun("r1", "t"), "a");
  ASSERT_EQ(fx.Claim("r1", "a").kind, Kind::kGranted);
  fx.MustEnqueue(PgLeasesTest::NewRun("r2", "t"), "b");
  auto r = fx.Enqueue(PgLeasesTest::NewRun("r3", "t"), strategy, "c");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->cancelled_run_ids, (std::vector<std::string>{"r1", "r2"}));
  EXPECT_EQ(fx.Peek("r1")->cancel_action, strategy);
  EXPECT_EQ(fx.Peek("r2")->cancel_action, strategy);
  EXPECT_FALSE(fx.Peek("r3")->cancel_action);

  auto running = fx.Claim("r1", "a");
  EXPECT_EQ(running.kind, Kind::kCancelled);
  EXPECT_EQ(running.cancel_action, strategy);
  auto pending = fx.Claim("r2", "b");
  EXPECT_EQ(pending.kind, Kind::kCancelled);
  EXPECT_EQ(pending.cancel_action, strategy);
  EXPECT_EQ(fx.Peek("r2")->status, "pending");  // a cancelled claim does not start it
  auto renewed = fx.Renew("a", {"r1"});
  ASSERT_EQ(renewed.size(), 1u);
  EXPECT_EQ(renewed[0].cancel_action, strategy);

  EXPECT_EQ(fx.Claim("r3", "c").kind, Kind::kNotYet);
  EXPECT_TRUE(fx.Finish("r1", "a", RunStatus::kInterrupted).others_active);
  EXPECT_EQ(fx.Claim("r3", "c").kind, Kind::kNotYet);  // r2 still pending
  EXPECT_TRUE(fx.Finish("r2", "b", RunStatus::kInterrupted).others_active);
  auto claim = fx.Claim("r3", "c");
  EXPECT_EQ(claim.kind, Kind::kGranted);
  EXPECT_EQ(claim.cancel_action, "");
}

TEST_F(PgLeasesTest, InterruptMarksOlderActiveRunsForCancellation) {
  ExpectCancellingStrategy(*this, "interrupt");
}

TEST_F(PgLeasesTest, RollbackMarksOlderActiveRunsForCancellation) {
  ExpectCancellingStrategy(*this, "rollback");
}

TEST_F(PgLeasesTest, CancellingStrategiesOnAnIdleThreadCancelNothing) {
  CreateThread("t");
  MustEnqueue(NewRun("r1", "t"), "a");
  ASSERT_EQ(Claim("r1", "a").kind, Kind::kGranted);
  ASSERT_TRUE(Finish("r1", "a").owned);
  auto r = Enqueue(NewRun("r2", "t"), "interrupt", "a");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->cancelled_run_ids.empty());
  EXPECT_FALSE(Peek("r1")->cancel_action);  // ended runs are left alone
  EXPECT_EQ(Claim("r2", "a").kind, Kind::kGranted);
}

// ----------------------------------------------------------------------------- ClaimTurn

TEST_F(PgLeasesTest, ClaimingAnotherOwnersRunIsLost) {
  CreateThread("t");
  MustEnqueue(NewRun("r1", "t"), "a");
  EXPECT_EQ(Claim("r1", "b").kind, Kind::kLost);
  EXPECT_EQ(Peek("r1")->status, "pending");
  EXPECT_EQ(Claim("r1", "a").kind, Kind::kGranted);
  EXPECT_EQ(Claim("r1", "b").kind, Kind::kLost);
  EXPECT_EQ(Claim("r1", "a").kind, Kind::kGranted);  // again: still its turn
  EXPECT_EQ(Claim("unknown", "a").kind, Kind::kLost);
  ASSERT_TRUE(Finish("r1", "a").owned);
  EXPECT_EQ(Claim("r1", "a").kind, Kind::kLost);  // ended
}

TEST_F(PgLeasesTest, RunsOfDifferentThreadsAreIndependent) {
  CreateThread("t1");
  CreateThread("t2");
  MustEnqueue(NewRun("r1", "t1"), "a");
  MustEnqueue(NewRun("r2", "t1"), "a");
  MustEnqueue(NewRun("r3", "t2"), "b");
  EXPECT_EQ(Claim("r1", "a").kind, Kind::kGranted);
  EXPECT_EQ(Claim("r3", "b").kind, Kind::kGranted);
  EXPECT_EQ(Claim("r2", "a").kind, Kind::kNotYet);
  // A cancel on one thread's strategy leaves the other alone.
  auto r = Enqueue(NewRun("r4", "t2"), "interrupt", "b");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->cancelled_run_ids, std::vector<std::string>{"r3"});
  EXPECT_FALSE(Peek("r1")->cancel_action);
  // Finishing t2's run says nothing about t1's.
  auto f = Finish("r3", "b", RunStatus::kInterrupted);
  EXPECT_TRUE(f.owned);
  EXPECT_TRUE(f.others_active);  // r4
  EXPECT_EQ(Claim("r4", "b").kind, Kind::kGranted);
  EXPECT_FALSE(Finish("r4", "b").others_active);  // t1's runs do not count
}

// ------------------------------------------------------------------------- Renew / Finish

TEST_F(PgLeasesTest, RenewReturnsHeldRunsAndOmitsOthers) {
  CreateThread("t1");
  CreateThread("t2");
  MustEnqueue(NewRun("r1", "t1"), "a");
  MustEnqueue(NewRun("r2", "t1"), "a");
  MustEnqueue(NewRun("r3", "t2"), "b");
  EXPECT_EQ(Ids(Renew("a", {"r1", "r2", "r3", "unknown"})),
            (std::vector<std::string>{"r1", "r2"}));
  EXPECT_TRUE(Renew("a", {}).empty());
  ASSERT_EQ(Claim("r1", "a").kind, Kind::kGranted);
  ASSERT_TRUE(Finish("r1", "a").owned);
  auto states = Renew("a", {"r1", "r2"});
  ASSERT_EQ(Ids(states), std::vector<std::string>{"r2"});  // an ended run is not held
  EXPECT_EQ(states[0].cancel_action, "");
}

TEST_F(PgLeasesTest, ActiveAmongListsOnlyThePendingAndRunningRuns) {
  CreateThread("t");
  MustEnqueue(NewRun("r1", "t"), "a");
  MustEnqueue(NewRun("r2", "t"), "b");
  ASSERT_EQ(Claim("r1", "a").kind, Kind::kGranted);
  MustEnqueue(NewRun("r3", "t"), "a");
  ASSERT_TRUE(Finish("r1", "a").owned);
  auto r = RunCo(leases_->ActiveAmong({"r1", "r2", "r3", "unknown"}), 10s);
  ASSERT_TRUE(r) << r.error().message;
  std::vector<std::string> ids = *r;
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::string>{"r2", "r3"}));  // whoever owns them
  auto none = RunCo(leases_->ActiveAmong({}), 10s);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST_F(PgLeasesTest, RenewExtendsTheLeaseSoNobodyAdoptsIt) {
  CreateThread("t");
  MustEnqueue(NewRun("r1", "t"), "a", 1ms);
  ASSERT_TRUE(WaitLeasesExpired("a"));
  EXPECT_EQ(Ids(Renew("a", {"r1"}, 60s)), std::vector<std::string>{"r1"});
  EXPECT_TRUE(Adopt("b").empty());
  EXPECT_EQ(Peek("r1")->owner, "a");
}

TEST_F(PgLeasesTest, FinishByANonOwnerWritesNothing) {
  CreateThread("t");
  MustEnqueue(NewRun("r1", "t"), "a");
  ASSERT_EQ(Claim("r1", "a").kind, Kind::kGranted);
  auto f = Finish("r1", "b", RunStatus::kError);
  EXPECT_FALSE(f.owned);
  EXPECT_FALSE(f.others_active);
  EXPECT_EQ(Peek("r1")->status, "running");
  EXPECT_TRUE(Finish("r1", "a").owned);
  EXPECT_FALSE(Finish("r1", "a", RunStatus::kError).owned);  // already ended
  EXPECT_EQ(Peek("r1")->status, "success");
  EXPECT_FALSE(Finish("unknown", "a").owned);
}

// The run's end, its usage and the thread's end state are one transaction: whoever sees the
// run ended sees the thread's final values too (a /join on another instance reads both).
TEST_F(PgLeasesTest, FinishWritesUsageAndTheThreadPatchUnderTheFence) {
  CreateThread("t");
  MustEnqueue(NewRun("r1", "t"), "a");
  ASSERT_EQ(Claim("r1", "a").kind, Kind::kGranted);
  RunLeases::Ending ending;
  ending.usage = json::object{{"total_tokens", 7}};
  ending.thread.emplace();
  ending.thread->values = json::object{{"answer", 42}};
  ending.thread->status = model::ThreadStatus::kIdle;

  RunLeases::Ending stale = ending;  // another instance that lost the lease
  stale.thread->values = json::object{{"answer", "stale"}};
  stale.usage = json::object{{"total_tokens", 999}};
  auto lost = RunCo(leases_->Finish("", "t", "r1", "b", std::move(stale)), 10s);
  ASSERT_TRUE(lost) << lost.error().message;
  EXPECT_FALSE(lost->owned);
  auto untouched = RunCo(storage_->threads().Get("", "t"), 10s);
  ASSERT_TRUE(untouched) << untouched.error().message;
  EXPECT_NE(untouched->values, (json::value(json::object{{"answer", "stale"}})));

  auto f = RunCo(leases_->Finish("", "t", "r1", "a", std::move(ending)), 10s);
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_TRUE(f->owned);
  auto thread = RunCo(storage_->threads().Get("", "t"), 10s);
  ASSERT_TRUE(thread) << thread.error().message;
  EXPECT_EQ(thread->values, (json::value(json::object{{"answer", 42}})));
  EXPECT_EQ(thread->status, model::ThreadStatus::kIdle);
  auto run = RunCo(storage_->runs().Get("", "r1"), 10s);
  ASSERT_TRUE(run) << run.error().message;
  EXPECT_EQ(run->status, RunStatus::kSuccess);
  EXPECT_EQ(run->usage, (json::object{{"total_tokens", 7}}));
}

TEST_F(PgLeasesTest, FinishLeavesTheThreadBusyWhileItHasOtherActiveRuns) {
  CreateThread("t");
  MustEnqueue(NewRun("r1", "t"), "a");
  MustEnqueue(NewRun("r2", "t"), "b");  // queued behind r1, on another instance
  ASSERT_EQ(Claim("r1", "a").kind, Kind::kGranted);
  RunLeases::Ending ending;
  ending.thread.emplace();
  ending.thread->status = model::ThreadStatus::kIdle;
  auto f = RunCo(leases_->Finish("", "t", "r1", "a", std::move(ending)), 10s);
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_TRUE(f->others_active);
  auto thread = RunCo(storage_->threads().Get("", "t"), 10s);
  ASSERT_TRUE(thread) << thread.error().message;
  EXPECT_EQ(thread->status, model::ThreadStatus::kBusy);
}

// ----------------------------------------------------------------------------- adoption

TEST_F(PgLeasesTest, AdoptExpiredMovesRunsToTheNewOwnerAndFencesTheOldOne) {
  CreateThread("t");
  CreateThread("u");
  MustEnqueue(NewRun("r1", "t"), "a", 1ms);
  ASSERT_EQ(Claim("r1", "a").kind, Kind::kGranted);
  MustEnqueue(NewRun("r2", "t"), "a", 1ms);
  ASSERT_TRUE(WaitLeasesExpired("a"));
  MustEnqueue(NewRun("r3", "u"), "a", 60s);  // a live lease: not adoptable

  auto adopted = RunCo(leases_->AdoptExpired("b", 60s, 10), 10s);
  ASSERT_TRUE(adopted) << adopted.error().message;
  ASSERT_EQ(adopted->size(), 2u);
  EXPECT_EQ((*adopted)[0].run_id, "r1");  // oldest first
  EXPECT_EQ((*adopted)[0].status, RunStatus::kRunning);
  EXPECT_EQ((*adopted)[1].run_id, "r2");
  EXPECT_EQ((*adopted)[1].status, RunStatus::kPending);
  EXPECT_EQ(Peek("r1")->owner, "b");
  EXPECT_EQ(Peek("r3")->owner, "a");
  EXPECT_TRUE(Adopt("c").empty());  // b's new lease is live

  // The old owner has lost them: renewal omits them, its Finish and claims are fenced off.
  EXPECT_EQ(Ids(Renew("a", {"r1", "r2", "r3"})), std::vector<std::string>{"r3"});
  auto stale = Finish("r1", "a", RunStatus::kError);
  EXPECT_FALSE(stale.owned);
  EXPECT_EQ(Peek("r1")->status, "running");
  EXPECT_EQ(Peek("r1")->owner, "b");
  EXPECT_EQ(Claim("r2", "a").kind, Kind::kLost);

  // The new owner resumes: the running run keeps its turn, the pending one waits for it.
  EXPECT_EQ(Ids(Renew("b", {"r1", "r2"})), (std::vector<std::string>{"r1", "r2"}));
  EXPECT_EQ(Claim("r1", "b").kind, Kind::kGranted);
  EXPECT_EQ(Claim("r2", "b").kind, Kind::kNotYet);
  auto f = Finish("r1", "b");
  EXPECT_TRUE(f.owned);
  EXPECT_TRUE(f.others_active);
  EXPECT_EQ(Peek("r1")->status, "success");
  EXPECT_EQ(Claim("r2", "b").kind, Kind::kGranted);
}

TEST_F(PgLeasesTest, AdoptExpiredTakesAtMostLimitOldestFirst) {
  CreateThread("t1");
  CreateThread("t2");
  CreateThread("t3");
  MustEnqueue(NewRun("r3", "t3"), "a", 1ms);
  MustEnqueue(NewRun("r1", "t1"), "a", 1ms);
  MustEnqueue(NewRun("r2", "t2"), "a", 1ms);
  ASSERT_TRUE(WaitLeasesExpired("a"));
  EXPECT_EQ(Adopt("b", 2), (std::vector<std::string>{"r1", "r2"}));
  EXPECT_EQ(Adopt("c", 2), std::vector<std::string>{"r3"});
  EXPECT_TRUE(Adopt("c", 2).empty());
  EXPECT_TRUE(Adopt("d", 0).empty());
}

TEST_F(PgLeasesTest, EndedRunsAreNeverAdopted) {
  CreateThread("t");
  MustEnqueue(NewRun("r1", "t"), "a", 1ms);
  ASSERT_EQ(Claim("r1", "a").kind, Kind::kGranted);
  ASSERT_TRUE(Finish("r1", "a").owned);
  ASSERT_TRUE(WaitLeasesExpired("a"));
  EXPECT_TRUE(Adopt("b").empty());
}

TEST_F(PgLeasesTest, ExpireAllMakesTheOwnersRunsAdoptableAtOnce) {
  CreateThread("t1");
  CreateThread("t2");
  MustEnqueue(NewRun("r1", "t1"), "a", 60s);
  MustEnqueue(NewRun("r2", "t2"), "a", 60s);
  MustEnqueue(NewRun("r3", "t2"), "other", 60s);
  EXPECT_TRUE(Adopt("b").empty());
  ASSERT_TRUE(RunCo(leases_->ExpireAll("a"), 10s));
  EXPECT_EQ(Adopt("b"), (std::vector<std::string>{"r1", "r2"}));
  EXPECT_EQ(Peek("r3")->owner, "other");
}

// -------------------------------------------------------------------------- RequestCancel

TEST_F(PgLeasesTest, RequestCancelMarksAnActiveRunWhereverItRuns) {
  CreateThread("t", "tenant");
  MustEnqueue(NewRun("r1", "t", "tenant"), "a");
  auto thread = RunCo(leases_->RequestCancel("tenant", "r1", "rollback"), 10s);
  ASSERT_TRUE(thread) << thread.error().message;
  EXPECT_EQ(*thread, "t");
  auto states = Renew("a", {"r1"});
  ASSERT_EQ(states.size(), 1u);
  EXPECT_EQ(states[0].cancel_action, "rollback");
  auto claim = Claim("r1", "a");
  EXPECT_EQ(claim.kind, Kind::kCancelled);
  EXPECT_EQ(claim.cancel_action, "rollback");
}

TEST_F(PgLeasesTest, RequestCancelOnAnEndedUnknownOrForeignRunIsNotFound) {
  CreateThread("t", "tenant");
  MustEnqueue(NewRun("r1", "t", "tenant"), "a");
  auto foreign = RunCo(leases_->RequestCancel("other", "r1", "interrupt"), 10s);
  ASSERT_FALSE(foreign);
  EXPECT_EQ(foreign.error().code, Errc::kNotFound);
  EXPECT_FALSE(Peek("r1")->cancel_action);
  EXPECT_FALSE(*RunCo(leases_->IsActive("other", "r1"), 10s));
  EXPECT_FALSE(*RunCo(leases_->ThreadHasActiveRuns("other", "t"), 10s));

  auto unknown = RunCo(leases_->RequestCancel("tenant", "nope", "interrupt"), 10s);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, Errc::kNotFound);

  ASSERT_EQ(Claim("r1", "a").kind, Kind::kGranted);
  ASSERT_TRUE(Finish("r1", "a").owned);
  auto ended = RunCo(leases_->RequestCancel("tenant", "r1", "interrupt"), 10s);
  ASSERT_FALSE(ended);
  EXPECT_EQ(ended.error().code, Errc::kNotFound);
  EXPECT_FALSE(*RunCo(leases_->IsActive("tenant", "r1"), 10s));
}

// -------------------------------------------------------------------------- unique index

TEST_F(PgLeasesTest, TheIndexRejectsASecondRunningRunOnOneThread) {
  CreateThread("t");
  MustEnqueue(NewRun("r1", "t"), "a");
  MustEnqueue(NewRun("r2", "t"), "a");
  ASSERT_EQ(Claim("r1", "a").kind, Kind::kGranted);
  // A writer that bypasses ClaimTurn still cannot start a second run on the thread.
  auto second = RunCo(storage_->runs().SetStatus("", "r2", RunStatus::kRunning), 10s);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, Errc::kConflict) << second.error().message;
  EXPECT_EQ(Peek("r2")->status, "pending");
  ASSERT_TRUE(Finish("r1", "a").owned);
  auto after = RunCo(storage_->runs().SetStatus("", "r2", RunStatus::kRunning), 10s);
  EXPECT_TRUE(after) << after.error().message;
}

}  // namespace
}  // namespace agentd::storage::postgres::leasetest
