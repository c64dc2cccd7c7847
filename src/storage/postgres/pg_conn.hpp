#pragma once
// Private to postgres/: one libpq connection driven non-blocking from a coroutine. The socket
// is awaited with a stream_descriptor created on the calling coroutine's executor for the
// duration of one call and release()d (never closed: libpq owns the fd) before it returns, so
// a pooled connection can serve any event loop, one caller at a time.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/error.hpp"
#include "storage/storage.hpp"

struct pg_conn;
struct pg_result;

namespace agentd::storage::postgres {

using SteadyClock = std::chrono::steady_clock;

// Text-format parameters; nullopt is SQL NULL.
using Params = std::vector<std::optional<std::string>>;

// One query's rows, text format. Owns the PGresult.
class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(pg_result* r);
  PgResult(PgResult&& other) noexcept;
  PgResult& operator=(PgResult&& other) noexcept;
  PgResult(const PgResult&) = delete;
  PgResult& operator=(const PgResult&) = delete;
  ~PgResult();

  int rows() const;
  std::string_view Text(int row, int col) const;
  bool IsNull(int row, int col) const;
  std::optional<std::string> OptText(int row, int col) const;
  std::int64_t Int(int row, int col) const;
  double Double(int row, int col) const;
  // Rows an UPDATE/DELETE/INSERT touched.
  std::int64_t affected() const;

 private:
  pg_result* r_ = nullptr;
};

struct ConnectOptions {
  std::string dsn;
  std::string schema;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds query_timeout{30000};
};

class PgConn {
 public:
  // Opens a connection with PQconnectStartParams/PQconnectPoll on the caller's executor, then
  // sets the search_path. kUnavailable on failure or past connect_timeout.
  static Task<Result<std::unique_ptr<PgConn>>> Connect(ConnectOptions options);

  explicit PgConn(pg_conn* conn, std::chrono::milliseconds query_timeout);
  PgConn(const PgConn&) = delete;
  PgConn& operator=(const PgConn&) = delete;
  ~PgConn();  // PQfinish

  // Runs `sql` as a named prepared statement (prepared on first use on this connection).
  // SQLSTATEs map to Errc: 23505 -> kConflict, connection failures -> kUnavailable.
  Task<Result<PgResult>> Query(std::string_view sql, Params params = {});
  // Runs a parameterless statement with the simple protocol (BEGIN, COMMIT, SET ...).
  Task<Status> Exec(std::string_view sql);

  // Whether the connection can go back to the pool: open, not mid-query, no transaction open.
  bool Reusable() const;
  // Reads whatever the server sent an idle connection (without waiting) and reports whether it
  // is still open: a backend killed by pg_terminate_backend leaves a FATAL notice and EOF.
  bool CheckAlive();

 private:
  Task<Result<PgResult>> Send(bool prepare, const std::string& name, std::string_view sql,
                              const Params& params);

  pg_conn* conn_;
  std::chrono::milliseconds query_timeout_;
  std::unordered_map<std::string, std::string> prepared_;  // sql -> statement name
  bool broken_ = false;  // a call gave up halfway (timeout, I/O error): never reuse
};

// Maps a failed PGresult (or, with nullptr, the connection's state) to an Error.
Error PgError(pg_conn* conn, pg_result* result, std::string_view what);

}  // namespace agentd::storage::postgres
