// RunLeases on PostgreSQL under contention: two Storage objects on one schema stand for two agentd
// instances, and their calls run at once on two threads, each on its own pooled connections.
// What must hold however the statements interleave: reject admits one run, the queue grants one
// turn at a time in run id order, an expired run is adopted by exactly one instance, and a run
// enqueued while the previous one finishes is never left waiting without a wakeup.
#include <algorithm>
#include <atomic>
#include <map>
#include <random>
#include <set>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include "unit/storage/pg_leases_fixture.hpp"

namespace agentd::storage::postgres::leasetest {
namespace {

using model::RunStatus;

Task<Result<std::vector<std::string>>> AdoptUntilNoneLeft(RunLeases& leases, std::string owner) {
  std::vector<std::string> mine;
  for (int round = 0; round < 1000; ++round) {
    auto r = co_await leases.AdoptExpired(owner, std::chrono::milliseconds(60000), 3);
    if (!r) co_return r.error();
    if (r->empty()) co_return mine;
    for (const auto& run : *r) mine.push_back(run.run_id);
  }
  co_return mine;
}

TEST_F(PgLeasesTest, RacingAdoptersNeverAdoptTheSameRunTwice) {
  auto other = Open();
  ASSERT_NE(other, nullptr);
  for (int round = 0; round < 3; ++round) {
    std::set<std::string> expected;
    for (int t = 0; t < 10; ++t) {
      std::string thread = fmt::format("t{}-{}", round, t);
      CreateThread(thread);
      for (int k = 0; k < 4; ++k) {
        std::string id = fmt::format("r{}-{}-{}", round, t, k);
        MustEnqueue(NewRun(id, thread), "dead", 1ms);
        expected.insert(id);
      }
    }
    ASSERT_TRUE(WaitLeasesExpired("dead"));

    // Two adopters per instance, each on its own pooled connection.
    const std::vector<std::string> owners = {"a1", "a2", "b1", "b2"};
    std::vector<Task<Result<std::vector<std::string>>>> tasks;
    tasks.push_back(AdoptUntilNoneLeft(*leases_, owners[0]));
    tasks.push_back(AdoptUntilNoneLeft(*leases_, owners[1]));
    tasks.push_back(AdoptUntilNoneLeft(*other->leases(), owners[2]));
    tasks.push_back(AdoptUntilNoneLeft(*other->leases(), owners[3]));
    auto results = RunParallel(std::move(tasks));

    std::map<std::string, std::string> adopted_by;
    for (std::size_t i = 0; i < results.size(); ++i) {
      ASSERT_TRUE(results[i]) << results[i].error().message;
      for (const auto& id : *results[i]) {
        auto [it, fresh] = adopted_by.emplace(id, owners[i]);
        EXPECT_TRUE(fresh) << id << " adopted by both " << it->second << " and " << owners[i];
      }
    }
    EXPECT_EQ(adopted_by.size(), expected.size());
    for (const auto& id : expected) {
      auto it = adopted_by.find(id);
      if (it == adopted_by.end()) {
        ADD_FAILURE() << id << " was adopted by nobody";
        continue;
      }
      EXPECT_EQ(Peek(id)->owner, it->second) << id;
    }
  }
}

TEST_F(PgLeasesTest, RacingRejectsAdmitExactlyOneRun) {
  auto other = Open();
  ASSERT_NE(other, nullptr);
  CreateThread("t");
  std::vector<Task<Result<EnqueueResult>>> tasks;
  for (int i = 0; i < 20; ++i) {
    RunLeases& l = i % 2 == 0 ? *leases_ : *other->leases();
    tasks.push_back(l.Enqueue(NewRun(fmt::format("r{:02}", i), "t"), "reject",
                              i % 2 == 0 ? "a" : "b", 60s));
  }
  auto results = RunParallel(std::move(tasks));
  int admitted = 0;
  for (const auto& r : results) {
    if (r) {
      ++admitted;
    } else {
      EXPECT_EQ(r.error().code, Errc::kUnprocessable) << r.error().message;
    }
  }
  EXPECT_EQ(admitted, 1);
  EXPECT_EQ(CountRuns(), 1);
}

// 200 runs enqueued at once on one thread from two instances, then drained: every round, a few
// of the oldest remaining runs claim at once from their owners' instances; exactly the oldest
// is granted, and finishing it hands the turn on.
TEST_F(PgLeasesTest, ConcurrentEnqueuesFromTwoInstancesAreGrantedOneAtATimeInIdOrder) {
  constexpr int kRuns = 200;
  constexpr std::size_t kWindow = 4;
  auto other = Open();
  ASSERT_NE(other, nullptr);
  CreateThread("t");
  auto leases_of = [&](int i) { return i % 2 == 0 ? leases_ : other->leases(); };
  auto owner_of = [](int i) { return std::string(i % 2 == 0 ? "a" : "b"); };

  std::vector<int> order(kRuns);
  for (int i = 0; i < kRuns; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937(7));  // submission order != id order
  std::vector<Task<Result<EnqueueResult>>> enqueues;
  for (int i : order) {
    enqueues.push_back(leases_of(i)->Enqueue(NewRun(fmt::format("run-{:03}", i), "t"), "enqueue",
                                             owner_of(i), 60s));
  }
  for (const auto& r : RunParallel(std::move(enqueues))) {
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(r->cancelled_run_ids.empty());
  }
  ASSERT_EQ(CountRuns(), kRuns);

  for (int next = 0; next < kRuns; ++next) {
    std::vector<Task<Result<TurnClaim>>> claims;
    std::vector<int> window;
    for (int i = next; i < kRuns && window.size() < kWindow; ++i) window.push_back(i);
    // The oldest last, so the later ones often race its grant.
    std::reverse(window.begin(), window.end());
    for (int i : window) {
      claims.push_back(leases_of(i)->ClaimTurn(fmt::format("run-{:03}", i), owner_of(i)));
    }
    auto results = RunParallel(std::move(claims));
    for (std::size_t k = 0; k < window.size(); ++k) {
      ASSERT_TRUE(results[k]) << results[k].error().message;
      Kind want = window[k] == next ? Kind::kGranted : Kind::kNotYet;
      ASSERT_EQ(results[k]->kind, want)
          << "run-" << window[k] << " while run-" << next << " is the oldest: got "
          << KindName(results[k]->kind);
    }
    auto f = RunCo(leases_of(next)->Finish("", "t", fmt::format("run-{:03}", next), owner_of(next),
                                           RunLeases::Ending{}),
                   10s);
    ASSERT_TRUE(f) << f.error().message;
    ASSERT_TRUE(f->owned);
    ASSERT_EQ(f->others_active, next + 1 < kRuns) << "after run-" << next;
  }
}

// A run enqueued while its thread's running run finishes must either be granted by its first
// claim, or be reported to the finisher as still active (so the finisher wakes it): otherwise
// nobody ever claims it again.
Task<Result<TurnClaim>> EnqueueThenClaim(RunLeases& leases, model::Run run, std::string owner) {
  auto enqueued = co_await leases.Enqueue(run, "enqueue", owner, std::chrono::milliseconds(60000));
  if (!enqueued) co_return enqueued.error();
  co_return co_await leases.ClaimTurn(run.run_id, owner);
}

Task<Result<TurnClaim>> FinishAsClaim(RunLeases& leases, std::string thread_id, std::string run_id,
                                      std::string owner, bool* others_active) {
  auto f = co_await leases.Finish("", thread_id, run_id, owner, RunLeases::Ending{});
  if (!f) co_return f.error();
  if (!f->owned) co_return MakeError(Errc::kInternal, "finish: not owned");
  *others_active = f->others_active;
  co_return TurnClaim{};
}

TEST_F(PgLeasesTest, ARunEnqueuedWhileThePreviousFinishesIsNeverLeftWithoutAWakeup) {
  constexpr int kPairs = 60;
  auto other = Open();
  ASSERT_NE(other, nullptr);
  for (int i = 0; i < kPairs; ++i) {
    std::string thread = fmt::format("t{:02}", i);
    CreateThread(thread);
    MustEnqueue(NewRun(fmt::format("a{:02}", i), thread), "a");
    ASSERT_EQ(Claim(fmt::format("a{:02}", i), "a").kind, Kind::kGranted);
  }
  std::unique_ptr<bool[]> active(new bool[kPairs]());  // Finish's others_active, per pair
  std::vector<Task<Result<TurnClaim>>> tasks;
  for (int i = 0; i < kPairs; ++i) {
    tasks.push_back(FinishAsClaim(*leases_, fmt::format("t{:02}", i), fmt::format("a{:02}", i), "a", &active[i]));
    tasks.push_back(EnqueueThenClaim(*other->leases(),
                                     NewRun(fmt::format("b{:02}", i), fmt::format("t{:02}", i)),
                                     "b"));
  }
  auto results = RunParallel(std::move(tasks));
  for (int i = 0; i < kPairs; ++i) {
    ASSERT_TRUE(results[2 * i]) << results[2 * i].error().message;
    ASSERT_TRUE(results[2 * i + 1]) << results[2 * i + 1].error().message;
    Kind claim = results[2 * i + 1]->kind;
    ASSERT_TRUE(claim == Kind::kGranted || claim == Kind::kNotYet) << KindName(claim);
    if (claim == Kind::kNotYet) {
      EXPECT_TRUE(active[i]) << "pair " << i
                             << ": the new run was refused its turn while the finisher was "
                                "told the thread had nothing left to run";
    }
  }
}

// The same race made certain: a deferred trigger (this test's schema only) holds Finish's
// COMMIT for 300 ms after Finish has looked for other active runs; the new run is enqueued and
// claims its turn inside that window.
Task<Result<TurnClaim>> EnqueueThenClaimDuringSlowCommit(PgPool& raw, RunLeases& leases) {
  auto ex = co_await boost::asio::this_coro::executor;
  boost::asio::steady_timer timer(ex);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    if (std::chrono::steady_clock::now() > deadline) {
      co_return MakeError(Errc::kTimeout, "Finish never reached its COMMIT");
    }
    auto r = co_await RawQuery(
        raw, "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE wait_event = 'PgSleep')", {});
    if (!r) co_return r.error();
    if (r->Text(0, 0) == "t") break;
    timer.expires_after(std::chrono::milliseconds(1));
    co_await timer.async_wait(boost::asio::use_awaitable);
  }
  co_return co_await EnqueueThenClaim(leases, PgLeasesTest::NewRun("b", "t"), "b");
}

TEST_F(PgLeasesTest, ARunEnqueuedDuringAFinishCommitIsGrantedOrReported) {
  auto other = Open();
  ASSERT_NE(other, nullptr);
  CreateThread("t");
  MustEnqueue(NewRun("a", "t"), "a");
  ASSERT_EQ(Claim("a", "a").kind, Kind::kGranted);
  ASSERT_TRUE(RunCo(RawExec(*raw_,
                            "CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS "
                            "$$ BEGIN PERFORM pg_sleep(0.3); RETURN NULL; END $$; "
                            "CREATE CONSTRAINT TRIGGER slow_finish AFTER UPDATE ON runs "
                            "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
                            "WHEN (NEW.status = 'success') EXECUTE FUNCTION slow_commit()"),
                    10s));
  bool others_active = false;
  std::vector<Task<Result<TurnClaim>>> tasks;
  tasks.push_back(FinishAsClaim(*leases_, "t", "a", "a", &others_active));
  tasks.push_back(EnqueueThenClaimDuringSlowCommit(*raw_, *other->leases()));
  auto results = RunParallel(std::move(tasks));
  ASSERT_TRUE(results[0]) << results[0].error().message;
  ASSERT_TRUE(results[1]) << results[1].error().message;
  Kind claim = results[1]->kind;
  EXPECT_TRUE(claim == Kind::kGranted || others_active)
      << "the new run's claim: " << KindName(claim)
      << ", yet Finish reported no other active run: nobody will wake it";
}

// ClaimTurn's last line of defence: a writer outside RunLeases starts another run of the thread
// after ClaimTurn's check looked, so the unique index refuses the claim. The claim must read
// "not yet" (not an error), leave its run pending, and leave its pooled connection usable even
// though its transaction was aborted.
Task<Result<bool>> HoldRunningUntilBlocked(PgPool& raw, std::atomic<bool>* held) {
  auto holder = co_await raw.Acquire();
  if (!holder) co_return holder.error();
  if (Status st = co_await (*holder)->Exec("BEGIN"); !st) co_return st.error();
  if (Status st = co_await (*holder)->Exec("UPDATE runs SET status = 'running' WHERE run_id = "
                                           "'r9'");
      !st) {
    co_return st.error();
  }
  *held = true;
  auto ex = co_await boost::asio::this_coro::executor;
  boost::asio::steady_timer timer(ex);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  bool blocked = false;
  while (!blocked && std::chrono::steady_clock::now() < deadline) {
    auto r = co_await RawQuery(raw,
                               "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE "
                               "wait_event_type = 'Lock' AND query LIKE 'UPDATE runs SET status%')",
                               {});
    if (!r) co_return r.error();
    blocked = r->Text(0, 0) == "t";
    timer.expires_after(std::chrono::milliseconds(1));
    if (!blocked) co_await timer.async_wait(boost::asio::use_awaitable);
  }
  if (Status st = co_await (*holder)->Exec("COMMIT"); !st) co_return st.error();
  co_return blocked;
}

Task<Result<TurnClaim>> ClaimOnceHeld(RunLeases& leases, std::atomic<bool>* held) {
  auto ex = co_await boost::asio::this_coro::executor;
  boost::asio::steady_timer timer(ex);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!*held) {
    if (std::chrono::steady_clock::now() > deadline) {
      co_return MakeError(Errc::kTimeout, "the holder never started");
    }
    timer.expires_after(std::chrono::milliseconds(1));
    co_await timer.async_wait(boost::asio::use_awaitable);
  }
  co_return co_await leases.ClaimTurn("r1", "a");
}

