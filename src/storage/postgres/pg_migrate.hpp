#pragma once
// Private to postgres/: schema migrations. Each migrations/NNNN_*.sql file is embedded into the
// binary at configure time (see CMakeLists.txt); migration i (0-based) brings the schema to
// version i+1, recorded in the agentd_migrations table of the target schema. Applied at start
// over one blocking connection, each in its own transaction, all under a session advisory lock
// keyed by the schema name, so instances starting together apply each migration exactly once.
// A schema newer than this binary is refused.

#include <cstddef>
#include <string>
#include <string_view>

#include "common/error.hpp"

namespace agentd::storage::postgres {

// Defined in the generated migrations_embedded.cpp.
extern const std::string_view kMigrationSql[];
extern const std::size_t kMigrationCount;

// Blocking: for startup only. Creates `schema` when missing.
Status ApplyMigrations(const std::string& dsn, const std::string& schema, int connect_timeout_s);

}  // namespace agentd::storage::postgres
