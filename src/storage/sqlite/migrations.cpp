#include "storage/sqlite/migrations.hpp"

#include <fmt/format.h>

namespace agentd::storage::sqlite {

Result<std::int64_t> SchemaVersion(Db& db) {
  auto stmt = db.Prepare("PRAGMA user_version");
  if (!stmt) return stmt.error();
  auto row = stmt->Step();
  if (!row) return row.error();
  return *row ? stmt->Int(0) : 0;
}

Status ApplyMigrations(Db& db) {
  auto version = SchemaVersion(db);
  if (!version) return version.error();
  auto known = static_cast<std::int64_t>(kMigrationCount);
  if (*version > known) {
    return MakeError(Errc::kUnavailable,
                     fmt::format("database schema version {} is newer than this binary ({})",
                                 *version, known));
  }
  for (std::int64_t i = *version; i < known; ++i) {
    // user_version is written inside the same transaction, so a crash leaves either the old
    // schema with the old number or the new one with the new number.
    std::string sql = fmt::format("BEGIN IMMEDIATE;\n{}\nPRAGMA user_version = {};\nCOMMIT;",
                                  kMigrationSql[i], i + 1);
    if (Status st = db.Exec(sql); !st) {
      (void)db.Exec("ROLLBACK");
      return MakeError(st.error().code,
                       fmt::format("migration {}: {}", i + 1, st.error().message));
    }
  }
  return Status{};
}

}  // namespace agentd::storage::sqlite
