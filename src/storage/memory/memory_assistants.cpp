#include <algorithm>

#include "common/json.hpp"
#include "storage/memory/memory_state.hpp"
#include "storage/query.hpp"

namespace agentd::storage::memory {
namespace {

Error NotFound(const std::string& id) { return MakeError(Errc::kNotFound, "assistant " + id); }

}  // namespace

Task<Result<model::Assistant>> Assistants::Create(model::Assistant a, IfExists if_exists) {
  std::lock_guard lock(s_.mu);
  if (auto it = s_.assistants.find(a.assistant_id); it != s_.assistants.end()) {
    // Another tenant's id is a conflict too, but its row is never handed out.
    if (if_exists == IfExists::kDoNothing && it->second.value.tenant == a.tenant) {
      if (IsExpired(it->second.value.expires_at, s_.Now())) {
        co_return ExpiredError("Assistant", a.assistant_id, it->second.value.expires_at);
      }
      co_return it->second.value;
    }
    co_return MakeError(Errc::kConflict, "assistant " + a.assistant_id + " exists");
  }
  a.version = 1;
  a.created_at = a.updated_at = s_.Now();
  s_.versions[a.assistant_id] = {SnapshotOf(a, a.created_at)};
  s_.assistants[a.assistant_id] = Row<model::Assistant>{a, s_.next_seq++};
  co_return a;
}

Task<Result<model::Assistant>> Assistants::Get(std::string tenant, std::string assistant_id) {
  std::lock_guard lock(s_.mu);
  auto it = s_.assistants.find(assistant_id);
  if (it == s_.assistants.end() || it->second.value.tenant != tenant) {
    co_return NotFound(assistant_id);
  }
  if (IsExpired(it->second.value.expires_at, s_.Now())) {
    co_return ExpiredError("Assistant", assistant_id, it->second.value.expires_at);
  }
  co_return it->second.value;
}

Task<Result<model::Assistant>> Assistants::Update(std::string tenant, std::string assistant_id,
                                                  AssistantPatch patch) {
  std::lock_guard lock(s_.mu);
  auto it = s_.assistants.find(assistant_id);
  if (it == s_.assistants.end() || it->second.value.tenant != tenant) {
    co_return NotFound(assistant_id);
  }
  if (IsExpired(it->second.value.expires_at, s_.Now())) {
    co_return ExpiredError("Assistant", assistant_id, it->second.value.expires_at);
  }
  model::Assistant& a = it->second.value;
  auto& versions = s_.versions[assistant_id];
  ApplyPatch(a, patch);
  a.version = versions.empty() ? 1 : versions.back().version + 1;
  a.updated_at = s_.Now();
  versions.push_back(SnapshotOf(a, a.updated_at));
  co_return a;
}

Task<Status> Assistants::Delete(std::string tenant, std::string assistant_id,
                                bool delete_threads) {
  std::lock_guard lock(s_.mu);
  auto it = s_.assistants.find(assistant_id);
  if (it == s_.assistants.end() || it->second.value.tenant != tenant) {
    co_return NotFound(assistant_id);
  }
  // An expired assistant is still deleted: the sweeper does this.
  s_.assistants.erase(it);
  s_.versions.erase(assistant_id);
  s_.DeleteRunsOfAssistantLocked(tenant, assistant_id);
  if (delete_threads) {
    std::vector<std::string> doomed;
    for (const auto& [id, row] : s_.threads) {
      if (row.value.tenant != tenant) continue;
      auto md = row.value.metadata.find("assistant_id");
      if (md != row.value.metadata.end() && md->value().is_string() &&
          md->value().get_string() == assistant_id) {
        doomed.push_back(id);
      }
    }
    for (const auto& id : doomed) s_.DeleteThreadLocked(id);
  }
  co_return Status{};
}

std::vector<model::Assistant> Assistants::MatchingLocked(const AssistantQuery& q) {
  std::vector<const Row<model::Assistant>*> rows;
  const TimestampMs now = s_.Now();
  for (const auto& [id, row] : s_.assistants) {
    if (row.value.tenant != q.tenant || IsExpired(row.value.expires_at, now)) continue;
    if (Matches(row.value, q)) rows.push_back(&row);
  }
  bool desc = q.sort_order == model::SortOrder::kDesc;
  std::sort(rows.begin(), rows.end(), [&](const auto* x, const auto* y) {
    int c = CompareBy(x->value, y->value, q.sort_by);
    if (c == 0) c = x->seq < y->seq ? -1 : 1;
    return desc ? c > 0 : c < 0;
  });
  std::vector<model::Assistant> out;
  out.reserve(rows.size());
  for (const auto* r : rows) out.push_back(r->value);
  return out;
}

Task<Result<Page<model::Assistant>>> Assistants::Search(AssistantQuery query) {
  std::lock_guard lock(s_.mu);
  auto all = MatchingLocked(query);
  Page<model::Assistant> page;
  page.total = static_cast<std::int64_t>(all.size());
  page.items = Slice(std::move(all), query.offset, query.limit);
  co_return page;
}

Task<Result<std::int64_t>> Assistants::Count(AssistantQuery query) {
  std::lock_guard lock(s_.mu);
  co_return static_cast<std::int64_t>(MatchingLocked(query).size());
}

Task<Result<std::vector<model::AssistantVersion>>> Assistants::ListVersions(
    std::string tenant, std::string assistant_id, std::optional<json::object> metadata,
    std::int64_t limit, std::int64_t offset) {
  std::lock_guard lock(s_.mu);
  auto it = s_.assistants.find(assistant_id);
  if (it == s_.assistants.end() || it->second.value.tenant != tenant) {
    co_return NotFound(assistant_id);
  }
  if (IsExpired(it->second.value.expires_at, s_.Now())) {
    co_return ExpiredError("Assistant", assistant_id, it->second.value.expires_at);
  }
  std::vector<model::AssistantVersion> out;
  const auto& versions = s_.versions[assistant_id];
  for (auto v = versions.rbegin(); v != versions.rend(); ++v) {
    if (!metadata || JsonContains(v->metadata, *metadata)) out.push_back(*v);
  }
  co_return Slice(std::move(out), offset, limit);
}

Task<Result<model::Assistant>> Assistants::SetLatest(std::string tenant, std::string assistant_id,
                                                     std::int64_t version) {
  std::lock_guard lock(s_.mu);
  auto it = s_.assistants.find(assistant_id);
  if (it == s_.assistants.end() || it->second.value.tenant != tenant) {
    co_return NotFound(assistant_id);
  }
  if (IsExpired(it->second.value.expires_at, s_.Now())) {
    co_return ExpiredError("Assistant", assistant_id, it->second.value.expires_at);
  }
  const auto& versions = s_.versions[assistant_id];
  // A plain loop, not find_if with a lambda: GCC 12 may bind a lambda's captures of a
  // coroutine parameter to the caller's argument instead of the frame's copy.
  auto v = versions.begin();
  while (v != versions.end() && v->version != version) ++v;
  if (v == versions.end()) {
    co_return MakeError(Errc::kNotFound, "assistant version " + std::to_string(version));
  }
  model::Assistant& a = it->second.value;
  a.graph_id = v->graph_id;
  a.config = v->config;
  a.context = v->context;
  a.metadata = v->metadata;
  a.name = v->name;
  a.description = v->description;
  a.version = v->version;
  a.updated_at = s_.Now();
  co_return a;
}

Task<Result<std::vector<model::Assistant>>> Assistants::ListExpired(TimestampMs now,
                                                                    std::int64_t limit) {
  std::lock_guard lock(s_.mu);
  std::vector<const Row<model::Assistant>*> rows;
  for (const auto& [id, row] : s_.assistants) {
    if (IsExpired(row.value.expires_at, now)) rows.push_back(&row);
  }
  std::sort(rows.begin(), rows.end(), [](const auto* x, const auto* y) {
    if (x->value.expires_at != y->value.expires_at) {
      return x->value.expires_at < y->value.expires_at;
    }
    return x->seq < y->seq;
  });
  std::vector<model::Assistant> out;
  for (const auto* r : rows) {
    if (static_cast<std::int64_t>(out.size()) >= limit) break;
    out.push_back(r->value);
  }
  co_return out;
}

}  // namespace agentd::storage::memory
