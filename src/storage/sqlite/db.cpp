#include "storage/sqlite/db.hpp"

#include <sqlite3.h>

#include <utility>

#include <fmt/format.h>

namespace agentd::storage::sqlite {
namespace {

Errc CodeFor(int rc) {
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT: return Errc::kConflict;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PROTOCOL: return Errc::kUnavailable;
    default: return Errc::kInternal;
  }
}

// Failures that say the disk refuses writes, as opposed to a lock or a constraint.
bool IsWriteFailure(int rc) {
  switch (rc & 0xff) {
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN: return true;
    default: return false;
  }
}

}  // namespace

Stmt::~Stmt() {
  if (stmt_ != nullptr) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
}

void Stmt::Bind(int i, std::string_view text) {
  sqlite3_bind_text(stmt_, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}
void Stmt::Bind(int i, std::int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
void Stmt::Bind(int i, double v) { sqlite3_bind_double(stmt_, i, v); }
void Stmt::Bind(int i, std::nullopt_t) { sqlite3_bind_null(stmt_, i); }

Result<bool> Stmt::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return db_->LastError(sqlite3_sql(stmt_));
}

Status Stmt::Run() {
  while (true) {
    auto row = Step();
    if (!row) return row.error();
    if (!*row) return Status{};
  }
}

std::string_view Stmt::Text(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  if (p == nullptr) return {};
  return std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)));
}

std::optional<std::string> Stmt::OptText(int col) const {
  if (IsNull(col)) return std::nullopt;
  return std::string(Text(col));
}

std::int64_t Stmt::Int(int col) const { return sqlite3_column_int64(stmt_, col); }
double Stmt::Double(int col) const { return sqlite3_column_double(stmt_, col); }
bool Stmt::IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

Result<std::unique_ptr<Db>> Db::Open(const std::string& path, int busy_timeout_ms) {
  sqlite3* handle = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &handle, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = fmt::format("open {}: {}", path,
                                  handle ? sqlite3_errmsg(handle) : sqlite3_errstr(rc));
    sqlite3_close(handle);
    return MakeError(Errc::kUnavailable, std::move(msg));
  }
  sqlite3_extended_result_codes(handle, 1);
  sqlite3_busy_timeout(handle, busy_timeout_ms);
  return std::unique_ptr<Db>(new Db(handle));
}

Db::~Db() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close(handle_);
}

Status Db::Exec(std::string_view sql) {
  std::string text(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(handle_, text.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    NoteFailure(sqlite3_extended_errcode(handle_));
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    return MakeError(CodeFor(rc), msg);
  }
  return Status{};
}

Result<Stmt> Db::Prepare(std::string_view sql) {
  auto it = cache_.find(std::string(sql));
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(handle_, sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return LastError(sql);
    it = cache_.emplace(std::string(sql), stmt).first;
  }
  return Stmt(*this, it->second);
}

std::int64_t Db::Changes() const { return sqlite3_changes64(handle_); }
std::int64_t Db::TotalChanges() const { return sqlite3_total_changes64(handle_); }
bool Db::InTransaction() const { return sqlite3_get_autocommit(handle_) == 0; }

void Db::NoteFailure(int rc) const {
  if (IsWriteFailure(rc)) write_failure_ = sqlite3_errstr(rc);
}

std::optional<std::string> Db::TakeWriteFailure() {
  return std::exchange(write_failure_, std::nullopt);
}

Error Db::LastError(std::string_view what) const {
  int rc = sqlite3_extended_errcode(handle_);
  NoteFailure(rc);
  return MakeError(CodeFor(rc), fmt::format("sqlite: {} ({})", sqlite3_errmsg(handle_), what));
}

}  // namespace agentd::storage::sqlite
