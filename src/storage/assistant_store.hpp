#pragma once
// Assistants and their versions, per tenant (storage.hpp: threading and error rules).

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

struct AssistantQuery {
  std::string tenant;
  std::optional<json::object> metadata;  // containment
  std::optional<std::string> graph_id;
  std::optional<std::string> name;       // case-insensitive substring
  std::int64_t limit = 10;
  std::int64_t offset = 0;
  // One of assistant_id, graph_id, name, created_at, updated_at (validated by the API).
  std::string sort_by = "created_at";
  model::SortOrder sort_order = model::SortOrder::kDesc;
};

struct AssistantPatch {
  std::optional<std::string> graph_id;
  std::optional<json::object> config;    // replaces
  std::optional<json::object> context;   // replaces
  std::optional<json::object> metadata;  // merged (shallow) into the current metadata
  std::optional<std::string> name;
  std::optional<std::optional<std::string>> description;  // set (possibly to null)
  std::optional<TimestampMs> expires_at;                  // the TTL (0 clears it); not versioned
};

class AssistantStore {
 public:
  virtual ~AssistantStore() = default;
  // Stores `a` as version 1 (created_at/updated_at set by the backend) and records the
  // version snapshot. Existing id: kConflict with kRaise, the stored assistant with kDoNothing.
  virtual Task<Result<model::Assistant>> Create(model::Assistant a, IfExists if_exists) = 0;
  virtual Task<Result<model::Assistant>> Get(std::string tenant, std::string assistant_id) = 0;
  // Applies `patch` to the latest version, stores it as version max+1 and makes it current.
  //
  // TTL: once expires_at has passed (the backend's clock), the assistant reads as missing:
  // Get, Update, ListVersions, SetLatest and Create(kDoNothing) answer kNotFound with
  // ExpiredError's text (query.hpp: "Assistant <id> expired at <ISO time>", kept by the API as
  // the 404 reason); Search and Count leave it out; Delete still deletes it (the sweeper).
  virtual Task<Result<model::Assistant>> Update(std::string tenant, std::string assistant_id,
                                                AssistantPatch patch) = 0;
  // Deletes the assistant, its versions and its runs; with `delete_threads`, also every thread
  // whose metadata.assistant_id equals the id. kNotFound when missing.
  virtual Task<Status> Delete(std::string tenant, std::string assistant_id,
                              bool delete_threads) = 0;
  virtual Task<Result<Page<model::Assistant>>> Search(AssistantQuery query) = 0;
  virtual Task<Result<std::int64_t>> Count(AssistantQuery query) = 0;
  // Newest first. kNotFound when the assistant does not exist.
  virtual Task<Result<std::vector<model::AssistantVersion>>> ListVersions(
      std::string tenant, std::string assistant_id, std::optional<json::object> metadata,
      std::int64_t limit, std::int64_t offset) = 0;
  // Makes `version` current (its graph_id, config, context, metadata, name, description).
  // kNotFound when the assistant or the version is missing.
  virtual Task<Result<model::Assistant>> SetLatest(std::string tenant, std::string assistant_id,
                                                   std::int64_t version) = 0;
  // TTL sweeping (api/thread_expiry.hpp). Every assistant of every tenant with a TTL
  // (expires_at != 0) and expires_at <= `now`, soonest expiry first, at most `limit`.
  virtual Task<Result<std::vector<model::Assistant>>> ListExpired(TimestampMs now,
                                                                  std::int64_t limit) = 0;
};

}  // namespace agentd::storage
