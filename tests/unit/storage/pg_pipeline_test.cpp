// PgConn::Pipeline, InTx's deferred BEGIN and TxPipeline on a real PostgreSQL: results in order,
// one round trip per pipeline, a failure aborts what follows and is the error reported,
// prepared statements created in a pipeline are reused by the next call, a failed transaction
// pipeline leaves nothing behind. Needs AGENTD_TEST_PG_DSN (tests/harness/with-services --pg);
// skipped without it.
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

#include <gtest/gtest.h>

#include "storage/postgres/pg_pool.hpp"
#include "storage/postgres/pg_stores.hpp"
#include "support/run_co.hpp"

namespace agentd::storage::postgres {
namespace {

using namespace std::chrono_literals;
using agentd::testing::RunCo;

constexpr std::string_view kInsert = "INSERT INTO t (id, v) VALUES ($1::int, $2)";
constexpr std::string_view kCount = "SELECT count(*) FROM t";

class PgPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* dsn = std::getenv("AGENTD_TEST_PG_DSN");
    if (dsn == nullptr) {
      GTEST_SKIP() << "AGENTD_TEST_PG_DSN is not set: run under tests/harness/with-services --pg";
    }
    static std::atomic<int> counter{0};
    std::string schema = "pipe_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
    PoolOptions options;
    options.connect.dsn = dsn;
    options.connect.schema = schema;
    options.connect.query_timeout = 10s;
    options.size = 1;  // every call below uses the same connection: prepared statements stay
    options.acquire_timeout = 10s;
    pool_ = std::make_unique<PgPool>(options);
    ASSERT_TRUE(Exec("CREATE SCHEMA " + schema));
    ASSERT_TRUE(Exec("CREATE TABLE t (id int PRIMARY KEY, v text NOT NULL)"));
  }

  Status Exec(std::string sql) { return RunCo(ExecOn(*pool_, std::move(sql)), 10s); }
  static Task<Status> ExecOn(PgPool& pool, std::string sql) {
    auto lease = co_await pool.Acquire();
    if (!lease) co_return lease.error();
    co_return co_await (*lease)->Exec(sql);
  }

  // Runs a pipeline on the pool's connection; `reusable` says whether the pool may keep it.
  Result<std::vector<PgResult>> Pipeline(std::vector<Statement> statements,
                                         bool* reusable = nullptr) {
    return RunCo(PipelineOn(*pool_, std::move(statements), reusable), 10s);
  }
  static Task<Result<std::vector<PgResult>>> PipelineOn(PgPool& pool,
                                                        std::vector<Statement> statements,
                                                        bool* reusable) {
    auto lease = co_await pool.Acquire();
    if (!lease) co_return lease.error();
    auto r = co_await (*lease)->Pipeline(std::move(statements));
    if (reusable != nullptr) *reusable = (*lease)->Reusable();
    co_return r;
  }

  std::int64_t Count() {
    std::vector<Statement> statements;
    statements.push_back(Statement{kCount, {}});
    auto r = Pipeline(std::move(statements));
    if (!r) {
      ADD_FAILURE() << "count: " << r.error().message;
      return -1;
    }
    return r->front().Int(0, 0);
  }

  std::unique_ptr<PgPool> pool_;
};

Statement Insert(int id, std::string v) { return Statement{kInsert, P(id, std::move(v))}; }

TEST_F(PgPipelineTest, ReturnsEveryResultInOrderInOneRoundTrip) {
  std::vector<Statement> statements;
  statements.push_back(Insert(1, "a"));
  statements.push_back(Statement{"SELECT $1::int * 10", P(4)});
  statements.push_back(Insert(2, "b"));
  statements.push_back(Statement{"SELECT v FROM t ORDER BY id", {}});
  statements.push_back(Plain("SELECT 'plain'"));
  auto before = pool_->round_trips();
  bool reusable = false;
  auto r = Pipeline(std::move(statements), &reusable);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(pool_->round_trips() - before, 1u);
  ASSERT_EQ(r->size(), 5u);
  EXPECT_EQ((*r)[0].affected(), 1);
  EXPECT_EQ((*r)[1].Text(0, 0), "40");
  EXPECT_EQ((*r)[2].affected(), 1);
  ASSERT_EQ((*r)[3].rows(), 2);
  EXPECT_EQ((*r)[3].Text(0, 0), "a");
  EXPECT_EQ((*r)[3].Text(1, 0), "b");
  EXPECT_EQ((*r)[4].Text(0, 0), "plain");
  EXPECT_TRUE(reusable);
}

