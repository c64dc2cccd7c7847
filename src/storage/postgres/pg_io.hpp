#pragma once
// Private to pg_conn.cpp and pg_pipeline.cpp: waiting on a libpq socket from a coroutine. The
// descriptor is bound to the calling coroutine's executor for one call and release()d, never
// closed (libpq owns the fd).

#include <libpq-fe.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include "common/error.hpp"
#include "storage/postgres/pg_conn.hpp"

namespace agentd::storage::postgres::io {

using Descriptor = boost::asio::posix::stream_descriptor;

// Waits until the socket is ready for `w` or the deadline passes (kUnavailable "timed out").
Task<Status> WaitFor(Descriptor& sd, Descriptor::wait_type w, SteadyClock::time_point deadline);

// Owns the descriptor for one call and hands the fd back to libpq (release, never close).
struct BoundSocket {
  Descriptor sd;
  explicit BoundSocket(boost::asio::any_io_executor ex) : sd(std::move(ex)) {}
  BoundSocket(const BoundSocket&) = delete;
  BoundSocket& operator=(const BoundSocket&) = delete;
  ~BoundSocket() {
    if (sd.is_open()) (void)sd.release();
  }
  // PQsocket may change between PQconnectPoll calls: follow it.
  Status Follow(int fd);
};

// Flushes libpq's output buffer, reading meanwhile while it does not fit (the server may be
// waiting for us to read before it reads more).
Task<Status> Flush(PGconn* conn, Descriptor& sd, SteadyClock::time_point deadline);

// Reads until PQgetResult will not block (PQisBusy is 0).
Task<Status> AwaitResult(PGconn* conn, Descriptor& sd, SteadyClock::time_point deadline);

}  // namespace agentd::storage::postgres::io
