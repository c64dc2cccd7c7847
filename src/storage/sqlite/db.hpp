#pragma once
// Private to sqlite/: a thin RAII layer over one sqlite3 connection. Statements are prepared
// once and cached by SQL text (every statement here is a fixed string or built from a
// whitelist, so the cache stays small). Not thread-safe: only the storage thread (and the
// factory, before that thread starts) touch a Db.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/error.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace agentd::storage::sqlite {

class Db;

// A cached statement in use. Resets itself (and clears bindings) when it goes out of scope,
// so the next user of the same SQL starts clean.
class Stmt {
 public:
  Stmt(Db& db, sqlite3_stmt* stmt) : db_(&db), stmt_(stmt) {}
  Stmt(Stmt&& other) noexcept : db_(other.db_), stmt_(other.stmt_) { other.stmt_ = nullptr; }
  Stmt& operator=(Stmt&&) = delete;
  ~Stmt();

  // Binds ?1, ?2, ... in order.
  template <class... Args>
  Stmt& BindAll(const Args&... args) {
    int i = 1;
    (Bind(i++, args), ...);
    return *this;
  }
  void Bind(int i, std::string_view text);
  void Bind(int i, const std::string& text) { Bind(i, std::string_view(text)); }
  void Bind(int i, const char* text) { Bind(i, std::string_view(text)); }
  void Bind(int i, std::int64_t v);
  void Bind(int i, int v) { Bind(i, static_cast<std::int64_t>(v)); }
  void Bind(int i, double v);
  void Bind(int i, std::nullopt_t);
  template <class T>
  void Bind(int i, const std::optional<T>& v) {
    if (v) {
      Bind(i, *v);
    } else {
      Bind(i, std::nullopt);
    }
  }

  // true: a row is ready; false: done.
  Result<bool> Step();
  // Steps to completion (for statements that return no rows).
  Status Run();

  std::string_view Text(int col) const;
  std::optional<std::string> OptText(int col) const;
  std::int64_t Int(int col) const;
  double Double(int col) const;
  bool IsNull(int col) const;

 private:
  Db* db_;
  sqlite3_stmt* stmt_;
};

class Db {
 public:
  static Result<std::unique_ptr<Db>> Open(const std::string& path, int busy_timeout_ms);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Runs one or more statements without parameters (schema, pragmas).
  Status Exec(std::string_view sql);
  Result<Stmt> Prepare(std::string_view sql);
  // Prepare + BindAll + Run in one call.
  template <class... Args>
  Status Run(std::string_view sql, const Args&... args) {
    auto stmt = Prepare(sql);
    if (!stmt) return stmt.error();
    stmt->BindAll(args...);
    return stmt->Run();
  }
  // Rows changed by the last INSERT/UPDATE/DELETE.
  std::int64_t Changes() const;
  // Rows changed since the connection opened: a job changed something when this grew.
  std::int64_t TotalChanges() const;
  // False once SQLite rolled the open transaction back by itself (it does on some disk-full
  // and I/O errors): what the batch wrote so far is gone.
  bool InTransaction() const;
  // The connection's current error as an Error (kConflict for constraint violations,
  // kUnavailable for busy/locked/I/O, kInternal otherwise).
  Error LastError(std::string_view what) const;
  // SQLite's words ("database or disk is full") for the last failure since the previous call
  // that said the disk cannot take writes (full, I/O error, read-only, cannot open), or
  // nullopt; the storage thread then reports storage as not writable. Clears.
  std::optional<std::string> TakeWriteFailure();

 private:
  explicit Db(sqlite3* handle) : handle_(handle) {}
  void NoteFailure(int rc) const;
  sqlite3* handle_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
  mutable std::optional<std::string> write_failure_;
};

}  // namespace agentd::storage::sqlite
