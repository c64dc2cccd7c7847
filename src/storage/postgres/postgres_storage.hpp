#pragma once
// PostgreSQL Storage: libpq in non-blocking mode, its sockets awaited on the caller's event
// loop, a bounded connection pool shared by every loop, prepared statements, and migrations
// applied at start under an advisory lock. See storage/postgres/README.md.

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "common/error.hpp"
#include "storage/clock.hpp"
#include "storage/storage.hpp"

namespace agentd::observe {
class Metrics;
}

namespace agentd::storage {

struct PostgresOptions {
  // libpq connection string or URI, e.g. "postgresql://agentd@127.0.0.1:5432/agentd".
  std::string dsn;
  // Schema holding agentd's tables (created when missing); tests give each storage its own.
  std::string schema = "public";
  // Most connections open at once, across every event loop.
  std::size_t pool_size = 16;
  // How long a call waits for a free connection before failing with kUnavailable
  // "storage pool exhausted" (the API answers 503).
  std::chrono::milliseconds acquire_timeout{2000};
  // Bound on opening one connection (TCP + auth + setup).
  std::chrono::milliseconds connect_timeout{5000};
  // Bound on one statement's round trip; past it the connection is dropped, the call fails
  // with kUnavailable.
  std::chrono::milliseconds query_timeout{30000};
  // created_at/updated_at stamps and TTL expiry; empty means NowMs().
  Clock clock;
  // The owner name this process uses in run leases (cluster mode): a checkpoint of a run
  // leased to another owner is refused (kConflict), so an instance paused past its lease cannot
  // write into a run another instance has adopted. Empty: no fence (no leases held).
  std::string instance_id;
  // Registers agentd_pg_round_trips_total there when set (must outlive the storage).
  observe::Metrics* metrics = nullptr;
};

// Connects once (blocking: call it at startup, not on an event loop), applies pending
// migrations under pg_advisory_lock so instances starting together are safe, and returns the
// storage; its pool then opens connections lazily, non-blocking, on the callers' loops.
// kUnavailable when the database cannot be reached or its schema is newer than this binary.
Result<std::unique_ptr<Storage>> MakePostgresStorage(const PostgresOptions& options);

}  // namespace agentd::storage
