#pragma once
// SQLite Storage: one file, WAL, one connection owned by a storage thread. Every method posts
// a job to that thread and completes back on the caller's executor, so no event loop blocks;
// jobs queued together commit together (group commit), each under its own SAVEPOINT. See
// storage/sqlite/README.md.

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "common/error.hpp"
#include "storage/clock.hpp"
#include "storage/storage.hpp"

namespace agentd::storage {

struct SqliteOptions {
  std::string path;  // the database file; created (with its schema) when missing
  int busy_timeout_ms = 5000;
  // Most jobs committed in one transaction; bounds the latency one batch adds.
  std::size_t max_batch = 256;
  // created_at/updated_at stamps and TTL expiry; empty means NowMs().
  Clock clock;
  // Test hooks, called on the storage thread: before it takes a batch of queued jobs, and
  // after a batch finished, with its job count.
  std::function<void()> before_batch_for_test;
  std::function<void(std::size_t)> after_batch_for_test;
};

// Opens (creating when missing) the database and applies pending migrations on the calling
// thread, then starts the storage thread. kUnavailable when the file cannot be opened or its
// schema is newer than this binary.
Result<std::unique_ptr<Storage>> MakeSqliteStorage(const SqliteOptions& options);

}  // namespace agentd::storage
