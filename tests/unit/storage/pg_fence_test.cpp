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

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include "observe/metrics.hpp"
#include "storage/postgres/pg_pool.hpp"
#include "storage/postgres/postgres_storage.hpp"
#include "support/run_co.hpp"

namespace agentd::storage::postgres {
namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
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

// The adoption race: an instance's checkpoint write in flight while another instance's
// adoption (UPDATE of `owner`) is uncommitted. The write must wait for the adoption and then
// be refused; a write that passed on a snapshot taken before the adoption committed would
// land after the adopter read the thread's latest checkpoint, and the step would run twice.
TEST_F(PgFenceTest, ACheckpointRacingAnAdoptionWaitsForItAndIsRefused) {
  AddRun("r-me", "me");
  PoolOptions two;
  two.connect.dsn = dsn_;
  two.connect.schema = schema_;
  two.size = 2;
  PgPool adopter(two);
  struct Outcome {
    bool put_waited_for_the_adoption = false;
    std::optional<Status> put;
    std::string failure;
  };
  auto race = [](PgPool& adopter, Storage& me) -> asio::awaitable<Outcome> {
    Outcome out;
    auto executor = co_await asio::this_coro::executor;
    auto tx = co_await adopter.Acquire();
    auto observer = co_await adopter.Acquire();
    if (!tx || !observer) co_return Outcome{false, std::nullopt, "acquire failed"};
    if (!co_await (*tx)->Exec("BEGIN") ||
        !co_await (*tx)->Exec("UPDATE runs SET owner = 'adopter' WHERE run_id = 'r-me'")) {
      co_return Outcome{false, std::nullopt, "the adoption did not start"};
    }
    auto put = std::make_shared<std::optional<Status>>();
    asio::co_spawn(
        executor,
        [](Storage& me, std::shared_ptr<std::optional<Status>> put) -> asio::awaitable<void> {
          *put = co_await me.checkpoints().Put(NewCheckpoint("c-race", "r-me"));
        }(me, put),
        asio::detached);
    // Bounded wait until the write either finished or waits on the adopter's row lock.
    asio::steady_timer tick(executor);
    for (int i = 0; i < 1000 && !put->has_value(); ++i) {
      auto waiting = co_await (*observer)->Query(
          "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
          "AND query LIKE '%INSERT INTO checkpoints%'");
      if (waiting && waiting->Int(0, 0) > 0) {
        out.put_waited_for_the_adoption = true;
        break;
      }
      tick.expires_after(5ms);
      co_await tick.async_wait(asio::use_awaitable);
    }
    if (!co_await (*tx)->Exec("COMMIT")) co_return Outcome{false, std::nullopt, "commit failed"};
    for (int i = 0; i < 2000 && !put->has_value(); ++i) {
      tick.expires_after(5ms);
      co_await tick.async_wait(asio::use_awaitable);
    }
    out.put = *put;
    co_return out;
  };
  Outcome out = RunCo(race(adopter, *me_), 30s);
  ASSERT_TRUE(out.failure.empty()) << out.failure;
  EXPECT_TRUE(out.put_waited_for_the_adoption)
      << "the checkpoint write did not wait for the uncommitted adoption";
  ASSERT_TRUE(out.put.has_value()) << "the checkpoint write never finished";
  ASSERT_FALSE(*out.put) << "a write racing an adoption was accepted";
  EXPECT_EQ(out.put->error().code, Errc::kConflict);
  EXPECT_EQ(Checkpoints("c-race"), 0);
  EXPECT_EQ(MessageRows("c-race"), 0);
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
