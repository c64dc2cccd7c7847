// Instantiates the storage contract for every embedded backend: memory and SQLite (a fresh
// database file per test, in one temporary directory for the whole binary).
#include <atomic>
#include <string>

#include "contract/storage_contract.hpp"
#include "storage/memory/memory_storage.hpp"
#include "storage/sqlite/sqlite_storage.hpp"
#include "support/temp_dir.hpp"

namespace agentd::storage::contract {
namespace {

std::unique_ptr<Storage> MakeMemory(Clock clock) { return MakeMemoryStorage(std::move(clock)); }

std::unique_ptr<Storage> MakeSqlite(Clock clock) {
  static agentd::testing::TempDir dir;
  static std::atomic<int> counter{0};
  SqliteOptions options;
  options.path = (dir.path() / ("contract-" + std::to_string(counter++) + ".db")).string();
  options.clock = std::move(clock);
  auto storage = MakeSqliteStorage(options);
  if (!storage) {
    ADD_FAILURE() << "MakeSqliteStorage: " << storage.error().message;
    return nullptr;
  }
  return std::move(*storage);
}

INSTANTIATE_TEST_SUITE_P(Backends, StorageContract,
                         ::testing::Values(StorageBackend{"memory", MakeMemory},
                                           StorageBackend{"sqlite", MakeSqlite}),
                         BackendName);

}  // namespace
}  // namespace agentd::storage::contract
