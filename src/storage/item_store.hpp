#pragma once
// The long-term memory store: JSON items under namespaces, per tenant (storage.hpp: threading
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

struct ItemSearch {
  std::string tenant;
  std::vector<std::string> namespace_prefix;
  // Top-level keys of value: a plain value means equality; an object with $eq $ne $gt $gte
  // $lt $lte $in $nin applies those operators.
  std::optional<json::object> filter;
  std::int64_t limit = 10;
  std::int64_t offset = 0;
  bool refresh_ttl = false;
};

struct NamespaceQuery {
  std::string tenant;
  std::optional<std::vector<std::string>> prefix;  // "*" matches any one label
  std::optional<std::vector<std::string>> suffix;
  std::optional<std::int64_t> max_depth;
  std::int64_t limit = 100;
  std::int64_t offset = 0;
};

class ItemStore {
 public:
  virtual ~ItemStore() = default;
  // Upsert: a new item gets created_at = updated_at = now; an existing one keeps created_at.
  // `ttl_minutes` sets expires_at = now + ttl (cleared when absent).
  virtual Task<Status> Put(model::StoreItem item) = 0;
  // nullopt when absent or expired. `refresh_ttl` extends a TTL item from now.
  virtual Task<Result<std::optional<model::StoreItem>>> Get(std::string tenant,
                                                            std::vector<std::string> ns,
                                                            std::string key, bool refresh_ttl) = 0;
  // Succeeds whether or not the item existed.
  virtual Task<Status> Delete(std::string tenant, std::vector<std::string> ns, std::string key) = 0;
  // Newest updated_at first; expired items never appear.
  virtual Task<Result<std::vector<model::StoreItem>>> Search(ItemSearch query) = 0;
  // Distinct namespaces (cut to max_depth), sorted lexically, then paginated.
  virtual Task<Result<std::vector<std::vector<std::string>>>> ListNamespaces(
      NamespaceQuery query) = 0;
};

}  // namespace agentd::storage