Task<Result<bool>> ClaimAsBool(Task<Result<TurnClaim>> claim, TurnClaim* out) {
  auto r = co_await std::move(claim);
  if (!r) co_return r.error();
  *out = *r;
  co_return true;
}

TEST_F(PgLeasesTest, AClaimBeatenToTheUniqueIndexIsNotYetAndLeavesTheConnectionUsable) {
  CreateThread("t");
  MustEnqueue(NewRun("r1", "t"), "a");
  model::Run outsider = NewRun("r9", "t");  // newer: ClaimTurn's own check ignores it
  ASSERT_TRUE(RunCo(storage_->runs().Create(outsider), 10s));

  std::atomic<bool> held{false};
  TurnClaim claim;
  std::vector<Task<Result<bool>>> tasks;
  tasks.push_back(HoldRunningUntilBlocked(*raw_, &held));
  tasks.push_back(ClaimAsBool(ClaimOnceHeld(*leases_, &held), &claim));
  auto results = RunParallel(std::move(tasks));
  ASSERT_TRUE(results[0]) << results[0].error().message;
  ASSERT_TRUE(results[1]) << results[1].error().message;
  EXPECT_TRUE(*results[0]) << "the claim never waited on the index";
  EXPECT_EQ(claim.kind, Kind::kNotYet) << KindName(claim.kind);
  EXPECT_EQ(Peek("r1")->status, "pending");
  EXPECT_EQ(Peek("r9")->status, "running");
  // Every pooled connection still works (one of them carried the aborted transaction).
  for (int i = 0; i < 10; ++i) EXPECT_EQ(Claim("r1", "a").kind, Kind::kNotYet);
  EXPECT_TRUE(RunCo(storage_->Ping(), 10s));
}

}  // namespace
}  // namespace agentd::storage::postgres::leasetest
