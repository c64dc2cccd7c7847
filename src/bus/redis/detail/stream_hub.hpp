#pragma once
// StreamHub: the one shared reader of this process. It keeps a Feed per stream key that has
// local subscribers and runs ONE loop on a dedicated connection issuing
//   XREAD COUNT n BLOCK ms STREAMS <every feed key> <every feed's next entry id>
// so a process holds O(1) Redis connections however many clients follow however many runs.
// Each feed is a ring of the newest frames read (at most the subscribers' backlog), and each
// subscriber a cursor into it, exactly like the in-process log: frames are decoded once and
// the bytes shared by every local subscriber. Frames older than a subscriber's join point
// (replay for late joiners / Last-Event-ID) are read with XRANGE on the command connection.
//
// Adding a key while the reader is blocked wakes it with CLIENT UNBLOCK. When the reader's
// connection fails, every feed is failed: its subscribers get kUnavailable (clients resume by
// Last-Event-ID) and later subscriptions start new feeds once Redis is back.
//
// Thread safety: one mutex guards feeds and subscriber states. Attach/Detach/Next from any
// thread; the read loop runs on the reader connection's strand.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "bus/event_log.hpp"
#include "bus/redis/detail/connection.hpp"
#include "bus/parked_handler.hpp"

namespace agentd::observe {
class Counter;
}

namespace agentd::bus::redis::detail {

struct Feed;

struct SubState {
  std::shared_ptr<Feed> feed;
  std::uint64_t cursor = 0;     // next frame id to deliver
  std::uint64_t join_head = 0;  // frames before it are replay, not lag
  std::uint64_t read_seq = 0;   // Feed::appended when it joined or last took from the ring
  std::size_t backlog = 0;
  bool replayed = false;        // a replay batch was read (later gaps mean frames were lost)
  bool ended = false;           // replay reached the end marker at end_id
  std::uint64_t end_id = 0;
  bool cut = false;
  std::string cut_message;
  std::unique_ptr<Waiter> waiter;
};

// A frame in a feed's ring. Ids rise but need not be consecutive: a continued log's ids jump
// (a new range, or the end marker's spent id), so slots carry their id and are found by binary
// search, and lag is counted in frames, never as a difference of ids.
struct Slot {
  std::uint64_t id = 0;
  Frame frame;
};

struct Feed {
  std::string key;
  std::size_t capacity = 0;
  // Every frame of the stream with an id in [first_id, next_id) is in the ring; ids in that
  // range without a slot were never frames (a continuation's jump). Frames below first_id were
  // dropped (ring full) or lost (entries missing in Redis).
  std::uint64_t first_id = 0;
  std::uint64_t next_id = 0;   // next frame id expected from Redis (last read + 1)
  std::uint64_t appended = 0;  // frames added to the ring since the feed started
  std::deque<Slot> ring;
  bool closed = false;  // the end marker was read
  bool failed = false;  // the reader lost Redis while this feed was live
  std::string fail_message;
  std::vector<std::shared_ptr<SubState>> waiting;
  std::size_t subscribers = 0;
};

struct HubOptions {
  std::size_t read_batch = 512;  // entries per stream per XREAD / XRANGE
  std::chrono::milliseconds read_block{1000};
  std::chrono::milliseconds command_timeout{2000};
};

class StreamHub : public std::enable_shared_from_this<StreamHub> {
 public:
  StreamHub(std::shared_ptr<Connection> reader, std::shared_ptr<Connection> commands,
            HubOptions options, observe::Counter* subscribers_cut);

  void Start();
  void Stop();

  // A new subscriber of `key`, whose writer is known to have reached `head` (next id). Starts
  // a feed at `head` when the key has none.
  std::shared_ptr<SubState> Attach(const std::string& key, std::uint64_t head,
                                   std::size_t backlog, StartAt start);
  void Detach(const std::shared_ptr<SubState>& state);
  boost::asio::awaitable<Result<std::vector<Frame>>> Next(std::shared_ptr<SubState> state);

  // The live feed's view of `key`: {next id, closed}; nullopt when no local subscriber.
  struct FeedView {
    std::uint64_t next_id;
    bool closed;
  };
  std::optional<FeedView> View(const std::string& key) const;
  std::size_t TEST_FeedCount() const;

 private:
  boost::asio::awaitable<void> ReadLoop();
  boost::asio::awaitable<Result<std::vector<Frame>>> Replay(std::shared_ptr<SubState> state);
  void Deliver(const Reply& reply);
  void FailAll(const std::string& why);
  void Wake();
  void SendUnblock(long long client_id, bool retry_once);
  std::optional<Result<std::vector<Frame>>> TryTakeLocked(SubState& s);
  bool ReadyLocked(const SubState& s) const;
  void CutLocked(SubState& s, std::string message);

  template <class Token>
  auto AsyncWaitReady(std::shared_ptr<SubState> state, Token&& token);

  const std::shared_ptr<Connection> reader_;
  const std::shared_ptr<Connection> commands_;
  const HubOptions options_;
  observe::Counter* const subscribers_cut_;

  mutable std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<Feed>> feeds_;
  bool dirty_ = false;  // feeds added since the reader built its XREAD

  // Reader-strand state.
  boost::asio::steady_timer idle_;  // parked here while no key has subscribers
  bool idle_parked_ = false;
  bool in_xread_ = false;
  std::atomic<bool> stopping_{false};
};

// Parses one stream entry [id, [field, value, ...]] written by RedisRunEventLog.
struct ParsedEntry {
  std::uint64_t id = 0;
  bool end = false;  // the terminal marker: the log closed with next id == id
  std::string frame;
  // A continued log's first frame: ids skip_from .. id - 1 that hold no frame were never
  // frames (the new id range a continuation starts, the removed end marker's id), so jumping
  // over them is no gap.
  std::optional<std::uint64_t> skip_from;
};
std::optional<ParsedEntry> ParseEntry(const Reply& entry);

}  // namespace agentd::bus::redis::detail
