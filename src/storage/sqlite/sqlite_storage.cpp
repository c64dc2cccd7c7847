#include "storage/sqlite/sqlite_storage.hpp"

#include "storage/sqlite/db.hpp"
#include "storage/sqlite/file_guard.hpp"
#include "storage/sqlite/migrations.hpp"
#include "storage/sqlite/sqlite_stores.hpp"
#include "storage/sqlite/worker.hpp"

namespace agentd::storage {
namespace sqlite {
namespace {

class SqliteStorage final : public Storage {
 public:
  SqliteStorage(std::unique_ptr<Worker> worker, Clock clock)
      : worker_(std::move(worker)),
        assistants_(Context{*worker_, clock}),
        threads_(Context{*worker_, clock}),
        checkpoints_(Context{*worker_, clock}),
        runs_(Context{*worker_, clock}),
        items_(Context{*worker_, clock}) {}

  AssistantStore& assistants() override { return assistants_; }
  ThreadStore& threads() override { return threads_; }
  CheckpointStore& checkpoints() override { return checkpoints_; }
  RunStore& runs() override { return runs_; }
  ItemStore& items() override { return items_; }
  std::string_view backend_name() const override { return "sqlite"; }
  bool Writable(std::string* why) const override { return worker_->Writable(why); }

  Task<Status> Ping() override {
    return RunStatusJob(*worker_, [](Db& db) { return db.Run("SELECT 1"); });
  }

  Task<Status> Truncate(TruncateOptions options) override {
    return RunStatusJob(*worker_, [options](Db& db) -> Status {
      std::vector<std::string_view> statements;
      if (options.runs) statements.push_back("DELETE FROM runs");
      if (options.threads) statements.push_back("DELETE FROM threads");
      if (options.checkpointer) {
        statements.push_back("DELETE FROM checkpoint_messages");
        statements.push_back("DELETE FROM checkpoints");
      }
      if (options.assistants) {
        // System assistants stay; versions of the others go with them (ON DELETE CASCADE).
        statements.push_back(
            "DELETE FROM assistants WHERE json_extract(metadata, '$.created_by') IS NOT 'system'");
      }
      if (options.store) statements.push_back("DELETE FROM store_items");
      for (auto sql : statements) {
        if (Status st = db.Run(sql); !st) return st;
      }
      return Status{};
    });
  }

 private:
  std::unique_ptr<Worker> worker_;  // first: the stores below refer to it
  SqliteAssistants assistants_;
  SqliteThreads threads_;
  SqliteCheckpoints checkpoints_;
  SqliteRuns runs_;
  SqliteItems items_;
};

}  // namespace
}  // namespace sqlite

Result<std::unique_ptr<Storage>> MakeSqliteStorage(const SqliteOptions& options) {
  auto db = sqlite::Db::Open(options.path, options.busy_timeout_ms);
  if (!db) return db.error();
  // WAL lets readers of other processes (backup, sqlite3 CLI) run beside the writer;
  // synchronous=NORMAL in WAL mode keeps committed data across a process crash.
  Status st = (*db)->Exec(
      "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;");
  if (!st) return st.error();
  if (st = sqlite::ApplyMigrations(**db); !st) return st.error();
  sqlite::WorkerHooks hooks{options.before_batch_for_test, options.after_batch_for_test,
                            options.fail_commit_for_test};
  sqlite::WorkerOptions worker_options;
  worker_options.max_batch = options.max_batch;
  worker_options.check_interval = options.check_interval;
  worker_options.metrics = options.metrics;
  // A file on disk (not ":memory:" or a URI) is watched, and holds the reserve beside it.
  if (!options.path.empty() && options.path != ":memory:" && options.path.rfind("file:", 0) != 0) {
    auto guard = sqlite::FileGuard::Open(options.path, options.reserve_bytes);
    if (!guard) return guard.error();
    worker_options.guard = std::move(*guard);
  }
  auto worker = std::make_unique<sqlite::Worker>(std::move(*db), std::move(hooks),
                                                 std::move(worker_options));
  return std::unique_ptr<Storage>(std::make_unique<sqlite::SqliteStorage>(
      std::move(worker), OrSystemClock(options.clock)));
}

}  // namespace agentd::storage
