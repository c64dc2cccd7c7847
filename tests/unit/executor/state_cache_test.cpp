// StateCache on its own, and the executor using it: a run on a long thread takes the previous
// run's fold instead of re-reading the history, and every write that did not come from this
// executor (another executor's updateState, a rollback, a fork) still yields the exact state.

#include <gtest/gtest.h>

#include <fmt/format.h>

#include "executor_fixture.hpp"
#include "runtime/messages.hpp"
#include "runtime/state_cache.hpp"
#include "support/run_co.hpp"

namespace agentd::runtime::testing {
namespace {

using Kind = RunOutcome::Kind;

json::array Messages(int n, std::string_view tag) {
  json::array out;
  for (int i = 0; i < n; ++i) {
    out.push_back(json::object{{"type", "human"}, {"content", fmt::format("{}{}", tag, i)}});
  }
  return out;
}

TEST(StateCacheTest, TakeReturnsTheListOnceAndOnlyForTheSameCheckpoint) {
  StateCache cache(StateCache::Limits{2, 100});
  cache.Put("t", "c1", Messages(3, "a"));
  EXPECT_FALSE(cache.Take("t", "c0"));  // another checkpoint of the same thread
  EXPECT_FALSE(cache.Take("u", "c1"));  // another thread
  auto hit = cache.Take("t", "c1");
  ASSERT_TRUE(hit);
  EXPECT_EQ(*hit, Messages(3, "a"));
  EXPECT_FALSE(cache.Take("t", "c1"));  // taken: a second run would fold from storage
  EXPECT_EQ(cache.hits(), 1u);
  EXPECT_EQ(cache.misses(), 3u);
  EXPECT_EQ(cache.messages(), 0u);
}

TEST(StateCacheTest, ShortListsAreNotKeptAndPutReplacesTheThreadsEntry) {
  StateCache cache(StateCache::Limits{3, 100});
  cache.Put("t", "c1", Messages(2, "a"));
  EXPECT_EQ(cache.entries(), 0u);
  cache.Put("t", "c1", Messages(4, "a"));
  cache.Put("t", "c2", Messages(5, "b"));
  EXPECT_EQ(cache.entries(), 1u);
  EXPECT_EQ(cache.messages(), 5u);
  EXPECT_FALSE(cache.Take("t", "c1"));
  EXPECT_TRUE(cache.Take("t", "c2"));
}

TEST(StateCacheTest, EvictsLeastRecentlyPutWhenOverTheMessageBudget) {
  StateCache cache(StateCache::Limits{1, 10});
  cache.Put("a", "c", Messages(4, "a"));
  cache.Put("b", "c", Messages(4, "b"));
  cache.Put("c", "c", Messages(4, "c"));  // 12 > 10: "a" goes
  EXPECT_EQ(cache.entries(), 2u);
  EXPECT_EQ(cache.messages(), 8u);
  EXPECT_FALSE(cache.Take("a", "c"));
  EXPECT_TRUE(cache.Take("b", "c"));
  EXPECT_TRUE(cache.Take("c", "c"));
}

class StateCacheExecutorTest : public ExecutorTest {
 protected:
  // A thread long enough to be cached (>= the default min_messages).
  void SeedLongThread() {
    RecordingSink sink({});
    json::array many;
    for (int i = 0; i < 40; ++i) many.push_back(json::object{{"role", "user"}, {"content", "m"}});
    ASSERT_EQ(Run("echo", Request("echo", json::object{{"messages", many}}), sink).kind,
              Kind::kSuccess);
  }
  // What a fresh fold of the stored chain gives at the latest checkpoint.
  json::array Stored() { return MessagesAt(History().front().checkpoint_id); }
};

TEST_F(StateCacheExecutorTest, NextRunOnALongThreadUsesTheCachedFoldAndStaysExact) {
  SeedLongThread();
  EXPECT_EQ(executor_->state_cache().entries(), 1u);
  RecordingSink sink({});
  for (int turn = 0; turn < 3; ++turn) {
    RunOutcome out = Run("echo", Request("echo", UserInput(fmt::format("t{}", turn))), sink);
    ASSERT_EQ(out.kind, Kind::kSuccess);
    EXPECT_EQ(out.values.at("messages").as_array(), Stored());
  }
  EXPECT_EQ(executor_->state_cache().hits(), 3u);
  EXPECT_EQ(Stored().size(), 41u + 6u);
}

TEST_F(StateCacheExecutorTest, UpdateStateFromAnotherExecutorIsSeenByTheNextRun) {
  SeedLongThread();
  // Another executor on the same storage (another process, in production) writes a checkpoint.
  GraphExecutor other(storage_->checkpoints(), *models_, http_);
  auto update = agentd::testing::RunCo(other.UpdateState(
      Graph("echo"), thread_id_,
      json::parse(R"({"messages":[{"type":"human","content":"from elsewhere","id":"x1"}]})"),
      std::string("echo"), std::nullopt));
  ASSERT_TRUE(update) << update.error().message;

  RecordingSink sink({});
  RunOutcome out = Run("echo", Request("echo", UserInput("after")), sink);
  ASSERT_EQ(out.kind, Kind::kSuccess);
  const auto& messages = out.values.at("messages").as_array();
  EXPECT_EQ(messages, Stored());
  ASSERT_GE(messages.size(), 3u);
  EXPECT_EQ(messages[messages.size() - 3].at("id"), "x1");
  EXPECT_EQ(executor_->state_cache().hits(), 0u);  // the latest id changed: not used
}

TEST_F(StateCacheExecutorTest, RolledBackRunIsNotSeenByTheNextRun) {
  SeedLongThread();
  RecordingSink sink({});
  RunOutcome doomed = Run("echo", Request("echo", UserInput("doomed")), sink);
  ASSERT_EQ(doomed.kind, Kind::kSuccess);
  // What the scheduler does for multitask "rollback": remove the run's checkpoints.
  auto removed = agentd::testing::RunCo(
      storage_->checkpoints().Remove(thread_id_, doomed.checkpoints_written));
  ASSERT_TRUE(removed);

  RunOutcome out = Run("echo", Request("echo", UserInput("kept")), sink);
  ASSERT_EQ(out.kind, Kind::kSuccess);
  const auto& messages = out.values.at("messages").as_array();
  EXPECT_EQ(messages, Stored());
  for (const auto& m : messages) EXPECT_NE(m.at("content"), "doomed");
}

TEST_F(StateCacheExecutorTest, ForkFromAnOlderCheckpointFoldsThatCheckpoint) {
  SeedLongThread();
  const std::string seeded = History().front().checkpoint_id;
  RecordingSink sink({});
  ASSERT_EQ(Run("echo", Request("echo", UserInput("two")), sink).kind, Kind::kSuccess);
  RunRequest fork = Request("echo", UserInput("other"));
  fork.checkpoint_id = seeded;
  RunOutcome out = Run("echo", std::move(fork), sink);
  ASSERT_EQ(out.kind, Kind::kSuccess);
  const auto& messages = out.values.at("messages").as_array();
  EXPECT_EQ(messages, Stored());
  EXPECT_EQ(messages.size(), 41u + 2u);  // seeded + other + echo: other, without "two"
}

}  // namespace
}  // namespace agentd::runtime::testing
