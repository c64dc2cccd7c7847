#pragma once
// Durable state behind narrow interfaces: assistants, threads, checkpoints, runs and store
// items, one header per interface. Three backends implement them: memory/ (the fast fake for
// unit tests and `--storage memory`), sqlite/ (embedded, durable; the default) and postgres/
// (cluster mode, which adds RunLeases). Callers never see rows or backend types, only model/
// values and Errors.
//
// Threading: every method may be called from any event-loop thread at any time; the returned
// awaitable completes on the caller's executor. No backend blocks an event loop (sqlite/ runs
// its work on a thread it owns and posts results back).
//
// Errors every caller must handle: kNotFound (no such object for this tenant: another
// tenant's object is reported as missing, never as forbidden), kConflict (exists already),
// kUnavailable (the backend cannot be reached or is closed). Anything else is kInternal.
// Error messages are for logs; the API layer owns the protocol's wording.
//
// Test double: MakeMemoryStorage() (storage/memory/memory_storage.hpp); every backend passes
// tests/contract/storage_contract.hpp.

#include <string>
#include <string_view>

#include "common/error.hpp"
#include "storage/assistant_store.hpp"
#include "storage/checkpoint_store.hpp"
#include "storage/item_store.hpp"
#include "storage/run_leases.hpp"
#include "storage/run_store.hpp"
#include "storage/thread_store.hpp"
#include "storage/types.hpp"

namespace agentd::storage {

struct TruncateOptions {
  bool runs = false;
  bool threads = false;
  bool assistants = false;  // keeps system assistants (metadata.created_by == "system")
  bool checkpointer = false;
  bool store = false;
};

class Storage {
 public:
  virtual ~Storage() = default;
  virtual AssistantStore& assistants() = 0;
  virtual ThreadStore& threads() = 0;
  virtual CheckpointStore& checkpoints() = 0;
  virtual RunStore& runs() = 0;
  virtual ItemStore& items() = 0;
  // A cheap round trip that proves the backend answers (for /ready).
  virtual Task<Status> Ping() = 0;
  // Whether writes work now (for /ready): false, with `why` naming the problem, while the
  // backend knows they fail or refuses them (SQLite: disk full or I/O errors, until space is
  // back; its database file deleted or replaced under the server, until restart). A flag the
  // backend keeps current by itself: cheap, thread-safe, never blocks. Backends that cannot
  // tell answer true.
  virtual bool Writable(std::string* why) const {
    (void)why;
    return true;
  }
  virtual Task<Status> Truncate(TruncateOptions options) = 0;
  // Name for logs and /info: "memory", "sqlite".
  virtual std::string_view backend_name() const = 0;
  // Cross-instance run coordination; nullptr for single-process backends (memory, SQLite),
  // which run in embedded mode only.
  virtual RunLeases* leases() { return nullptr; }
};

}  // namespace agentd::storage
