// The checkpoint fence on PostgreSQL (PostgresOptions::instance_id): a checkpoint of a run
// leased to another instance is refused with kConflict and leaves no row, not even message
// rows; a run leased to this instance, nobody's run (owner NULL) and a checkpoint without a run
// pass; and the write costs one round trip. Needs AGENTD_TEST_PG_DSN; skipped without it.
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>

#include <unistd.h>

#include <gtest/gtest.h>

#include "observe/metrics.hpp"
#include "storage/postgres/pg_pool.hpp"
#include "storage/postgres/postgres_storage.hpp"
#include "support/run_co.hpp"

namespace agentd::storage::postgres {
namespace {

using namespace std::chrono_literals;
using agentd::testing::RunCo;

class PgFenceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dsn_ = std::getenv("AGENTD_TEST_PG_DSN");
    if (dsn_ == nullptr) {
      GTEST_SKIP() << "AGENTD_TEST_PG_DSN is not set: run under tests/harness/with-services --pg";
    }
    static std::atomic<int> counter{0};
    schema_ = "fence_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
    me_ = Open("me", &metrics_);
    ASSERT_NE(me_, nullptr);
    PoolOptions raw;
    raw.connect.dsn = dsn_;
    raw.connect.schema = schema_;
    raw.size = 1;
    raw_ = std::make_unique<PgPool>(raw);
    model::Thread t;
    t.thread_id = "t";
    ASSERT_TRUE(RunCo(me_->threads().Create(t, IfExists::kRaise), 10s));
  }

  std::unique_ptr<Storage> Open(std::string instance_id, observe::Metrics* metrics = nullptr) {
    PostgresOptions options;
    options.dsn = dsn_;
    options.schema = schema_;
    options.pool_size = 2;
    options.instance_id = std::move(instance_id);
    options.metrics = metrics;
    auto storage = MakePostgresStorage(options);
    if (!storage) {
      ADD_FAILURE() << "MakePostgresStorage: " << storage.error().message;
      return nullptr;
    }
    return std::move(*storage);
  }

  // A run row on thread "t" leased to `owner` (nullopt: a run nobody leases).
  void AddRun(const std::string& run_id, std::optional<std::string> owner) {
    model::Run run;
    run.run_id = run_id;
    run.thread_id = "t";
    run.assistant_id = "a";
    run.multitask_strategy = "enqueue";
    if (owner) {
      ASSERT_TRUE(RunCo(me_->leases()->Enqueue(run, "enqueue", *owner, 60s), 10s));
    } else {
      ASSERT_TRUE(RunCo(me_->runs().Create(run), 10s));
    }
  }

  static model::Checkpoint NewCheckpoint(const std::string& id, const std::string& run_id) {
    model::Checkpoint k;
    k.thread_id = "t";
    k.checkpoint_id = id;
    k.run_id = run_id;
    k.appended_messages.push_back(json::value("m1"));
    k.appended_messages.push_back(json::value("m2"));
    k.message_count = 2;
    return k;
  }

  std::int64_t Scalar(std::string sql, std::string arg) {
    auto r = RunCo(
        [](PgPool& pool, std::string sql, std::string arg) -> Task<Result<PgResult>> {
          auto lease = co_await pool.Acquire();
          if (!lease) co_return lease.error();
          Params params(1, std::move(arg));  // named: GCC 12 rejects braced lists in co_await
          co_return co_await (*lease)->Query(sql, std::move(params));
        }(*raw_, std::move(sql), std::move(arg)),
        10s);
    if (!r) {
      ADD_FAILURE() << r.error().message;
      return -1;
    }
    return r->Int(0, 0);
  }
  std::int64_t Checkpoints(const std::string& id) {
    return Scalar("SELECT count(*) FROM checkpoints WHERE checkpoint_id = $1", id);
  }
  std::int64_t MessageRows(const std::string& id) {
    return Scalar("SELECT count(*) FROM checkpoint_messages WHERE checkpoint_id = $1", id);
  }

  const char* dsn_ = nullptr;
  std::string schema_;
  observe::Metrics metrics_;
  std::unique_ptr<Storage> me_;
  std::unique_ptr<PgPool> raw_;
};

