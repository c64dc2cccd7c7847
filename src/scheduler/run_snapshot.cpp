// RunManager::ActiveRuns: what the console's operations view lists (api/ops_sampler.cpp).
// Handles are copied under the manager's lock (a few map reads); queue positions are asked of
// Admission afterwards, outside it, so the two locks are never held together. The fields read
// outside the lock (ids, tenant, tier, attempt) are set before a handle enters active_.

#include <algorithm>

#include "scheduler/run_manager.hpp"

namespace agentd::scheduler {

std::vector<ActiveRunInfo> RunManager::ActiveRuns(std::size_t limit, std::size_t* total) const {
  struct Seen {
    std::shared_ptr<RunHandle> handle;
    RunHandle::State state;
  };
  std::vector<Seen> seen;
  {
    std::lock_guard lock(mutex_);
    seen.reserve(active_.size());
    for (const auto& [id, h] : active_) {
      if (h->state_ == RunHandle::State::kDone) continue;
      seen.push_back({h, h->state_});
    }
  }
  std::vector<ActiveRunInfo> out;
  out.reserve(seen.size());
  for (const auto& s : seen) {
    const RunHandle& h = *s.handle;
    ActiveRunInfo info;
    info.run_id = h.run_id_;
    info.thread_id = h.thread_id_;
    info.tenant = h.tenant_;
    info.tier = h.tier_;
    // run_ is written by Create() until the run is recorded (state kAdmitted); the state was
    // read under the lock that publishes those writes, so past kAdmitted it is settled.
    if (s.state != RunHandle::State::kAdmitted) {
      info.assistant_id = h.run_.assistant_id;
      info.created_at_ms = h.run_.created_at;
    }
    info.attempt = h.attempt_;
    switch (s.state) {
      case RunHandle::State::kAdmitted:
      case RunHandle::State::kQueued: info.state = "behind_thread"; break;
      case RunHandle::State::kStarting: info.state = "starting"; break;
      case RunHandle::State::kRunning: info.state = "running"; break;
      case RunHandle::State::kDone: break;  // skipped above
    }
    if (s.state == RunHandle::State::kStarting) {
      if (auto position = QueueInfo(h)) {
        info.state = "queued";
        info.queue_position = position->position;
        info.estimated_wait_ms = position->estimated_wait_ms;
      }
    }
    out.push_back(std::move(info));
  }
  auto rank = [](const ActiveRunInfo& r) {
    if (r.state == "running") return 0;
    if (r.state == "starting") return 1;
    if (r.state == "queued") return 2;
    return 3;
  };
  std::sort(out.begin(), out.end(), [&](const ActiveRunInfo& a, const ActiveRunInfo& b) {
    if (rank(a) != rank(b)) return rank(a) < rank(b);
    if (a.queue_position != b.queue_position) return a.queue_position < b.queue_position;
    return a.run_id < b.run_id;  // uuid7: creation order
  });
  if (total != nullptr) *total = out.size();
  if (out.size() > limit) out.resize(limit);
  return out;
}

}  // namespace agentd::scheduler