TEST_F(PgPipelineTest, AFailureAbortsTheRestAndIsTheErrorReported) {
  std::vector<Statement> statements;
  statements.push_back(Insert(1, "a"));
  statements.push_back(Insert(1, "duplicate"));  // 23505
  statements.push_back(Insert(2, "b"));          // skipped by the server
  auto before = pool_->round_trips();
  bool reusable = false;
  auto r = Pipeline(std::move(statements), &reusable);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kConflict) << r.error().message;
  EXPECT_NE(r.error().message.find("duplicate key"), std::string::npos) << r.error().message;
  EXPECT_EQ(pool_->round_trips() - before, 1u);
  EXPECT_TRUE(reusable);  // the Sync ended the implicit transaction: nothing left open
  // Statements between two Syncs are one implicit transaction: the first insert went too.
  EXPECT_EQ(Count(), 0);

  std::vector<Statement> other;
  other.push_back(Statement{"SELECT 1", {}});
  other.push_back(Statement{"SELECT 1 / $1::int", P(0)});
  other.push_back(Statement{"SELECT 3", {}});
  auto division = Pipeline(std::move(other));
  ASSERT_FALSE(division);
  EXPECT_EQ(division.error().code, Errc::kInternal);
  EXPECT_NE(division.error().message.find("division by zero"), std::string::npos)
      << division.error().message;
}

TEST_F(PgPipelineTest, StatementsPreparedInOnePipelineServeTheNext) {
  auto first = Pipeline([] {
    std::vector<Statement> s;
    s.push_back(Insert(1, "a"));
    return s;
  }());
  ASSERT_TRUE(first) << first.error().message;
  auto before = pool_->round_trips();
  auto second = Pipeline([] {
    std::vector<Statement> s;
    s.push_back(Insert(2, "b"));
    s.push_back(Insert(3, "c"));  // the same SQL twice in one pipeline: prepared once
    return s;
  }());
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(pool_->round_trips() - before, 1u);
  EXPECT_EQ(Count(), 3);

  // A Parse that ran before a failure stays prepared (prepared statements are not
  // transactional); one the failure skipped is prepared again next time. Either bookkeeping
  // mistake makes the last two calls fail ("prepared statement does not exist" / "already
  // exists").
  auto failed = Pipeline([] {
    std::vector<Statement> s;
    s.push_back(Statement{"SELECT $1::text || 'x'", P("a")});
    s.push_back(Statement{"SELECT 1 / $1::int", P(0)});
    s.push_back(Statement{"SELECT $1::text || 'y'", P("b")});
    return s;
  }());
  ASSERT_FALSE(failed);
  auto again = Pipeline([] {
    std::vector<Statement> s;
    s.push_back(Statement{"SELECT $1::text || 'x'", P("c")});
    s.push_back(Statement{"SELECT $1::text || 'y'", P("d")});
    return s;
  }());
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ((*again)[0].Text(0, 0), "cx");
  EXPECT_EQ((*again)[1].Text(0, 0), "dy");
  // The connection's ordinary use is untouched: Query and Exec after pipelines.
  auto query = RunCo(
      [](PgPool& pool) -> Task<Result<PgResult>> {
        auto lease = co_await pool.Acquire();
        if (!lease) co_return lease.error();
        if (Status st = co_await (*lease)->Exec("SET application_name = 'x'"); !st) {
          co_return st.error();
        }
        co_return co_await (*lease)->Query("SELECT $1::text || 'x'", P("e"));
      }(*pool_),
      10s);
  ASSERT_TRUE(query) << query.error().message;
  EXPECT_EQ(query->Text(0, 0), "ex");
}

