#pragma once
// StateCache: the folded message list of a thread at one checkpoint, kept after a run so the
// thread's next run does not re-read and re-fold its whole message history
// (docs/performance.md, "history"). Without it every turn costs O(thread length) in
// MessageWrites + FoldMessages.
//
// Exactness: an entry is keyed by (thread_id, checkpoint_id) and only ever holds the fold of
// that checkpoint's chain. Checkpoints are append-only and their ids (uuid7) are never reused,
// so the chain behind an id cannot change while the id exists; the executor still asks the
// store for the latest checkpoint on every run and uses an entry only when its id matches.
// Anything written from elsewhere (updateState through another process, a rollback removing
// the run's checkpoints, a thread delete or copy) changes the latest id, so a stale entry is
// simply never hit again and ages out. Nothing needs to call an invalidation hook.
//
// Bounded: small lists are not kept at all (folding them is cheaper than keeping them, and
// thousands of short concurrent threads must not grow the server's memory), and the kept
// lists together hold at most `max_messages` messages, least recently used evicted first.
//
// Threading: any thread; one mutex. Take() moves the list out (a run owns it while it runs),
// Put() moves it in; neither copies a message.

#include <cstddef>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include <boost/json/array.hpp>

namespace agentd::runtime {

class StateCache {
 public:
  struct Limits {
    std::size_t min_messages = 32;       // lists shorter than this are not kept
    std::size_t max_messages = 200'000;  // total over all entries (~60 MB at ~300 B each)
  };
  StateCache() : StateCache(Limits{}) {}
  explicit StateCache(Limits limits) : limits_(limits) {}

  // The list folded at (thread_id, checkpoint_id), removed from the cache; nullopt on a miss.
  std::optional<boost::json::array> Take(const std::string& thread_id,
                                         const std::string& checkpoint_id);
  // Keeps `messages` as the fold at (thread_id, checkpoint_id), replacing the thread's entry.
  void Put(const std::string& thread_id, const std::string& checkpoint_id,
           boost::json::array messages);
  // Drops the thread's entry (a run failed mid-way: its state is not what the store holds).
  void Forget(const std::string& thread_id);

  std::size_t entries() const;
  std::size_t messages() const;
  std::size_t hits() const;
  std::size_t misses() const;

 private:
  struct Entry {
    std::string thread_id;
    std::string checkpoint_id;
    boost::json::array messages;
    std::size_t count = 0;  // messages.size() when put (Take moves the list out first)
  };
  using Lru = std::list<Entry>;  // most recently used first
  void EraseLocked(Lru::iterator it);

  const Limits limits_;
  mutable std::mutex mutex_;
  Lru lru_;
  std::unordered_map<std::string, Lru::iterator> by_thread_;  // one entry per thread
  std::size_t messages_ = 0;
  std::size_t hits_ = 0;
  std::size_t misses_ = 0;
};

}  // namespace agentd::runtime
