#include <algorithm>

#include "common/json.hpp"
#include "storage/memory/memory_state.hpp"
#include "storage/query.hpp"

namespace agentd::storage::memory {

// ------------------------------------------------------------------ checkpoints

Task<Status> Checkpoints::Put(model::Checkpoint checkpoint) {
  std::lock_guard lock(s_.mu);
  auto key = std::make_pair(checkpoint.thread_id, checkpoint.checkpoint_id);
  if (s_.checkpoints.contains(key)) {
    co_return MakeError(Errc::kConflict, "checkpoint " + checkpoint.checkpoint_id + " exists");
  }
  if (checkpoint.created_at == 0) checkpoint.created_at = s_.Now();
  s_.checkpoints.emplace(std::move(key), std::move(checkpoint));
  co_return Status{};
}

Task<Result<std::optional<model::Checkpoint>>> Checkpoints::Latest(std::string thread_id,
                                                                   std::string checkpoint_ns) {
  std::lock_guard lock(s_.mu);
  // Newest first from the end of the thread's range: one copy, not one per checkpoint (a
  // long thread has thousands, and every run reads the latest).
  const auto begin = s_.checkpoints.lower_bound({thread_id, std::string()});
  // thread_id + '\0' is the next string after thread_id: the first key past the thread.
  auto it = s_.checkpoints.lower_bound({thread_id + '\0', std::string()});
  while (it != begin) {
    --it;
    if (it->first.first != thread_id) continue;
    if (it->second.checkpoint_ns == checkpoint_ns) {
      co_return std::optional<model::Checkpoint>(it->second);
    }
  }
  co_return std::optional<model::Checkpoint>();
}

Task<Result<model::Checkpoint>> Checkpoints::Get(std::string thread_id,
                                                 std::string checkpoint_id) {
  std::lock_guard lock(s_.mu);
  auto it = s_.checkpoints.find({thread_id, checkpoint_id});
  if (it == s_.checkpoints.end()) {
    co_return MakeError(Errc::kNotFound, "checkpoint " + checkpoint_id);
  }
  co_return it->second;
}

Task<Result<std::vector<model::Checkpoint>>> Checkpoints::List(HistoryQuery query) {
  std::lock_guard lock(s_.mu);
  std::vector<model::Checkpoint> out;
  for (auto it = s_.checkpoints.lower_bound({query.thread_id, std::string()});
       it != s_.checkpoints.end() && it->first.first == query.thread_id; ++it) {
    const model::Checkpoint& c = it->second;
    if (c.checkpoint_ns != query.checkpoint_ns) continue;
    if (query.before && !(c.checkpoint_id < *query.before)) continue;
    if (query.metadata && !JsonContains(c.metadata, *query.metadata)) continue;
    out.push_back(c);
  }
  std::reverse(out.begin(), out.end());
  co_return Slice(std::move(out), 0, query.limit);
}

Task<Result<json::array>> Checkpoints::MessageWrites(std::string thread_id,
                                                     std::string checkpoint_id) {
  std::lock_guard lock(s_.mu);
  auto it = s_.checkpoints.find({thread_id, checkpoint_id});
  if (it == s_.checkpoints.end()) {
    co_return MakeError(Errc::kNotFound, "checkpoint " + checkpoint_id);
  }
  std::vector<const model::Checkpoint*> chain;  // newest first
  // Bounded by the map size so a corrupt parent cycle cannot loop forever.
  while (it != s_.checkpoints.end() && chain.size() <= s_.checkpoints.size()) {
    chain.push_back(&it->second);
    if (!it->second.parent_checkpoint_id) break;
    it = s_.checkpoints.find({thread_id, *it->second.parent_checkpoint_id});
  }
  json::array out;
  for (auto c = chain.rbegin(); c != chain.rend(); ++c) {
    for (const auto& m : (*c)->appended_messages) out.push_back(m);
  }
  co_return out;
}

Task<Status> Checkpoints::Remove(std::string thread_id, std::vector<std::string> checkpoint_ids) {
  std::lock_guard lock(s_.mu);
  for (const auto& id : checkpoint_ids) s_.checkpoints.erase({thread_id, id});
  co_return Status{};
}

// ------------------------------------------------------------------ store items

Task<Status> Items::Put(model::StoreItem item) {
  std::lock_guard lock(s_.mu);
  TimestampMs now = s_.Now();
  auto key = std::make_tuple(item.tenant, JoinNamespace(item.namespace_path), item.key);
  auto it = s_.items.find(key);
  if (it != s_.items.end() && IsExpired(it->second.value.expires_at, now)) {
    s_.items.erase(it);  // an expired item is absent: this put creates it afresh
    it = s_.items.end();
  }
  item.updated_at = now;
  item.expires_at = ExpiryFromTtl(item.ttl_minutes, now);
  if (it != s_.items.end()) {
    item.created_at = it->second.value.created_at;
    it->second.value = std::move(item);
  } else {
    item.created_at = now;
    s_.items.emplace(std::move(key), Row<model::StoreItem>{std::move(item), s_.next_seq++});
  }
  co_return Status{};
}

Task<Result<std::optional<model::StoreItem>>> Items::Get(std::string tenant,
                                                         std::vector<std::string> ns,
                                                         std::string key, bool refresh_ttl) {
  std::lock_guard lock(s_.mu);
  TimestampMs now = s_.Now();
  auto it = s_.items.find({tenant, JoinNamespace(ns), key});
  if (it == s_.items.end() || IsExpired(it->second.value.expires_at, now)) {
    co_return std::optional<model::StoreItem>();
  }
  model::StoreItem& item = it->second.value;
  if (refresh_ttl && item.ttl_minutes) item.expires_at = ExpiryFromTtl(item.ttl_minutes, now);
  co_return std::optional<model::StoreItem>(item);
}

Task<Status> Items::Delete(std::string tenant, std::vector<std::string> ns, std::string key) {
  std::lock_guard lock(s_.mu);
  s_.items.erase({tenant, JoinNamespace(ns), key});
  co_return Status{};
}

Task<Result<std::vector<model::StoreItem>>> Items::Search(ItemSearch query) {
  std::lock_guard lock(s_.mu);
  TimestampMs now = s_.Now();
  std::vector<Row<model::StoreItem>*> rows;
  for (auto& [key, row] : s_.items) {
    const model::StoreItem& item = row.value;
    if (item.tenant != query.tenant || IsExpired(item.expires_at, now)) continue;
    if (!HasNamespacePrefix(item.namespace_path, query.namespace_prefix)) continue;
    if (query.filter && !MatchesItemFilter(item.value, *query.filter)) continue;
    rows.push_back(&row);
  }
  std::sort(rows.begin(), rows.end(), [](const auto* x, const auto* y) {
    if (x->value.updated_at != y->value.updated_at) {
      return x->value.updated_at > y->value.updated_at;
    }
    return x->seq > y->seq;
  });
  rows = Slice(std::move(rows), query.offset, query.limit);
  std::vector<model::StoreItem> out;
  for (auto* row : rows) {
    if (query.refresh_ttl && row->value.ttl_minutes) {
      row->value.expires_at = ExpiryFromTtl(row->value.ttl_minutes, now);
    }
    out.push_back(row->value);
  }
  co_return out;
}

Task<Result<std::vector<std::vector<std::string>>>> Items::ListNamespaces(NamespaceQuery query) {
  std::lock_guard lock(s_.mu);
  TimestampMs now = s_.Now();
  std::vector<std::vector<std::string>> all;
  for (const auto& [key, row] : s_.items) {
    if (row.value.tenant != query.tenant || IsExpired(row.value.expires_at, now)) continue;
    all.push_back(row.value.namespace_path);
  }
  co_return SelectNamespaces(std::move(all), query);
}

}  // namespace agentd::storage::memory
