#pragma once
// System assistants (one per registered graph, created at start-up by EnsureSystemAssistants)
// are stored under the empty tenant and shared by every tenant: this Storage decorator makes
// them visible to every tenant's reads while keeping them read-only for tenants.
//
//   Get, ListVersions: the tenant's own assistant, else the system one with that id;
//   Search, Count: the tenant's assistants merged with the system ones (same filters, sort,
//                  limit/offset over the merged list);
//   Update, Delete, SetLatest of a system assistant by a tenant: kConflict
//                  ("System assistants cannot be modified") — 409, as it is visible to them;
//   the empty tenant (auth off, or the system itself) sees and changes exactly what it owns.
// Every other store passes through untouched. Tenants cannot be "" when auth is required
// (config rejects it), so only the system writes there.

#include <memory>

#include "storage/storage.hpp"

namespace agentd::api {

// `inner` must outlive the result.
std::unique_ptr<storage::Storage> MakeSharedSystemAssistants(storage::Storage& inner);

}  // namespace agentd::api
