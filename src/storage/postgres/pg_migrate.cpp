#include "storage/postgres/pg_migrate.hpp"

#include <libpq-fe.h>

#include <memory>

#include <fmt/format.h>

#include "storage/postgres/pg_conn.hpp"

namespace agentd::storage::postgres {
namespace {

struct ConnCloser {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using ConnPtr = std::unique_ptr<PGconn, ConnCloser>;

// Runs one statement (several when `params` is empty) and returns its result, or the mapped
// error.
Result<PgResult> Run(PGconn* c, const std::string& sql, const std::vector<std::string>& params,
                     std::string_view what) {
  std::vector<const char*> values;
  for (const auto& p : params) values.push_back(p.c_str());
  PGresult* r = params.empty() ? PQexec(c, sql.c_str())
                               : PQexecParams(c, sql.c_str(), static_cast<int>(values.size()),
                                              nullptr, values.data(), nullptr, nullptr, 0);
  PgResult owned(r);
  if (r == nullptr) return PgError(c, nullptr, what);
  auto status = PQresultStatus(r);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) return PgError(c, r, what);
  return owned;
}

Status Migrate(PGconn* c, const std::string& quoted_schema) {
  auto r = Run(c, fmt::format("CREATE SCHEMA IF NOT EXISTS {}", quoted_schema), {}, "schema");
  if (!r) return r.error();
  if (r = Run(c, fmt::format("SET search_path TO {}", quoted_schema), {}, "search_path"); !r) {
    return r.error();
  }
  r = Run(c,
          "CREATE TABLE IF NOT EXISTS agentd_migrations ("
          "version BIGINT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
          {}, "migrations table");
  if (!r) return r.error();
  r = Run(c, "SELECT coalesce(max(version), 0) FROM agentd_migrations", {}, "schema version");
  if (!r) return r.error();
  std::int64_t version = r->Int(0, 0);
  auto known = static_cast<std::int64_t>(kMigrationCount);
  if (version > known) {
    return MakeError(Errc::kUnavailable,
                     fmt::format("database schema version {} is newer than this binary ({})",
                                 version, known));
  }
  for (std::int64_t i = version; i < known; ++i) {
    // The version row commits with the migration: a crash leaves one or the other state whole.
    std::string sql = fmt::format("BEGIN;\n{}\nINSERT INTO agentd_migrations (version) VALUES ({});\nCOMMIT;",
                                  kMigrationSql[i], i + 1);
    if (auto m = Run(c, sql, {}, fmt::format("migration {}", i + 1)); !m) {
      (void)Run(c, "ROLLBACK", {}, "rollback");
      return m.error();
    }
  }
  return Status{};
}

}  // namespace

Status ApplyMigrations(const std::string& dsn, const std::string& schema, int connect_timeout_s) {
  std::string timeout = std::to_string(connect_timeout_s);
  const char* keys[] = {"dbname", "connect_timeout", "application_name", nullptr};
  const char* values[] = {dsn.c_str(), timeout.c_str(), "agentd-migrate", nullptr};
  ConnPtr conn(PQconnectdbParams(keys, values, 1));
  if (!conn) return MakeError(Errc::kUnavailable, "postgres: out of memory");
  if (PQstatus(conn.get()) != CONNECTION_OK) return PgError(conn.get(), nullptr, "connect");
  RouteNoticesToLog(conn.get());
  std::string name = schema.empty() ? "public" : schema;
  char* quoted = PQescapeIdentifier(conn.get(), name.data(), name.size());
  if (quoted == nullptr) return PgError(conn.get(), nullptr, "schema name");
  std::string quoted_schema = quoted;
  PQfreemem(quoted);
  // Session lock, database-wide, keyed by schema: CREATE SCHEMA IF NOT EXISTS itself races
  // (unique violation on pg_namespace) when unguarded, so it goes under the lock too.
  std::vector<std::string> key{"agentd.migrate." + name};
  if (auto r = Run(conn.get(), "SELECT pg_advisory_lock(hashtext($1))", key, "advisory lock");
      !r) {
    return r.error();
  }
  Status st = Migrate(conn.get(), quoted_schema);
  // Closing the session would release the lock too; unlock explicitly for clarity.
  (void)Run(conn.get(), "SELECT pg_advisory_unlock(hashtext($1))", key, "advisory unlock");
  return st;
}

}  // namespace agentd::storage::postgres
