#include <algorithm>

#include "common/json.hpp"
#include "storage/memory/memory_state.hpp"
#include "storage/query.hpp"

namespace agentd::storage::memory {
namespace {

Error ThreadNotFound(const std::string& id) {
  return MakeError(Errc::kNotFound, "thread " + id);
}
Error RunNotFound(const std::string& id) { return MakeError(Errc::kNotFound, "run " + id); }

}  // namespace

// ------------------------------------------------------------------ threads

Task<Result<model::Thread>> Threads::Create(model::Thread t, IfExists if_exists) {
  std::lock_guard lock(s_.mu);
  if (auto it = s_.threads.find(t.thread_id); it != s_.threads.end()) {
    if (if_exists == IfExists::kDoNothing && it->second.value.tenant == t.tenant) {
      if (IsExpired(it->second.value.expires_at, s_.Now())) {
        co_return ExpiredError("Thread", t.thread_id, it->second.value.expires_at);
      }
      co_return it->second.value;
    }
    co_return MakeError(Errc::kConflict, "thread " + t.thread_id + " exists");
  }
  t.created_at = t.updated_at = t.state_updated_at = s_.Now();
  s_.threads[t.thread_id] = Row<model::Thread>{t, s_.next_seq++};
  co_return t;
}

Task<Result<model::Thread>> Threads::Get(std::string tenant, std::string thread_id) {
  std::lock_guard lock(s_.mu);
  auto it = s_.threads.find(thread_id);
  if (it == s_.threads.end() || it->second.value.tenant != tenant) {
    co_return ThreadNotFound(thread_id);
  }
  if (IsExpired(it->second.value.expires_at, s_.Now())) {
    co_return ExpiredError("Thread", thread_id, it->second.value.expires_at);
  }
  co_return it->second.value;
}

Task<Result<model::Thread>> Threads::Update(std::string tenant, std::string thread_id,
                                            ThreadPatch patch) {
  std::lock_guard lock(s_.mu);
  auto it = s_.threads.find(thread_id);
  if (it == s_.threads.end() || it->second.value.tenant != tenant) {
    co_return ThreadNotFound(thread_id);
  }
  ApplyPatch(it->second.value, patch, s_.Now());
  co_return it->second.value;
}

Task<Status> Threads::Delete(std::string tenant, std::string thread_id) {
  std::lock_guard lock(s_.mu);
  auto it = s_.threads.find(thread_id);
  if (it == s_.threads.end() || it->second.value.tenant != tenant) {
    co_return ThreadNotFound(thread_id);
  }
  s_.DeleteThreadLocked(thread_id);
  co_return Status{};
}

std::vector<model::Thread> Threads::MatchingLocked(const ThreadQuery& q) {
  std::vector<const Row<model::Thread>*> rows;
  const TimestampMs now = s_.Now();
  for (const auto& [id, row] : s_.threads) {
    if (row.value.tenant != q.tenant || IsExpired(row.value.expires_at, now)) continue;
    if (Matches(row.value, q)) rows.push_back(&row);
  }
  bool desc = q.sort_order == model::SortOrder::kDesc;
  std::sort(rows.begin(), rows.end(), [&](const auto* x, const auto* y) {
    int c = CompareBy(x->value, y->value, q.sort_by);
    if (c == 0) c = x->seq < y->seq ? -1 : 1;
    return desc ? c > 0 : c < 0;
  });
  std::vector<model::Thread> out;
  out.reserve(rows.size());
  for (const auto* r : rows) out.push_back(r->value);
  return out;
}

Task<Result<Page<model::Thread>>> Threads::Search(ThreadQuery query) {
  std::lock_guard lock(s_.mu);
  auto all = MatchingLocked(query);
  Page<model::Thread> page;
  page.total = static_cast<std::int64_t>(all.size());
  page.items = Slice(std::move(all), query.offset, query.limit);
  co_return page;
}

Task<Result<std::int64_t>> Threads::Count(ThreadQuery query) {
  std::lock_guard lock(s_.mu);
  co_return static_cast<std::int64_t>(MatchingLocked(query).size());
}

Task<Result<model::Thread>> Threads::Copy(std::string tenant, std::string source_thread_id,
                                          std::string new_thread_id,
                                          json::object extra_metadata) {
  std::lock_guard lock(s_.mu);
  auto src = s_.threads.find(source_thread_id);
  if (src == s_.threads.end() || src->second.value.tenant != tenant) {
    co_return ThreadNotFound(source_thread_id);
  }
  if (IsExpired(src->second.value.expires_at, s_.Now())) {
    co_return ExpiredError("Thread", source_thread_id, src->second.value.expires_at);
  }
  if (s_.threads.contains(new_thread_id)) {
    co_return MakeError(Errc::kConflict, "thread " + new_thread_id + " exists");
  }
  model::Thread t;
  t.tenant = tenant;
  t.thread_id = new_thread_id;
  t.metadata = src->second.value.metadata;
  MergeShallow(t.metadata, extra_metadata);
  t.config = src->second.value.config;
  t.values = src->second.value.values;
  t.status = model::ThreadStatus::kIdle;
  t.created_at = t.updated_at = t.state_updated_at = s_.Now();
  std::vector<model::Checkpoint> copies;
  for (auto it = s_.checkpoints.lower_bound({source_thread_id, std::string()});
       it != s_.checkpoints.end() && it->first.first == source_thread_id; ++it) {
    copies.push_back(it->second);
    copies.back().thread_id = new_thread_id;
  }
  for (auto& c : copies) {
    auto key = std::make_pair(new_thread_id, c.checkpoint_id);
    s_.checkpoints[key] = std::move(c);
  }
  s_.threads[new_thread_id] = Row<model::Thread>{t, s_.next_seq++};
  co_return t;
}

Task<Result<std::vector<model::Thread>>> Threads::ListExpired(TimestampMs now,
                                                              std::int64_t limit) {
  std::lock_guard lock(s_.mu);
  std::vector<const Row<model::Thread>*> rows;
  for (const auto& [id, row] : s_.threads) {
    if (IsExpired(row.value.expires_at, now)) rows.push_back(&row);
  }
  std::sort(rows.begin(), rows.end(), [](const auto* x, const auto* y) {
    if (x->value.expires_at != y->value.expires_at) {
      return x->value.expires_at < y->value.expires_at;
    }
    return x->seq < y->seq;
  });
  std::vector<model::Thread> out;
  for (const auto* r : rows) {
    if (static_cast<std::int64_t>(out.size()) >= limit) break;
    out.push_back(r->value);
  }
  co_return out;
}

// ------------------------------------------------------------------ runs

Task<Result<model::Run>> Runs::Create(model::Run run) {
  std::lock_guard lock(s_.mu);
  if (s_.runs.contains(run.run_id)) {
    co_return MakeError(Errc::kConflict, "run " + run.run_id + " exists");
  }
  run.created_at = run.updated_at = s_.Now();
  s_.runs[run.run_id] = Row<model::Run>{run, s_.next_seq++};
  co_return run;
}

Task<Result<model::Run>> Runs::Get(std::string tenant, std::string run_id) {
  std::lock_guard lock(s_.mu);
  auto it = s_.runs.find(run_id);
  if (it == s_.runs.end() || it->second.value.tenant != tenant) co_return RunNotFound(run_id);
  co_return it->second.value;
}

Task<Result<std::vector<model::Run>>> Runs::List(RunQuery query) {
  std::lock_guard lock(s_.mu);
  auto t = s_.threads.find(query.thread_id);
  if (t == s_.threads.end() || t->second.value.tenant != query.tenant) {
    co_return ThreadNotFound(query.thread_id);
  }
  std::vector<const Row<model::Run>*> rows;
  for (const auto& [id, row] : s_.runs) {
    const model::Run& r = row.value;
    if (r.tenant != query.tenant || r.thread_id != query.thread_id) continue;
    if (query.status && r.status != *query.status) continue;
    rows.push_back(&row);
  }
  std::sort(rows.begin(), rows.end(), [](const auto* x, const auto* y) {
    if (x->value.created_at != y->value.created_at) {
      return x->value.created_at > y->value.created_at;
    }
    return x->seq > y->seq;
  });
  std::vector<model::Run> out;
  for (const auto* r : rows) out.push_back(r->value);
  co_return Slice(std::move(out), query.offset, query.limit);
}

Task<Result<model::Run>> Runs::SetStatus(std::string tenant, std::string run_id,
                                         model::RunStatus status) {
  std::lock_guard lock(s_.mu);
  auto it = s_.runs.find(run_id);
  if (it == s_.runs.end() || it->second.value.tenant != tenant) co_return RunNotFound(run_id);
  it->second.value.status = status;
  it->second.value.updated_at = s_.Now();
  co_return it->second.value;
}

Task<Status> Runs::Delete(std::string tenant, std::string run_id) {
  std::lock_guard lock(s_.mu);
  auto it = s_.runs.find(run_id);
  if (it == s_.runs.end() || it->second.value.tenant != tenant) co_return RunNotFound(run_id);
  s_.runs.erase(it);
  co_return Status{};
}

Task<Status> Runs::SetUsage(std::string tenant, std::string run_id, json::object usage) {
  std::lock_guard lock(s_.mu);
  auto it = s_.runs.find(run_id);
  if (it == s_.runs.end() || it->second.value.tenant != tenant) co_return RunNotFound(run_id);
  it->second.value.usage = std::move(usage);
  co_return Status{};
}

Task<Status> Runs::SetTrace(std::string tenant, std::string run_id, std::string trace) {
  std::lock_guard lock(s_.mu);
  auto it = s_.runs.find(run_id);
  if (it == s_.runs.end() || it->second.value.tenant != tenant) co_return RunNotFound(run_id);
  it->second.trace = std::move(trace);
  co_return Status{};
}

Task<Result<std::optional<std::string>>> Runs::GetTrace(std::string tenant, std::string thread_id,
                                                        std::string run_id) {
  std::lock_guard lock(s_.mu);
  auto it = s_.runs.find(run_id);
  if (it == s_.runs.end() || it->second.value.tenant != tenant ||
      it->second.value.thread_id != thread_id) {
    co_return RunNotFound(run_id);
  }
  if (it->second.trace.empty()) co_return std::optional<std::string>{};
  co_return std::optional<std::string>{it->second.trace};
}

}  // namespace agentd::storage::memory