TEST_F(PgFenceTest, CheckpointOfARunLeasedToAnotherInstanceIsRefused) {
  AddRun("r-other", "other");
  auto put = RunCo(me_->checkpoints().Put(NewCheckpoint("c1", "r-other")), 10s);
  ASSERT_FALSE(put);
  EXPECT_EQ(put.error().code, Errc::kConflict);
  EXPECT_EQ(put.error().message,
            "run r-other is leased to another instance; checkpoint not written");
  EXPECT_EQ(Checkpoints("c1"), 0);
  EXPECT_EQ(MessageRows("c1"), 0);
  auto read = RunCo(me_->checkpoints().Get("t", "c1"), 10s);
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().code, Errc::kNotFound);
}

TEST_F(PgFenceTest, CheckpointOfOwnNobodysOrNoRunIsWrittenWithItsMessages) {
  AddRun("r-me", "me");
  AddRun("r-free", std::nullopt);
  for (auto [id, run] : {std::pair{"c1", "r-me"}, {"c2", "r-free"}, {"c3", ""}, {"c4", "gone"}}) {
    auto put = RunCo(me_->checkpoints().Put(NewCheckpoint(id, run)), 10s);
    ASSERT_TRUE(put) << id << ": " << put.error().message;
    EXPECT_EQ(MessageRows(id), 2) << id;
    auto read = RunCo(me_->checkpoints().Get("t", id), 10s);
    ASSERT_TRUE(read) << read.error().message;
    ASSERT_EQ(read->appended_messages.size(), 2u);
    EXPECT_EQ(read->appended_messages[1].as_string(), "m2");
  }
}

TEST_F(PgFenceTest, AdoptionMovesTheFence) {
  AddRun("r", "me");
  ASSERT_TRUE(RunCo(me_->checkpoints().Put(NewCheckpoint("c1", "r")), 10s));
  // Another instance adopts the run: this one's next write is refused, the adopter's passes.
  ASSERT_EQ(Scalar("WITH u AS (UPDATE runs SET owner = 'other' WHERE run_id = $1 RETURNING 1) "
                   "SELECT count(*) FROM u",
                   "r"),
            1);
  auto stale = RunCo(me_->checkpoints().Put(NewCheckpoint("c2", "r")), 10s);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code, Errc::kConflict);
  EXPECT_EQ(MessageRows("c2"), 0);
  auto other = Open("other");
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(RunCo(other->checkpoints().Put(NewCheckpoint("c2", "r")), 10s));
  EXPECT_EQ(MessageRows("c2"), 2);
}

TEST_F(PgFenceTest, WithoutAnInstanceIdThereIsNoFence) {
  AddRun("r-other", "other");
  auto anonymous = Open("");
  ASSERT_NE(anonymous, nullptr);
  ASSERT_TRUE(RunCo(anonymous->checkpoints().Put(NewCheckpoint("c1", "r-other")), 10s));
}

TEST_F(PgFenceTest, DuplicateCheckpointIsStillAConflictOfItsOwn) {
  ASSERT_TRUE(RunCo(me_->checkpoints().Put(NewCheckpoint("c1", "")), 10s));
  auto again = RunCo(me_->checkpoints().Put(NewCheckpoint("c1", "")), 10s);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::kConflict);
  EXPECT_EQ(again.error().message, "checkpoint c1 exists");
  EXPECT_EQ(MessageRows("c1"), 2);
}

TEST_F(PgFenceTest, ACheckpointWriteIsOneRoundTripCountedInTheMetric) {
  AddRun("r-me", "me");
  ASSERT_TRUE(RunCo(me_->checkpoints().Put(NewCheckpoint("c0", "r-me")), 10s));  // prepares
  auto& counter = metrics_.GetCounter("agentd_pg_round_trips_total", "");
  auto before = counter.value();
  ASSERT_TRUE(RunCo(me_->checkpoints().Put(NewCheckpoint("c1", "r-me")), 10s));
  EXPECT_EQ(counter.value() - before, 1u);
  EXPECT_NE(metrics_.RenderPrometheus().find("agentd_pg_round_trips_total"), std::string::npos);
}

}  // namespace
}  // namespace agentd::storage::postgres
