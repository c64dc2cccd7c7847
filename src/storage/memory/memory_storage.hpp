#pragma once
// In-memory Storage: every map behind one mutex, every coroutine completes inline on the
// caller's executor. The fast fake for other subsystems' unit tests; passes the same
// contract suite as sqlite/ (tests/contract/storage_contract.hpp).

#include <memory>

#include "storage/clock.hpp"
#include "storage/storage.hpp"

namespace agentd::storage {

// `clock` stamps created_at/updated_at and decides TTL expiry; empty means NowMs().
std::unique_ptr<Storage> MakeMemoryStorage(Clock clock = {});

}  // namespace agentd::storage
