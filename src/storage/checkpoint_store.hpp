#pragma once
// Checkpoints of a thread, with their message writes stored as rows (storage.hpp: threading
// and error rules).

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

struct HistoryQuery {
  std::string thread_id;
  std::string checkpoint_ns;  // "" = root
  std::int64_t limit = 10;
  std::optional<std::string> before;     // strictly older than this checkpoint id
  std::optional<json::object> metadata;  // containment on checkpoint metadata
};

class CheckpointStore {
 public:
  virtual ~CheckpointStore() = default;
  // Appends one checkpoint with its message writes as rows. kConflict when the id exists.
  virtual Task<Status> Put(model::Checkpoint checkpoint) = 0;
  // The newest checkpoint of the namespace (by checkpoint id), or nullopt when there is none.
  virtual Task<Result<std::optional<model::Checkpoint>>> Latest(std::string thread_id,
                                                                std::string checkpoint_ns) = 0;
  virtual Task<Result<model::Checkpoint>> Get(std::string thread_id,
                                              std::string checkpoint_id) = 0;
  // Newest first.
  virtual Task<Result<std::vector<model::Checkpoint>>> List(HistoryQuery query) = 0;
  // Every message write of the checkpoint's ancestor chain (root first, this one last), in
  // order: folding them with the messages reducer gives the channel's value there.
  virtual Task<Result<json::array>> MessageWrites(std::string thread_id,
                                                  std::string checkpoint_id) = 0;
  // Removes the given checkpoints and their message rows (rollback).
  virtual Task<Status> Remove(std::string thread_id, std::vector<std::string> checkpoint_ids) = 0;
};

}  // namespace agentd::storage
