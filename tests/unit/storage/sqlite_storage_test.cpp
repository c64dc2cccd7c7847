// SQLite-only behaviour the contract suite cannot see: durability across reopen, the schema
// and pragmas on disk, group commit from several event loops, completion on the caller's
// executor, per-job rollback inside a batch, and a destructor that finishes queued work.
#include "storage/sqlite/sqlite_storage.hpp"

#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "storage/sqlite/migrations.hpp"
#include "support/run_co.hpp"
#include "support/temp_dir.hpp"

namespace agentd::storage {
namespace {

namespace asio = boost::asio;
using agentd::testing::RunCo;

model::Thread NewThread(std::string id) {
  model::Thread t;
  t.thread_id = std::move(id);
  return t;
}

model::Checkpoint NewCheckpoint(std::string thread_id, std::string id) {
  model::Checkpoint c;
  c.thread_id = std::move(thread_id);
  c.checkpoint_id = std::move(id);
  c.appended_messages.push_back("m");
  c.message_count = 1;
  return c;
}

std::unique_ptr<Storage> Open(SqliteOptions options) {
  auto storage = MakeSqliteStorage(options);
  if (!storage) throw std::runtime_error(storage.error().message);
  return std::move(*storage);
}

// One answer of a pragma, read with a separate connection (the test may include sqlite3.h).
std::string Pragma(const std::string& path, const std::string& pragma) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  std::string sql = "PRAGMA " + pragma;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK);
  std::string out;
  if (sqlite3_step(stmt) == SQLITE_ROW) {
    out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return out;
}

class SqliteStorageTest : public ::testing::Test {
 protected:
  SqliteOptions Options() {
    SqliteOptions o;
    o.path = (dir_.path() / "agentd.db").string();
    return o;
  }
  agentd::testing::TempDir dir_;
};

TEST_F(SqliteStorageTest, DataSurvivesCloseAndReopenWithoutReapplyingMigrations) {
  auto options = Options();
  {
    auto s = Open(options);
    ASSERT_TRUE(RunCo(s->threads().Create(NewThread("t1"), IfExists::kRaise)));
    ASSERT_TRUE(RunCo(s->checkpoints().Put(NewCheckpoint("t1", "c1"))));
    model::StoreItem item;
    item.namespace_path = {"a", "b"};
    item.key = "k";
    item.value = boost::json::parse(R"({"v":1})").as_object();
    ASSERT_TRUE(RunCo(s->items().Put(item)));
  }
  EXPECT_EQ(Pragma(options.path, "user_version"), std::to_string(sqlite::kMigrationCount));
  EXPECT_EQ(Pragma(options.path, "journal_mode"), "wal");
  // Reopening would fail if the migration ran again (CREATE TABLE on existing tables).
  auto s = Open(options);
  EXPECT_EQ(Pragma(options.path, "user_version"), std::to_string(sqlite::kMigrationCount));
  EXPECT_TRUE(RunCo(s->threads().Get("", "t1")));
  auto writes = RunCo(s->checkpoints().MessageWrites("t1", "c1"));
  ASSERT_TRUE(writes);
  EXPECT_EQ(writes->size(), 1u);
  auto item = RunCo(s->items().Get("", {"a", "b"}, "k", false));
  ASSERT_TRUE(item && item->has_value());
  EXPECT_EQ((*item)->value, boost::json::parse(R"({"v":1})"));
  EXPECT_EQ(s->backend_name(), "sqlite");
}

TEST_F(SqliteStorageTest, RefusesADatabaseFromANewerSchema) {
  auto options = Options();
  { Open(options); }
  Pragma(options.path, "user_version = 99");
  auto s = MakeSqliteStorage(options);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Errc::kUnavailable);
}

asio::awaitable<void> CreateMany(Storage& s, std::string prefix, int n,
                                 std::atomic<int>& succeeded) {
  for (int i = 0; i < n; ++i) {
    auto r = co_await s.threads().Create(NewThread(prefix + std::to_string(i)), IfExists::kRaise);
    if (r) ++succeeded;
  }
}

