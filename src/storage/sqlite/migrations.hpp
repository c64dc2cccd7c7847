#pragma once
// Private to sqlite/: schema migrations. Each migrations/NNNN_*.sql file is embedded into the
// binary at configure time (see CMakeLists.txt); migration i (0-based) brings the schema to
// version i+1, recorded in PRAGMA user_version. Applied at open, each in its own transaction;
// a database newer than this binary is refused.

#include <cstddef>
#include <string_view>

#include "common/error.hpp"
#include "storage/sqlite/db.hpp"

namespace agentd::storage::sqlite {

// Defined in the generated migrations_embedded.cpp.
extern const std::string_view kMigrationSql[];
extern const std::size_t kMigrationCount;

Status ApplyMigrations(Db& db);
// PRAGMA user_version.
Result<std::int64_t> SchemaVersion(Db& db);

}  // namespace agentd::storage::sqlite
