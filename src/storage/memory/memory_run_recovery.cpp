// RunStore's crash-recovery queries (storage.hpp): ListByStatus and NextAttempt.
#include <algorithm>

#include "storage/memory/memory_state.hpp"

namespace agentd::storage::memory {

Task<Result<std::vector<model::Run>>> Runs::ListByStatus(std::vector<model::RunStatus> statuses,
                                                         std::int64_t limit) {
  std::lock_guard lock(s_.mu);
  std::vector<const Row<model::Run>*> rows;
  for (const auto& [id, row] : s_.runs) {
    if (std::find(statuses.begin(), statuses.end(), row.value.status) != statuses.end()) {
      rows.push_back(&row);
    }
  }
  std::sort(rows.begin(), rows.end(), [](const auto* x, const auto* y) {
    if (x->value.created_at != y->value.created_at) return x->value.created_at < y->value.created_at;
    return x->seq < y->seq;
  });
  std::vector<model::Run> out;
  for (const auto* r : rows) {
    if (static_cast<std::int64_t>(out.size()) >= std::max<std::int64_t>(limit, 0)) break;
    out.push_back(r->value);
  }
  co_return out;
}

Task<Result<std::int64_t>> Runs::NextAttempt(std::string tenant, std::string run_id) {
  std::lock_guard lock(s_.mu);
  auto it = s_.runs.find(run_id);
  if (it == s_.runs.end() || it->second.value.tenant != tenant) {
    co_return MakeError(Errc::kNotFound, "run " + run_id + " not found");
  }
  co_return 1 + ++attempts_[run_id];
}

}  // namespace agentd::storage::memory
