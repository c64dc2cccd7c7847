// SQLite storage when the disk or the file goes away under it (storage/sqlite/worker.hpp):
// a full disk (a COMMIT failing as SQLITE_FULL, injected) releases the reserve and makes
// storage not writable until the reserve is back and a test write commits; a database file
// deleted, moved or replaced under the server is found (before the next COMMIT, and by the
// periodic check), every write is then refused with kUnavailable while reads still answer,
// and the gauges say so.
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "observe/metrics.hpp"
#include "storage/sqlite/sqlite_storage.hpp"
#include "support/run_co.hpp"
#include "support/temp_dir.hpp"

namespace agentd::storage {
namespace {

namespace fs = std::filesystem;
using agentd::testing::RunCo;
using namespace std::chrono_literals;

constexpr std::uint64_t kReserve = 64 * 1024;

model::Thread NewThread(std::string id) {
  model::Thread t;
  t.thread_id = std::move(id);
  return t;
}

// Polls `done` until it holds or `bound` passes (the storage thread checks on its own timer).
bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds bound = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

std::int64_t FileSize(const fs::path& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<std::int64_t>(st.st_size) : -1;
}

double GaugeValue(const observe::Metrics& metrics, const std::string& name) {
  const std::string text = metrics.RenderPrometheus();
  const std::string prefix = "\n" + name + " ";
  auto at = text.find(prefix);
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + prefix.size()));
}

class SqliteHealthTest : public ::testing::Test {
 protected:
  SqliteHealthTest() : db_path_(dir_.path() / "agentd.db") {}

  std::unique_ptr<Storage> Open(std::uint64_t reserve = kReserve) {
    SqliteOptions options;
    options.path = db_path_.string();
    options.reserve_bytes = reserve;
    options.check_interval = 20ms;
    options.metrics = &metrics_;
    options.fail_commit_for_test = [this] { return disk_full_.load(); };
    auto storage = MakeSqliteStorage(options);
    if (!storage) throw std::runtime_error(storage.error().message);
    return std::move(*storage);
  }
  fs::path reserve_path() const { return fs::path(db_path_.string() + ".reserve"); }
  static std::string Why(const Storage& s) {
    std::string why;
    return s.Writable(&why) ? std::string("writable") : why;
  }

  agentd::testing::TempDir dir_;
  fs::path db_path_;
  observe::Metrics metrics_;
  std::atomic<bool> disk_full_{false};
};

TEST_F(SqliteHealthTest, FullDiskReleasesTheReserveUntilSpaceAndWritesAreBack) {
  auto s = Open();
  ASSERT_TRUE(RunCo(s->threads().Create(NewThread("before"), IfExists::kRaise)));
  EXPECT_EQ(Why(*s), "writable");
  EXPECT_EQ(FileSize(reserve_path()), static_cast<std::int64_t>(kReserve));
  EXPECT_EQ(GaugeValue(metrics_, "agentd_storage_writes_failing"), 0);

  disk_full_ = true;
  auto refused = RunCo(s->threads().Create(NewThread("during"), IfExists::kRaise));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::kUnavailable);
  EXPECT_NE(refused.error().message.find("disk is full"), std::string::npos)
      << refused.error().message;
  // Known as soon as the failing write returns: the reserve is gone, /ready would fail.
  EXPECT_NE(Why(*s).find("writes fail (database or disk is full)"), std::string::npos) << Why(*s);
  EXPECT_EQ(FileSize(reserve_path()), -1);
  EXPECT_EQ(GaugeValue(metrics_, "agentd_storage_writes_failing"), 1);
  // Reads still answer; the failed write left nothing.
  EXPECT_TRUE(RunCo(s->threads().Get("", "before")));
  auto missing = RunCo(s->threads().Get("", "during"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::kNotFound);
  // Still full: the periodic probe fails and storage stays not writable, reserve not held.
  ASSERT_TRUE(RunCo(s->Ping()));
  EXPECT_NE(Why(*s), "writable");

  disk_full_ = false;
  ASSERT_TRUE(WaitFor([&] { return Why(*s) == "writable"; })) << Why(*s);
  EXPECT_EQ(FileSize(reserve_path()), static_cast<std::int64_t>(kReserve));
  EXPECT_EQ(GaugeValue(metrics_, "agentd_storage_writes_failing"), 0);
  EXPECT_TRUE(RunCo(s->threads().Create(NewThread("after"), IfExists::kRaise)));
}

