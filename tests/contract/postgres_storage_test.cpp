// PostgreSQL-specific behaviour beyond the contract: the pool's bounded wait, concurrent
// migrations, and recovery from a killed backend. Runs under tests/harness/with-services --pg;
// skipped without AGENTD_TEST_PG_DSN.
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>

#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include "storage/postgres/pg_pool.hpp"
#include "storage/postgres/postgres_storage.hpp"
#include "support/run_co.hpp"

namespace agentd::storage::postgres {
namespace {

using namespace std::chrono_literals;
using agentd::testing::RunCo;

class PostgresStorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* dsn = std::getenv("AGENTD_TEST_PG_DSN");
    if (dsn == nullptr) {
      GTEST_SKIP() << "AGENTD_TEST_PG_DSN is not set: run under tests/harness/with-services --pg";
    }
    dsn_ = dsn;
    static std::atomic<int> counter{0};
    schema_ = "pgtest_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
  }

  PostgresOptions Options() const {
    PostgresOptions o;
    o.dsn = dsn_;
    o.schema = schema_;
    return o;
  }
  PoolOptions Pool(std::size_t size, std::chrono::milliseconds acquire_timeout) const {
    PoolOptions p;
    p.connect.dsn = dsn_;
    p.connect.schema = schema_;
    p.size = size;
    p.acquire_timeout = acquire_timeout;
    return p;
  }

  std::string dsn_;
  std::string schema_;
};

// Holds the pool's only connection while a second caller asks for one.
Task<std::optional<Error>> AcquireWhileHeld(PgPool& pool, std::chrono::milliseconds* waited) {
  auto held = co_await pool.Acquire();
  if (!held) co_return held.error();
  auto start = std::chrono::steady_clock::now();
  auto second = co_await pool.Acquire();
  *waited = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  if (second) co_return std::nullopt;
  co_return second.error();
}

TEST_F(PostgresStorageTest, PoolExhaustionGivesUnavailableWithinTheBoundedWait) {
  PgPool pool(Pool(1, 150ms));
  std::chrono::milliseconds waited{0};
  auto error = RunCo(AcquireWhileHeld(pool, &waited), 10s);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code, Errc::kUnavailable);
  EXPECT_EQ(error->message, "storage pool exhausted");
  EXPECT_GE(waited, 140ms);
  EXPECT_LT(waited, 5s);
}

Task<Result<std::int64_t>> QueryOne(PgPool& pool) {
  auto lease = co_await pool.Acquire();
  if (!lease) co_return lease.error();
  Params params(1, std::string("1"));  // named: GCC 12 rejects braced lists in co_await
  auto r = co_await (*lease)->Query("SELECT 41 + $1::bigint", std::move(params));
  if (!r) co_return r.error();
  co_return r->Int(0, 0);
}

// A waiter is handed the connection its holder releases, long before its deadline.
Task<Result<std::int64_t>> WaiterGetsReleasedConnection(PgPool& pool) {
  auto ex = co_await boost::asio::this_coro::executor;
  std::optional<Lease> held;
  {
    auto lease = co_await pool.Acquire();
    if (!lease) co_return lease.error();
    held.emplace(std::move(*lease));
  }
  boost::asio::steady_timer timer(ex, 50ms);
  boost::asio::co_spawn(
      ex,
      [&held, &timer]() -> Task<void> {
        co_await timer.async_wait(boost::asio::use_awaitable);
        held.reset();
      },
      [](std::exception_ptr e) {
        if (e) ADD_FAILURE() << "releasing coroutine threw";
      });
  co_return co_await QueryOne(pool);
}

TEST_F(PostgresStorageTest, WaiterGetsTheConnectionAReleaseFrees) {
  PgPool pool(Pool(1, 5000ms));
  auto start = std::chrono::steady_clock::now();
  auto r = RunCo(WaiterGetsReleasedConnection(pool), 10s);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, 42);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);
}

TEST_F(PostgresStorageTest, TwoStoragesMigratingOneSchemaConcurrentlyBothSucceed) {
  std::optional<Result<std::unique_ptr<Storage>>> a, b;
  PostgresOptions options = Options();
  std::thread ta([&] { a.emplace(MakePostgresStorage(options)); });
  std::thread tb([&] { b.emplace(MakePostgresStorage(options)); });
  ta.join();
  tb.join();
  ASSERT_TRUE(*a) << (*a).error().message;
  ASSERT_TRUE(*b) << (*b).error().message;
  model::Thread t;
  t.thread_id = "shared";
  ASSERT_TRUE(RunCo((**a)->threads().Create(t, IfExists::kRaise), 10s));
  auto seen = RunCo((**b)->threads().Get("", "shared"), 10s);
  ASSERT_TRUE(seen) << seen.error().message;
  EXPECT_EQ(seen->thread_id, "shared");
}

TEST_F(PostgresStorageTest, UnreachableServerIsUnavailable) {
  PostgresOptions options = Options();
  options.dsn = "postgresql://agentd@127.0.0.1:1/agentd";
  auto storage = MakePostgresStorage(options);
  ASSERT_FALSE(storage);
  EXPECT_EQ(storage.error().code, Errc::kUnavailable);
}

// Kills every other agentd backend of this database, waiting until each is gone.
Task<Result<std::int64_t>> KillOtherBackends(PgPool& killer) {
  auto lease = co_await killer.Acquire();
  if (!lease) co_return lease.error();
  auto r = co_await (*lease)->Query(
      "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000)) FROM pg_stat_activity "
      "WHERE application_name = 'agentd' AND pid <> pg_backend_pid() "
      "AND datname = current_database()");
  if (!r) co_return r.error();
  co_return r->Int(0, 0);
}

TEST_F(PostgresStorageTest, KilledConnectionIsReplacedAndTheNextCallSucceeds) {
  PostgresOptions options = Options();
  options.pool_size = 1;
  auto storage = MakePostgresStorage(options);
  ASSERT_TRUE(storage) << storage.error().message;
  Storage& s = **storage;
  ASSERT_TRUE(RunCo(s.Ping(), 10s));  // opens the pool's one connection

  PgPool killer(Pool(1, 1000ms));
  auto killed = RunCo(KillOtherBackends(killer), 10s);
  ASSERT_TRUE(killed) << killed.error().message;
  EXPECT_GE(*killed, 1);

  // Either the pool notices the dead idle connection and opens a new one, or the call fails
  // cleanly with kUnavailable; the call after it must succeed.
  model::Thread t;
  t.thread_id = "after-kill";
  auto first = RunCo(s.threads().Create(t, IfExists::kRaise), 10s);
  if (!first) {
    EXPECT_EQ(first.error().code, Errc::kUnavailable) << first.error().message;
    ASSERT_TRUE(RunCo(s.threads().Create(t, IfExists::kRaise), 10s));
  }
  auto got = RunCo(s.threads().Get("", "after-kill"), 10s);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_TRUE(RunCo(s.Ping(), 10s));
}

TEST_F(PostgresStorageTest, UniqueViolationMapsToConflict) {
  auto storage = MakePostgresStorage(Options());
  ASSERT_TRUE(storage) << storage.error().message;
  model::Run run;
  run.run_id = "r1";
  run.thread_id = "t1";
  ASSERT_TRUE(RunCo((*storage)->runs().Create(run), 10s));
  auto again = RunCo((*storage)->runs().Create(run), 10s);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::kConflict);
  // The failed statement left the connection usable.
  EXPECT_TRUE(RunCo((*storage)->Ping(), 10s));
}

}  // namespace
}  // namespace agentd::storage::postgres
