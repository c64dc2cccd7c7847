#pragma once
// SQLite Storage: one file, WAL, one connection owned by a storage thread. Every method posts
// a job to that thread and completes back on the caller's executor, so no event loop blocks;
// jobs queued together commit together (group commit), each under its own SAVEPOINT. See
// storage/sqlite/README.md.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/error.hpp"
#include "storage/clock.hpp"
#include "storage/storage.hpp"

namespace agentd::observe {
class Metrics;
}

namespace agentd::storage {

struct SqliteOptions {
  std::string path;  // the database file; created (with its schema) when missing
  int busy_timeout_ms = 5000;
  // Most jobs committed in one transaction; bounds the latency one batch adds.
  std::size_t max_batch = 256;
  // created_at/updated_at stamps and TTL expiry; empty means NowMs().
  Clock clock;
  // Bytes kept allocated in `<path>.reserve` and deleted when the disk fills up, so that runs
  // can still record how they ended; storage counts as writable (/ready) only while the
  // reserve is held. 0: none (a leftover reserve file is deleted).
  std::uint64_t reserve_bytes = 0;
  // How often the storage thread checks that the file is still linked at `path` and, while
  // writes fail, tries to recreate the reserve and commit a test write.
  std::chrono::milliseconds check_interval{1000};
  // Gauges agentd_storage_writes_failing and agentd_storage_file_lost; may be null.
  observe::Metrics* metrics = nullptr;
  // Test hooks, called on the storage thread: before it takes a batch of queued jobs, and
  // after a batch finished, with its job count.
  std::function<void()> before_batch_for_test;
  std::function<void(std::size_t)> after_batch_for_test;
  // Asked before every COMMIT: true fails it as a full disk would (SQLITE_FULL).
  std::function<bool()> fail_commit_for_test;
};

// Opens (creating when missing) the database and applies pending migrations on the calling
// thread, then starts the storage thread. kUnavailable when the file cannot be opened or its
// schema is newer than this binary. Storage::Writable() reports what worker.hpp describes:
// writes failing (disk full, I/O errors) until space is back, and a database file deleted or
// replaced under the server (every write then refused with kUnavailable) until restart.
Result<std::unique_ptr<Storage>> MakeSqliteStorage(const SqliteOptions& options);

}  // namespace agentd::storage