TEST_F(SqliteHealthTest, AReserveThatCannotBeAllocatedLeavesStorageNotWritable) {
  // More than any test filesystem holds: posix_fallocate fails (ENOSPC or EFBIG).
  auto s = Open(std::uint64_t{1} << 50);
  ASSERT_TRUE(RunCo(s->Ping()));  // the storage thread tried the reserve before this batch
  EXPECT_NE(Why(*s).find("no room for the reserve (cannot reserve"), std::string::npos) << Why(*s);
  EXPECT_FALSE(fs::exists(reserve_path()));  // no partial reserve left taking space
  // Writes are still attempted (the disk is not full).
  EXPECT_TRUE(RunCo(s->threads().Create(NewThread("t"), IfExists::kRaise)));
}

TEST_F(SqliteHealthTest, NoReserveRemovesALeftoverReserveFile) {
  { auto s = Open(); }
  ASSERT_TRUE(fs::exists(reserve_path()));
  auto s = Open(0);
  EXPECT_FALSE(fs::exists(reserve_path()));
  EXPECT_EQ(Why(*s), "writable");
}

TEST_F(SqliteHealthTest, DeletedDatabaseRefusesEveryWriteButStillAnswersReads) {
  auto s = Open();
  ASSERT_TRUE(RunCo(s->threads().Create(NewThread("kept"), IfExists::kRaise)));
  fs::remove_all(dir_.path());  // the data directory goes, database, WAL and reserve with it

  // The check before COMMIT finds it even if the periodic one has not run yet.
  auto refused = RunCo(s->threads().Create(NewThread("lost"), IfExists::kRaise));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::kUnavailable);
  EXPECT_NE(refused.error().message.find("storage refuses writes: the database file"),
            std::string::npos)
      << refused.error().message;
  EXPECT_NE(refused.error().message.find("deleted"), std::string::npos) << refused.error().message;
  EXPECT_NE(Why(*s).find("writes are refused until agentd restarts"), std::string::npos)
      << Why(*s);
  EXPECT_EQ(GaugeValue(metrics_, "agentd_storage_file_lost"), 1);
  EXPECT_EQ(GaugeValue(metrics_, "agentd_storage_writes_failing"), 1);
  // Reads answer from the open file; nothing written after the loss is there.
  EXPECT_TRUE(RunCo(s->threads().Get("", "kept")));
  EXPECT_FALSE(RunCo(s->threads().Get("", "lost")));
  model::StoreItem item;
  item.namespace_path = {"a"};
  item.key = "k";
  auto put = RunCo(s->items().Put(item));
  ASSERT_FALSE(put);
  EXPECT_EQ(put.error().code, Errc::kUnavailable);
}

TEST_F(SqliteHealthTest, ReplacedDatabaseFileIsFoundWithoutAnyWrite) {
  auto s = Open();
  ASSERT_TRUE(RunCo(s->threads().Create(NewThread("t"), IfExists::kRaise)));
  fs::rename(db_path_, dir_.path() / "moved.db");
  std::ofstream(db_path_) << "";  // another file at the path
  ASSERT_TRUE(WaitFor([&] { return Why(*s) != "writable"; })) << "never noticed";
  EXPECT_NE(Why(*s).find("was replaced by another file"), std::string::npos) << Why(*s);
  auto refused = RunCo(s->threads().Create(NewThread("t2"), IfExists::kRaise));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::kUnavailable);
}

}  // namespace
}  // namespace agentd::storage
