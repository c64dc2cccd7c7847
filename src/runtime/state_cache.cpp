#include "runtime/state_cache.hpp"

#include <algorithm>
#include <iterator>
#include <utility>

namespace agentd::runtime {

std::optional<boost::json::array> StateCache::Take(const std::string& thread_id,
                                                   const std::string& checkpoint_id) {
  std::lock_guard lock(mutex_);
  auto found = by_thread_.find(thread_id);
  if (found == by_thread_.end() || found->second->checkpoint_id != checkpoint_id) {
    ++misses_;
    return std::nullopt;
  }
  ++hits_;
  boost::json::array out = std::move(found->second->messages);
  EraseLocked(found->second);
  return out;
}

void StateCache::Put(const std::string& thread_id, const std::string& checkpoint_id,
                     boost::json::array messages) {
  std::lock_guard lock(mutex_);
  if (auto found = by_thread_.find(thread_id); found != by_thread_.end()) {
    EraseLocked(found->second);
  }
  if (messages.size() < limits_.min_messages || messages.size() > limits_.max_messages) return;
  messages_ += messages.size();
  const std::size_t count = messages.size();
  lru_.push_front(Entry{thread_id, checkpoint_id, std::move(messages), count});
  by_thread_[thread_id] = lru_.begin();
  while (messages_ > limits_.max_messages && !lru_.empty()) EraseLocked(std::prev(lru_.end()));
}

void StateCache::Forget(const std::string& thread_id) {
  std::lock_guard lock(mutex_);
  if (auto found = by_thread_.find(thread_id); found != by_thread_.end()) {
    EraseLocked(found->second);
  }
}

void StateCache::EraseLocked(Lru::iterator it) {
  messages_ -= std::min(messages_, it->count);
  by_thread_.erase(it->thread_id);
  lru_.erase(it);
}

std::size_t StateCache::entries() const {
  std::lock_guard lock(mutex_);
  return lru_.size();
}
std::size_t StateCache::messages() const {
  std::lock_guard lock(mutex_);
  return messages_;
}
std::size_t StateCache::hits() const {
  std::lock_guard lock(mutex_);
  return hits_;
}
std::size_t StateCache::misses() const {
  std::lock_guard lock(mutex_);
  return misses_;
}

}  // namespace agentd::runtime
