#include "storage/postgres/pg_pool.hpp"

#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace agentd::storage::postgres {
namespace asio = boost::asio;

// A caller waiting for a connection. Filled under the pool's mutex by whoever frees one; its
// timer is cancelled on the waiter's own executor (timers are not thread-safe).
struct PgPool::Waiter {
  explicit Waiter(asio::any_io_executor ex, SteadyClock::time_point deadline)
      : executor(ex), timer(ex, deadline) {}
  asio::any_io_executor executor;
  asio::steady_timer timer;
  std::unique_ptr<PgConn> conn;  // a free connection handed over
  bool slot = false;             // or the right to open a new one
};

Lease::~Lease() {
  if (pool_ != nullptr && conn_ != nullptr) pool_->Release(std::move(conn_));
}

PgPool::PgPool(PoolOptions options)
    : round_trips_(options.connect.round_trips != nullptr ? options.connect.round_trips
                                                          : &own_round_trips_),
      options_(std::move(options)) {
  options_.size = std::max<std::size_t>(options_.size, 1);
  options_.connect.round_trips = round_trips_;
}

PgPool::~PgPool() {
  std::lock_guard lock(mu_);
  idle_.clear();  // PQfinish each
}

Task<Result<Lease>> PgPool::Acquire() {
  auto executor = co_await asio::this_coro::executor;
  while (true) {
    std::unique_ptr<PgConn> conn;
    std::shared_ptr<Waiter> waiter;
    bool open_new = false;
    {
      std::lock_guard lock(mu_);
      if (!idle_.empty()) {
        conn = std::move(idle_.back());
        idle_.pop_back();
      } else if (open_ < options_.size) {
        ++open_;
        open_new = true;
      } else {
        waiter = std::make_shared<Waiter>(executor,
                                          SteadyClock::now() + options_.acquire_timeout);
        waiters_.push_back(waiter);
      }
    }
    if (open_new) co_return co_await Open();
    if (waiter) {
      // Woken early (cancelled) by a release, or by the deadline.
      (void)co_await waiter->timer.async_wait(asio::as_tuple(asio::use_awaitable));
      std::unique_lock lock(mu_);
      if (waiter->conn) {
        conn = std::move(waiter->conn);
      } else if (waiter->slot) {
        lock.unlock();
        co_return co_await Open();
      } else {
        waiters_.erase(std::remove(waiters_.begin(), waiters_.end(), waiter), waiters_.end());
        co_return MakeError(Errc::kUnavailable, "storage pool exhausted");
      }
    }
    // An idle connection may have died meanwhile (server restart, pg_terminate_backend):
    // drop it and try again rather than fail the caller's statement.
    if (conn->CheckAlive()) co_return Lease(this, std::move(conn));
    conn.reset();
    std::lock_guard lock(mu_);
    ReleaseSlotLocked();
  }
}

Task<Result<Lease>> PgPool::Open() {
  auto conn = co_await PgConn::Connect(options_.connect);
  if (!conn) {
    std::lock_guard lock(mu_);
    ReleaseSlotLocked();
    co_return conn.error();
  }
  co_return Lease(this, std::move(*conn));
}

void PgPool::Release(std::unique_ptr<PgConn> conn) {
  std::shared_ptr<Waiter> waiter;
  {
    std::lock_guard lock(mu_);
    if (!conn->Reusable()) {
      conn.reset();
      ReleaseSlotLocked();
      return;
    }
    if (waiters_.empty()) {
      idle_.push_back(std::move(conn));
      return;
    }
    waiter = std::move(waiters_.front());
    waiters_.pop_front();
    waiter->conn = std::move(conn);
  }
  asio::post(waiter->executor, [waiter] { waiter->timer.cancel(); });
}

void PgPool::ReleaseSlotLocked() {
  if (waiters_.empty()) {
    --open_;
    return;
  }
  // The slot passes to the first waiter, who opens a connection in it: open_ stays.
  auto waiter = std::move(waiters_.front());
  waiters_.pop_front();
  waiter->slot = true;
  asio::post(waiter->executor, [waiter] { waiter->timer.cancel(); });
}

}  // namespace agentd::storage::postgres