TEST_F(SqliteStorageTest, ConcurrentWritesFromTwoEventLoopsAllComplete) {
  std::mutex mu;
  std::vector<std::size_t> batches;
  auto options = Options();
  options.after_batch_for_test = [&](std::size_t n) {
    std::lock_guard lock(mu);
    batches.push_back(n);
  };
  auto s = Open(options);
  constexpr int kLoops = 2, kWriters = 8, kPerWriter = 10;
  std::atomic<int> succeeded{0};
  std::vector<std::thread> threads;
  for (int l = 0; l < kLoops; ++l) {
    threads.emplace_back([&, l] {
      asio::io_context io;
      for (int w = 0; w < kWriters; ++w) {
        std::string prefix = "l" + std::to_string(l) + "w" + std::to_string(w) + "-";
        asio::co_spawn(io, CreateMany(*s, prefix, kPerWriter, succeeded),
                       [](std::exception_ptr e) { EXPECT_FALSE(e); });
      }
      io.run_for(std::chrono::seconds(20));
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(succeeded.load(), kLoops * kWriters * kPerWriter);
  ThreadQuery q;
  auto count = RunCo(s->threads().Count(q));
  ASSERT_TRUE(count);
  EXPECT_EQ(*count, kLoops * kWriters * kPerWriter);
  std::lock_guard lock(mu);
  std::size_t jobs = 0;
  for (auto n : batches) jobs += n;
  EXPECT_GE(jobs, static_cast<std::size_t>(kLoops * kWriters * kPerWriter));
}

asio::awaitable<bool> GetAndCheckExecutor(Storage& s, asio::io_context::executor_type loop) {
  auto r = co_await s.threads().Get("", "t1");
  co_return r.has_value() && loop.running_in_this_thread();
}

TEST_F(SqliteStorageTest, CompletesOnTheCallersExecutor) {
  auto s = Open(Options());
  ASSERT_TRUE(RunCo(s->threads().Create(NewThread("t1"), IfExists::kRaise)));
  asio::io_context io;
  std::promise<bool> resumed_here;
  asio::co_spawn(io, GetAndCheckExecutor(*s, io.get_executor()),
                 [&](std::exception_ptr e, bool ok) { resumed_here.set_value(!e && ok); });
  std::thread loop([&] { io.run_for(std::chrono::seconds(20)); });
  auto result = resumed_here.get_future();
  ASSERT_EQ(result.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  EXPECT_TRUE(result.get());
  loop.join();
}

// Holds the storage thread at its next batch until released, so a test can queue several
// jobs and have them committed as one batch.
struct BatchGate {
  std::atomic<bool> armed{false};
  std::promise<void> entered;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::mutex mu;
  std::condition_variable batch_done;
  std::vector<std::size_t> batches;

  // after_batch_for_test runs on the storage thread after the batch's completions were
  // posted, so the caller can see its results before the batch is recorded: wait for it.
  bool WaitForBatches(std::size_t count) {
    std::unique_lock lock(mu);
    return batch_done.wait_for(lock, std::chrono::seconds(20),
                               [&] { return batches.size() >= count; });
  }

  void Install(SqliteOptions& options) {
    options.before_batch_for_test = [this] {
      if (armed.exchange(false)) {
        entered.set_value();
        released.wait();
      }
    };
    options.after_batch_for_test = [this](std::size_t n) {
      {
        std::lock_guard lock(mu);
        batches.push_back(n);
      }
      batch_done.notify_all();
    };
  }
};

template <class T>
asio::awaitable<void> Store(asio::awaitable<T> op, std::optional<T>& out) {
  out.emplace(co_await std::move(op));
}

TEST_F(SqliteStorageTest, AFailingJobRollsBackAloneAndTheRestOfItsBatchCommits) {
  BatchGate gate;
  auto options = Options();
  gate.Install(options);
  auto s = Open(options);
  ASSERT_TRUE(RunCo(s->threads().Create(NewThread("dup"), IfExists::kRaise)));

  gate.armed = true;
  asio::io_context io;
  std::optional<Result<model::Thread>> x1, dup, x2;
  std::optional<Status> c1, c1_again;
  auto log = [](std::exception_ptr e) { EXPECT_FALSE(e); };
  asio::co_spawn(io, Store(s->threads().Create(NewThread("x1"), IfExists::kRaise), x1), log);
  asio::co_spawn(io, Store(s->threads().Create(NewThread("dup"), IfExists::kRaise), dup), log);
  asio::co_spawn(io, Store(s->checkpoints().Put(NewCheckpoint("x1", "c1")), c1), log);
  asio::co_spawn(io, Store(s->checkpoints().Put(NewCheckpoint("x1", "c1")), c1_again), log);
  asio::co_spawn(io, Store(s->threads().Create(NewThread("x2"), IfExists::kRaise), x2), log);
  io.poll();  // every coroutine runs up to its job: five jobs queued
  ASSERT_EQ(gate.entered.get_future().wait_for(std::chrono::seconds(20)),
            std::future_status::ready);
  gate.release.set_value();
  io.run_for(std::chrono::seconds(20));

  ASSERT_TRUE(x1 && dup && x2 && c1 && c1_again);
  EXPECT_TRUE(*x1);
  ASSERT_FALSE(*dup);
  EXPECT_EQ(dup->error().code, Errc::kConflict);
  EXPECT_TRUE(*c1);
  ASSERT_FALSE(*c1_again);
  EXPECT_EQ(c1_again->error().code, Errc::kConflict);
  EXPECT_TRUE(*x2);
  ASSERT_TRUE(gate.WaitForBatches(2));
  {
    std::lock_guard lock(gate.mu);
    EXPECT_EQ(gate.batches[1], 5u);  // after the setup batch: all five in one transaction
  }
  EXPECT_TRUE(RunCo(s->threads().Get("", "x2")));
  auto writes = RunCo(s->checkpoints().MessageWrites("x1", "c1"));
  ASSERT_TRUE(writes);
  EXPECT_EQ(writes->size(), 1u);  // the failed duplicate added no rows
}

TEST_F(SqliteStorageTest, DestructorFinishesQueuedJobsBeforeClosing) {
  BatchGate gate;
  auto options = Options();
  gate.Install(options);
  auto s = Open(options);
  gate.armed = true;
  asio::io_context io;
  std::optional<Result<model::Thread>> a, b;
  auto log = [](std::exception_ptr e) { EXPECT_FALSE(e); };
  asio::co_spawn(io, Store(s->threads().Create(NewThread("a"), IfExists::kRaise), a), log);
  asio::co_spawn(io, Store(s->threads().Create(NewThread("b"), IfExists::kRaise), b), log);
  io.poll();
  ASSERT_EQ(gate.entered.get_future().wait_for(std::chrono::seconds(20)),
            std::future_status::ready);
  // Close while both jobs wait. Whether the destructor starts before or after the gate opens,
  // it must commit both queued jobs before it joins.
  std::thread closer([&] { s.reset(); });
  gate.release.set_value();
  closer.join();
  io.run_for(std::chrono::seconds(20));
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(*a);
  EXPECT_TRUE(*b);
  auto reopened = Open(Options());
  EXPECT_TRUE(RunCo(reopened->threads().Get("", "a")));
  EXPECT_TRUE(RunCo(reopened->threads().Get("", "b")));
}

}  // namespace
}  // namespace agentd::storage
