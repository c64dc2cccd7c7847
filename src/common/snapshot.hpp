#pragma once
// Snapshot<T>: the current version of something that a reload may replace while other threads
// read it (the configuration's auth, limits, models and tools; docs/operations.md "Reload").
//
// A reader takes the current version with Get() and keeps the shared_ptr for as long as it
// works with it (a request, a run): a Set() meanwhile publishes a new version for later
// readers and never changes the one already taken, which lives until its last reader drops it.
// So versions are immutable once published (T is usually const) and nobody mutates shared
// configuration in place.
//
// Thread safety: Get() and Set() may be called from any thread. The mutex covers only the
// pointer copy; the old version is released outside it (its destructor may be heavy).

#include <memory>
#include <mutex>
#include <utility>

namespace agentd {

template <class T>
class Snapshot {
 public:
  Snapshot() = default;
  explicit Snapshot(std::shared_ptr<T> initial) : current_(std::move(initial)) {}
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;

  std::shared_ptr<T> Get() const {
    std::lock_guard lock(mu_);
    return current_;
  }

  // Publishes `next`; returns the version it replaced.
  std::shared_ptr<T> Set(std::shared_ptr<T> next) {
    std::lock_guard lock(mu_);
    std::swap(current_, next);
    return next;
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<T> current_;
};

}  // namespace agentd
