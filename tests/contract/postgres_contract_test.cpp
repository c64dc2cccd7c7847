// Instantiates the storage contract for PostgreSQL. Needs a server: ctest runs this binary
// under tests/harness/with-services --pg, which exports AGENTD_TEST_PG_DSN; without it every
// test here is skipped (one test says why). Each storage gets a schema of its own, so tests
// share the database but never each other's rows.
#include <atomic>
#include <cstdlib>
#include <string>
#include <vector>

#include <unistd.h>

#include "contract/storage_contract.hpp"
#include "storage/postgres/postgres_storage.hpp"

namespace agentd::storage::contract {
namespace {

const char* Dsn() { return std::getenv("AGENTD_TEST_PG_DSN"); }

std::unique_ptr<Storage> MakePostgres(Clock clock) {
  static std::atomic<int> counter{0};
  PostgresOptions options;
  options.dsn = Dsn();
  options.schema = "contract_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
  options.pool_size = 4;
  options.clock = std::move(clock);
  auto storage = MakePostgresStorage(options);
  if (!storage) {
    ADD_FAILURE() << "MakePostgresStorage: " << storage.error().message;
    return nullptr;
  }
  return std::move(*storage);
}

std::vector<StorageBackend> Backends() {
  if (Dsn() == nullptr) return {};
  return {StorageBackend{"postgres", MakePostgres}};
}

TEST(PostgresContract, RunsAgainstARealServer) {
  if (Dsn() == nullptr) {
    GTEST_SKIP() << "AGENTD_TEST_PG_DSN is not set: run under tests/harness/with-services --pg";
  }
  SUCCEED();
}

INSTANTIATE_TEST_SUITE_P(Postgres, StorageContract, ::testing::ValuesIn(Backends()), BackendName);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(StorageContract);

}  // namespace
}  // namespace agentd::storage::contract
