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
#include <utility>
#include <vector>

#include "common/error.hpp"
#include "observe/metrics.hpp"
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
  // libpq's ExecStatusType (PGRES_*); -1 for an empty result.
  int status() const;
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

// One statement of a pipeline. `sql` must stay valid until the call returns (static text).
// `prepared`: run as a named prepared statement (prepared on first use on the connection, the
// Parse sent in the same pipeline); false sends it unnamed, for BEGIN/COMMIT and one-offs.
struct Statement {
  std::string_view sql;
  Params params;
  bool prepared = true;
};
inline Statement Plain(std::string_view sql) { return Statement{sql, {}, false}; }

struct ConnectOptions {
  std::string dsn;
  std::string schema;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds query_timeout{30000};
  // Incremented once per request/response exchange with the server (a Query, an Exec, a whole
  // Pipeline); the connection handshake is not counted. Must outlive the connection.
  observe::Counter* round_trips = nullptr;
};

class PgConn {
 public:
  // Opens a connection with PQconnectStartParams/PQconnectPoll on the caller's executor, then
  // sets the search_path. kUnavailable on failure or past connect_timeout.
  static Task<Result<std::unique_ptr<PgConn>>> Connect(ConnectOptions options);

  PgConn(pg_conn* conn, std::chrono::milliseconds query_timeout,
         observe::Counter* round_trips = nullptr);
  PgConn(const PgConn&) = delete;
  PgConn& operator=(const PgConn&) = delete;
  ~PgConn();  // PQfinish

  // Runs `sql` as a named prepared statement (prepared on first use on this connection).
  // SQLSTATEs map to Errc: 23505 -> kConflict, connection failures -> kUnavailable.
  Task<Result<PgResult>> Query(std::string_view sql, Params params = {});
  // Runs a parameterless statement with the simple protocol (BEGIN, COMMIT, SET ...).
  Task<Status> Exec(std::string_view sql);

  // Sends every statement and one Sync, then reads all results: one round trip. Statements
  // between two Syncs run in one implicit transaction unless they open their own (BEGIN):
  // all or nothing. Returns one result per statement, in order, or the first failing
  // statement's error (SQLSTATEs mapped as by Query); the server skips the statements after
  // it (PGRES_PIPELINE_ABORTED), which are never reported as results. A timeout or I/O error
  // marks the connection broken, as Query does.
  Task<Result<std::vector<PgResult>>> Pipeline(std::vector<Statement> statements);

  // Transactions (InTx): BEGIN is not sent on its own but in the pipeline of the next
  // statement (Query, Exec or Pipeline), saving its round trip.
  void DeferBegin() { begin_deferred_ = true; }
  // Drops a deferred BEGIN that no statement followed; true when there was one (then no
  // transaction was opened).
  bool DropDeferredBegin() { return std::exchange(begin_deferred_, false); }
  // The next statement (exactly one Query) also carries the COMMIT, in its pipeline: for the
  // last statement of a transaction whose result cannot make the caller roll back. When it
  // fails the COMMIT is skipped and the transaction is left aborted (InTx rolls it back).
  void CommitAfterNext() { commit_after_next_ = true; }
  void DropCommitAfterNext() { commit_after_next_ = false; }
  // A transaction block is open (possibly aborted).
  bool InTransaction() const;

  // Whether the connection can go back to the pool: open, not mid-query, no transaction open.
  bool Reusable() const;
  // Reads whatever the server sent an idle connection (without waiting) and reports whether it
  // is still open: a backend killed by pg_terminate_backend leaves a FATAL notice and EOF.
  bool CheckAlive();

 private:
  Task<Result<PgResult>> Send(const std::string& name, std::string_view sql,
                              const Params& params);
  // The pipeline itself, without the deferred BEGIN / COMMIT bookkeeping.
  Task<Result<std::vector<PgResult>>> SendPipeline(const std::vector<Statement>& statements);

  pg_conn* conn_;
  std::chrono::milliseconds query_timeout_;
  observe::Counter* round_trips_;
  std::unordered_map<std::string, std::string> prepared_;  // sql -> statement name
  std::size_t next_name_ = 0;  // statement names agentd_<n>, never reused on this connection
  bool broken_ = false;  // a call gave up halfway (timeout, I/O error): never reuse
  bool begin_deferred_ = false;
  bool commit_after_next_ = false;
};

// Maps a failed PGresult (or, with nullptr, the connection's state) to an Error.
Error PgError(pg_conn* conn, pg_result* result, std::string_view what);

// Sends the server's notices and warnings on `conn` (`NOTICE: schema "x" already exists,
// skipping`) to the `storage.postgres` log at debug; libpq's default prints them raw on stderr.
void RouteNoticesToLog(pg_conn* conn);

}  // namespace agentd::storage::postgres
