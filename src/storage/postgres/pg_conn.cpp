#include "storage/postgres/pg_conn.hpp"

#include <libpq-fe.h>

#include <cstdlib>
#include <variant>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include "observe/log.hpp"
#include "storage/postgres/pg_io.hpp"

namespace agentd::storage::postgres {
namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

// ------------------------------------------------------------------ PgResult

PgResult::PgResult(pg_result* r) : r_(r) {}
PgResult::PgResult(PgResult&& other) noexcept : r_(std::exchange(other.r_, nullptr)) {}
PgResult& PgResult::operator=(PgResult&& other) noexcept {
  if (this != &other) {
    if (r_ != nullptr) PQclear(r_);
    r_ = std::exchange(other.r_, nullptr);
  }
  return *this;
}
PgResult::~PgResult() {
  if (r_ != nullptr) PQclear(r_);
}
int PgResult::rows() const { return r_ == nullptr ? 0 : PQntuples(r_); }
int PgResult::status() const { return r_ == nullptr ? -1 : static_cast<int>(PQresultStatus(r_)); }
std::string_view PgResult::Text(int row, int col) const {
  return {PQgetvalue(r_, row, col), static_cast<std::size_t>(PQgetlength(r_, row, col))};
}
bool PgResult::IsNull(int row, int col) const { return PQgetisnull(r_, row, col) != 0; }
std::optional<std::string> PgResult::OptText(int row, int col) const {
  if (IsNull(row, col)) return std::nullopt;
  return std::string(Text(row, col));
}
std::int64_t PgResult::Int(int row, int col) const {
  return std::strtoll(PQgetvalue(r_, row, col), nullptr, 10);
}
double PgResult::Double(int row, int col) const {
  return std::strtod(PQgetvalue(r_, row, col), nullptr);
}
std::int64_t PgResult::affected() const {
  if (r_ == nullptr) return 0;
  return std::strtoll(PQcmdTuples(r_), nullptr, 10);
}

// ------------------------------------------------------------------ errors

Error PgError(pg_conn* conn, pg_result* result, std::string_view what) {
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  std::string message = result != nullptr ? PQresultErrorMessage(result) : PQerrorMessage(conn);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  message = fmt::format("postgres {}: {}", what, message);
  if (state == nullptr) {
    // No SQLSTATE: libpq's own failure, i.e. the connection (or the server) went away.
    return MakeError(conn != nullptr && PQstatus(conn) == CONNECTION_OK ? Errc::kInternal
                                                                        : Errc::kUnavailable,
                     std::move(message));
  }
  std::string_view s(state);
  if (s == "23505") return MakeError(Errc::kConflict, std::move(message));
  // 08: connection exception; 57P01-03: admin/crash shutdown, cannot connect now;
  // 53: insufficient resources (too many connections); 57014: statement timeout.
  if (s.substr(0, 2) == "08" || s.substr(0, 3) == "57P" || s.substr(0, 2) == "53" ||
      s == "57014") {
    return MakeError(Errc::kUnavailable, std::move(message));
  }
  // Serialization failure and deadlock: the other transaction won; the caller may retry.
  if (s == "40001" || s == "40P01") return MakeError(Errc::kConflict, std::move(message));
  return MakeError(Errc::kInternal, std::move(message));
}

namespace io {

Task<Status> WaitFor(Descriptor& sd, Descriptor::wait_type w, SteadyClock::time_point deadline) {
  asio::steady_timer timer(sd.get_executor(), deadline);
  auto which = co_await (sd.async_wait(w, asio::as_tuple(asio::use_awaitable)) ||
                         timer.async_wait(asio::as_tuple(asio::use_awaitable)));
  if (which.index() == 1) co_return MakeError(Errc::kUnavailable, "postgres: timed out");
  auto [ec] = std::get<0>(which);
  if (ec) co_return MakeError(Errc::kUnavailable, "postgres socket: " + ec.message());
  co_return Status{};
}

Status BoundSocket::Follow(int fd) {
  if (fd < 0) return MakeError(Errc::kUnavailable, "postgres: no socket");
  if (sd.is_open() && sd.native_handle() == fd) return Status{};
  if (sd.is_open()) (void)sd.release();
  boost::system::error_code ec;
  sd.assign(fd, ec);
  if (ec) return MakeError(Errc::kUnavailable, "postgres socket: " + ec.message());
  return Status{};
}

Task<Status> Flush(PGconn* conn, Descriptor& sd, SteadyClock::time_point deadline) {
  while (true) {
    int rc = PQflush(conn);
    if (rc == 0) co_return Status{};
    if (rc < 0) co_return PgError(conn, nullptr, "flush");
    if (Status st = co_await WaitFor(sd, Descriptor::wait_write, deadline); !st) {
      co_return st.error();
    }
    if (PQconsumeInput(conn) == 0) co_return PgError(conn, nullptr, "read");
  }
}

Task<Status> AwaitResult(PGconn* conn, Descriptor& sd, SteadyClock::time_point deadline) {
  while (PQisBusy(conn) != 0) {
    if (Status st = co_await WaitFor(sd, Descriptor::wait_read, deadline); !st) {
      co_return st.error();
    }
    if (PQconsumeInput(conn) == 0) co_return PgError(conn, nullptr, "read");
  }
  co_return Status{};
}

}  // namespace io

using io::BoundSocket;
using io::Descriptor;
using io::WaitFor;

// ------------------------------------------------------------------ notices

namespace {
void NoticeToLog(void*, const char* message) {
  std::string_view text(message);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  observe::Logger("storage.postgres")->debug("server notice: {}", text);
}
}  // namespace

void RouteNoticesToLog(pg_conn* conn) { PQsetNoticeProcessor(conn, &NoticeToLog, nullptr); }

// ------------------------------------------------------------------ PgConn

PgConn::PgConn(pg_conn* conn, std::chrono::milliseconds query_timeout,
               observe::Counter* round_trips)
    : conn_(conn), query_timeout_(query_timeout), round_trips_(round_trips) {}

PgConn::~PgConn() {
  if (conn_ != nullptr) PQfinish(conn_);
}

Task<Result<std::unique_ptr<PgConn>>> PgConn::Connect(ConnectOptions options) {
  const char* keys[] = {"dbname", "application_name", nullptr};
  const char* values[] = {options.dsn.c_str(), "agentd", nullptr};
  // expand_dbname: the first dbname is the caller's whole connection string or URI.
  pg_conn* raw = PQconnectStartParams(keys, values, 1);
  if (raw == nullptr) co_return MakeError(Errc::kUnavailable, "postgres: out of memory");
  auto conn = std::make_unique<PgConn>(raw, options.query_timeout, options.round_trips);
  RouteNoticesToLog(raw);
  if (PQstatus(raw) == CONNECTION_BAD) co_return PgError(raw, nullptr, "connect");
  if (PQsetnonblocking(raw, 1) != 0) co_return PgError(raw, nullptr, "connect");

  auto deadline = SteadyClock::now() + options.connect_timeout;
  {
    BoundSocket sock(co_await asio::this_coro::executor);
    // Start as if PQconnectPoll had answered "writing" (libpq's documented protocol).
    PostgresPollingStatusType poll = PGRES_POLLING_WRITING;
    while (poll != PGRES_POLLING_OK) {
      if (poll == PGRES_POLLING_FAILED) co_return PgError(raw, nullptr, "connect");
      if (Status st = sock.Follow(PQsocket(raw)); !st) co_return st.error();
      auto w = poll == PGRES_POLLING_READING ? Descriptor::wait_read : Descriptor::wait_write;
      if (Status st = co_await WaitFor(sock.sd, w, deadline); !st) {
        co_return MakeError(Errc::kUnavailable,
                            "postgres connect: " + st.error().message);
      }
      poll = PQconnectPoll(raw);
    }
  }
  if (!options.schema.empty()) {
    char* quoted = PQescapeIdentifier(raw, options.schema.data(), options.schema.size());
    if (quoted == nullptr) co_return PgError(raw, nullptr, "schema name");
    std::string sql = fmt::format("SET search_path TO {}", quoted);
    PQfreemem(quoted);
    if (Status st = co_await conn->Exec(sql); !st) co_return st.error();
  }
  co_return conn;
}

bool PgConn::Reusable() const {
  // A deferred BEGIN or COMMIT nobody sent would land in the next borrower's statement.
  return !broken_ && !begin_deferred_ && !commit_after_next_ &&
         PQstatus(conn_) == CONNECTION_OK && PQtransactionStatus(conn_) == PQTRANS_IDLE;
}

bool PgConn::InTransaction() const {
  auto status = PQtransactionStatus(conn_);
  return status == PQTRANS_INTRANS || status == PQTRANS_INERROR;
}

bool PgConn::CheckAlive() {
  if (!Reusable()) return false;
  // Non-blocking: reads what is buffered in the socket; 0 means EOF or a read error.
  if (PQconsumeInput(conn_) == 0) return false;
  while (PGnotify* n = PQnotifies(conn_)) PQfreemem(n);
  return PQstatus(conn_) == CONNECTION_OK && !PQisBusy(conn_);
}

Task<Status> PgConn::Exec(std::string_view sql) {
  if (begin_deferred_) {
    // One statement only here (the extended protocol), unlike the simple protocol below.
    std::vector<Statement> statements;
    statements.push_back(Plain(sql));
    auto r = co_await Pipeline(std::move(statements));
    if (!r) co_return r.error();
    co_return Status{};
  }
  auto r = co_await Send("", sql, {});
  if (!r) co_return r.error();
  co_return Status{};
}

Task<Result<PgResult>> PgConn::Query(std::string_view sql, Params params) {
  auto it = prepared_.find(std::string(sql));
  if (it == prepared_.end() || begin_deferred_ || commit_after_next_) {
    // Parse and Execute (and a deferred BEGIN / COMMIT) in one round trip.
    std::vector<Statement> statements;
    statements.push_back(Statement{sql, std::move(params)});
    auto r = co_await Pipeline(std::move(statements));
    if (!r) co_return r.error();
    co_return std::move(r->front());
  }
  co_return co_await Send(it->second, sql, params);
}

// One request/response exchange: send (run a prepared statement, or with an empty name a
// simple query), flush, then read every result until libpq says the exchange is over
// (PQgetResult NULL). Statements are prepared by Pipeline (Query's first use).
Task<Result<PgResult>> PgConn::Send(const std::string& name, std::string_view sql,
                                    const Params& params) {
  if (broken_ || PQstatus(conn_) != CONNECTION_OK) {
    broken_ = true;
    co_return MakeError(Errc::kUnavailable, "postgres: connection lost");
  }
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  int n = static_cast<int>(values.size());
  int sent = 0;
  if (!name.empty()) {
    sent = PQsendQueryPrepared(conn_, name.c_str(), n, values.data(), nullptr, nullptr, 0);
  } else {
    std::string text(sql);
    sent = PQsendQuery(conn_, text.c_str());
  }
  if (sent == 0) {
    broken_ = PQstatus(conn_) != CONNECTION_OK;
    co_return PgError(conn_, nullptr, "send");
  }
  if (round_trips_ != nullptr) round_trips_->Inc();

  auto deadline = SteadyClock::now() + query_timeout_;
  BoundSocket sock(co_await asio::this_coro::executor);
  if (Status st = sock.Follow(PQsocket(conn_)); !st) {
    broken_ = true;
    co_return st.error();
  }
  if (Status st = co_await io::Flush(conn_, sock.sd, deadline); !st) {
    broken_ = true;
    co_return st.error();
  }
  PgResult last;
  std::optional<Error> failure;
  while (true) {
    if (Status st = co_await io::AwaitResult(conn_, sock.sd, deadline); !st) {
      broken_ = true;
      co_return st.error();
    }
    pg_result* r = PQgetResult(conn_);
    if (r == nullptr) break;
    PgResult owned(r);
    auto status = PQresultStatus(r);
    if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
      last = std::move(owned);
    } else if (!failure) {
      failure = PgError(conn_, r, "query");
    }
  }
  if (PQstatus(conn_) != CONNECTION_OK) broken_ = true;
  if (failure) co_return *failure;
  co_return last;
}

}  // namespace agentd::storage::postgres
