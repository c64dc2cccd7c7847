#pragma once
// Private to postgres/: the connection pool. One pool serves every event loop: a connection is
// used by one coroutine at a time and binds its socket to that coroutine's executor only for
// the duration of a call (pg_conn.hpp), so no per-loop sub-pools are needed. At most `size`
// connections exist; a caller that finds none free waits at most `acquire_timeout`, then gets
// kUnavailable "storage pool exhausted". Connections open lazily; a broken one (killed backend,
// timeout, I/O error) is dropped on release and its slot reopened by the next caller.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "common/error.hpp"
#include "storage/postgres/pg_conn.hpp"

namespace agentd::storage::postgres {

struct PoolOptions {
  ConnectOptions connect;
  std::size_t size = 16;
  std::chrono::milliseconds acquire_timeout{2000};
};

class PgPool;

// A connection on loan; returns it to the pool (or drops it when unusable) when destroyed.
class Lease {
 public:
  Lease(PgPool* pool, std::unique_ptr<PgConn> conn) : pool_(pool), conn_(std::move(conn)) {}
  Lease(Lease&& other) noexcept = default;
  Lease& operator=(Lease&&) = delete;
  ~Lease();
  PgConn& operator*() { return *conn_; }
  PgConn* operator->() { return conn_.get(); }

 private:
  PgPool* pool_;
  std::unique_ptr<PgConn> conn_;
};

class PgPool {
 public:
  explicit PgPool(PoolOptions options);
  ~PgPool();
  PgPool(const PgPool&) = delete;
  PgPool& operator=(const PgPool&) = delete;

  Task<Result<Lease>> Acquire();

  // Request/response exchanges with the server so far, every connection together (the
  // metric agentd_pg_round_trips_total when the storage was given a registry).
  std::uint64_t round_trips() const { return round_trips_->value(); }

 private:
  friend class Lease;
  struct Waiter;

  void Release(std::unique_ptr<PgConn> conn);
  // Frees one connection slot (its connection is gone): hands it to a waiter, if any.
  void ReleaseSlotLocked();
  Task<Result<Lease>> Open();

  observe::Counter own_round_trips_;  // used when options.connect.round_trips is unset
  observe::Counter* round_trips_;
  PoolOptions options_;
  std::mutex mu_;
  std::vector<std::unique_ptr<PgConn>> idle_;
  std::deque<std::shared_ptr<Waiter>> waiters_;
  std::size_t open_ = 0;  // connections that exist or are being opened
};

}  // namespace agentd::storage::postgres