TEST_F(PgPipelineTest, ATimeoutMarksTheConnectionBroken) {
  PoolOptions options;
  options.connect.dsn = std::getenv("AGENTD_TEST_PG_DSN");
  options.connect.query_timeout = 100ms;
  options.size = 1;
  PgPool pool(options);
  bool reusable = true;
  auto r = RunCo(PipelineOn(pool,
                            [] {
                              std::vector<Statement> s;
                              s.push_back(Statement{"SELECT 1", {}});
                              s.push_back(Statement{"SELECT pg_sleep(5)", {}});
                              return s;
                            }(),
                            &reusable),
                 10s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kUnavailable);
  EXPECT_FALSE(reusable);
}

// ------------------------------------------------------------------ transactions

TEST_F(PgPipelineTest, TxPipelineCommitsInOneRoundTrip) {
  auto before = pool_->round_trips();
  std::vector<Statement> statements;
  statements.push_back(Insert(1, "a"));
  statements.push_back(Insert(2, "b"));
  auto r = RunCo(TxPipeline(*pool_, std::move(statements)), 10s);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(pool_->round_trips() - before, 1u);
  ASSERT_EQ(r->size(), 2u);  // BEGIN's and COMMIT's results are not the caller's
  EXPECT_EQ((*r)[1].affected(), 1);
  EXPECT_EQ(Count(), 2);
}

TEST_F(PgPipelineTest, TxPipelineThatFailsRollsBackEverything) {
  std::vector<Statement> statements;
  statements.push_back(Insert(1, "a"));
  statements.push_back(Insert(2, "b"));
  statements.push_back(Insert(1, "duplicate"));
  auto r = RunCo(TxPipeline(*pool_, std::move(statements)), 10s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kConflict);
  EXPECT_EQ(Count(), 0);
  // The pool kept the connection (it was rolled back, not left mid-transaction).
  std::vector<Statement> next;
  next.push_back(Insert(5, "e"));
  auto after = RunCo(TxPipeline(*pool_, std::move(next)), 10s);
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_EQ(Count(), 1);
}

Task<Result<int>> InsertTwo(PgPool& pool, bool commit_with_last, bool fail_second) {
  return InTx<int>(pool, [commit_with_last, fail_second](PgConn& c) -> Task<Result<int>> {
    auto a = co_await c.Query(kInsert, P(1, "a"));
    if (!a) co_return a.error();
    if (commit_with_last) c.CommitAfterNext();
    auto b = co_await c.Query(kInsert, P(fail_second ? 1 : 2, "b"));
    if (!b) co_return b.error();
    co_return 2;
  });
}

TEST_F(PgPipelineTest, InTxSendsBeginWithTheFirstStatement) {
  ASSERT_TRUE(RunCo(InsertTwo(*pool_, false, false), 10s));  // prepares kInsert
  ASSERT_TRUE(Exec("DELETE FROM t"));
  auto before = pool_->round_trips();
  auto r = RunCo(InsertTwo(*pool_, false, false), 10s);
  ASSERT_TRUE(r) << r.error().message;
  // BEGIN + insert, insert, COMMIT (it was five exchanges before pipelining).
  EXPECT_EQ(pool_->round_trips() - before, 3u);
  EXPECT_EQ(Count(), 2);
}

TEST_F(PgPipelineTest, InTxCommitsWithTheLastStatementWhenAsked) {
  auto before = pool_->round_trips();
  auto r = RunCo(InsertTwo(*pool_, true, false), 10s);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(pool_->round_trips() - before, 2u);  // BEGIN + insert, insert + COMMIT
  EXPECT_EQ(Count(), 2);
}

TEST_F(PgPipelineTest, InTxRollsBackWhenTheStatementCarryingCommitFails) {
  auto r = RunCo(InsertTwo(*pool_, true, true), 10s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kConflict);
  EXPECT_EQ(Count(), 0);  // the first insert went with the rollback
}

TEST_F(PgPipelineTest, InTxThatSendsNothingOpensNoTransaction) {
  auto before = pool_->round_trips();
  auto r = RunCo(InTx<int>(*pool_, [](PgConn&) -> Task<Result<int>> { co_return 7; }), 10s);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 7);
  EXPECT_EQ(pool_->round_trips() - before, 0u);
  EXPECT_EQ(Count(), 0);  // and the connection still serves plain statements
}

}  // namespace
}  // namespace agentd::storage::postgres
