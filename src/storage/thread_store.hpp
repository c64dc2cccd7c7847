#pragma once
// Threads, per tenant (storage.hpp: threading and error rules).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "common/error.hpp"
#include "model/types.hpp"
#include "storage/types.hpp"

namespace agentd::storage {

struct ThreadQuery {
  std::string tenant;
  std::optional<json::object> metadata;  // containment
  std::optional<json::object> values;    // containment on thread values
  std::optional<std::vector<std::string>> ids;
  std::optional<model::ThreadStatus> status;
  std::int64_t limit = 10;
  std::int64_t offset = 0;
  // One of thread_id, status, created_at, updated_at, state_updated_at.
  std::string sort_by = "created_at";
  model::SortOrder sort_order = model::SortOrder::kDesc;
};

struct ThreadPatch {
  std::optional<json::object> metadata;  // merged (shallow)
  std::optional<model::ThreadStatus> status;
  std::optional<json::object> config;    // replaces
  std::optional<json::value> values;     // replaces; also bumps state_updated_at
  std::optional<json::object> interrupts;
  std::optional<json::value> error;
  std::optional<TimestampMs> expires_at;
};

class ThreadStore {
 public:
  virtual ~ThreadStore() = default;
  // created_at/updated_at/state_updated_at are set by the backend. Existing id: kConflict
  // with kRaise, the stored thread with kDoNothing.
  virtual Task<Result<model::Thread>> Create(model::Thread t, IfExists if_exists) = 0;
  virtual Task<Result<model::Thread>> Get(std::string tenant, std::string thread_id) = 0;
  virtual Task<Result<model::Thread>> Update(std::string tenant, std::string thread_id,
                                             ThreadPatch patch) = 0;
  // Deletes the thread with its runs and checkpoints. kNotFound when missing.
  virtual Task<Status> Delete(std::string tenant, std::string thread_id) = 0;
  // TTL: once expires_at has passed (the backend's clock), Get, Copy (its source) and
  // Create(kDoNothing) answer kNotFound with ExpiredError's text (query.hpp: "Thread <id>
  // expired at <ISO time>", kept by the API as the 404 reason), and Search and Count leave the
  // thread out: it is gone for readers even before the sweeper deletes it. Update still
  // applies (a run that was active when the TTL passed writes its final state) and Delete
  // still deletes it.
  virtual Task<Result<Page<model::Thread>>> Search(ThreadQuery query) = 0;
  virtual Task<Result<std::int64_t>> Count(ThreadQuery query) = 0;
  // A new idle thread `new_thread_id` with the source's metadata (merged with
  // `extra_metadata`), config and values, and copies of all its checkpoints (ids kept).
  // kNotFound when the source is missing.
  virtual Task<Result<model::Thread>> Copy(std::string tenant, std::string source_thread_id,
                                           std::string new_thread_id,
                                           json::object extra_metadata) = 0;
  // TTL sweeping (api/thread_expiry.hpp). Every thread of every tenant with a TTL
  // (expires_at != 0) and expires_at <= `now`, soonest expiry first, at most `limit`.
  virtual Task<Result<std::vector<model::Thread>>> ListExpired(TimestampMs now,
                                                               std::int64_t limit) = 0;
};

}  // namespace agentd::storage
