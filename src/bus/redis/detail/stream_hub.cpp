#include "bus/redis/detail/stream_hub.hpp"

#include <algorithm>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include "observe/log.hpp"
#include "observe/metrics.hpp"

namespace agentd::bus::redis::detail {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

spdlog::logger& Log() {
  static auto logger = observe::Logger("bus.redis");
  return *logger;
}

constexpr auto kRetryAfterFailure = std::chrono::milliseconds(100);

Error CancelledError() { return Error(Errc::kCancelled, "event stream wait cancelled"); }

// Stream entry id of frame `id`: ids are explicit ("0-<id+1>", 0-0 is not a valid entry id),
// so a range starting at a frame id needs no lookup.
std::string EntryIdOf(std::uint64_t frame_id) { return "0-" + std::to_string(frame_id + 1); }

// The first slot of `feed` holding a frame with an id >= `id`.
std::deque<Slot>::const_iterator SlotFrom(const Feed& feed, std::uint64_t id) {
  return std::lower_bound(feed.ring.begin(), feed.ring.end(), id,
                          [](const Slot& slot, std::uint64_t v) { return slot.id < v; });
}

// Frames in the ring with an id >= `id`.
std::size_t FramesFrom(const Feed& feed, std::uint64_t id) {
  return static_cast<std::size_t>(feed.ring.end() - SlotFrom(feed, id));
}

}  // namespace

std::optional<ParsedEntry> ParseEntry(const Reply& entry) {
  if (!entry.is_array() || entry.elements.size() != 2 || !entry.elements[1].is_array()) {
    return std::nullopt;
  }
  ParsedEntry out;
  bool has_id = false;
  const auto& fields = entry.elements[1].elements;
  for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
    const std::string& name = fields[i].str;
    if (name == "id") {
      auto v = ParseU64(fields[i + 1].str);
      if (!v) return std::nullopt;
      out.id = *v;
      has_id = true;
    } else if (name == "f") {
      out.frame = fields[i + 1].str;
    } else if (name == "end") {
      out.end = true;
    } else if (name == "skip") {
      out.skip_from = ParseU64(fields[i + 1].str);
    }
  }
  if (!has_id) return std::nullopt;
  return out;
}

StreamHub::StreamHub(std::shared_ptr<Connection> reader, std::shared_ptr<Connection> commands,
                     HubOptions options, observe::Counter* subscribers_cut)
    : reader_(std::move(reader)),
      commands_(std::move(commands)),
      options_(options),
      subscribers_cut_(subscribers_cut),
      idle_(reader_->strand()) {}

void StreamHub::Start() {
  asio::co_spawn(reader_->strand(), ReadLoop(), [](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      Log().error("redis stream reader stopped by exception: {}", ex.what());
    }
  });
}

void StreamHub::Stop() {
  stopping_ = true;
  asio::post(reader_->strand(), [self = shared_from_this()] { self->idle_.cancel(); });
  FailAll("event bus stopped");
}

std::shared_ptr<SubState> StreamHub::Attach(const std::string& key, std::uint64_t head,
                                            std::size_t backlog, StartAt start) {
  auto state = std::make_shared<SubState>();
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    auto& feed = feeds_[key];
    if (!feed) {
      feed = std::make_shared<Feed>();
      feed->key = key;
      feed->first_id = feed->next_id = head;
      dirty_ = wake = true;
    }
    feed->capacity = std::max(feed->capacity, backlog);
    ++feed->subscribers;
    state->feed = feed;
    state->backlog = backlog;
    state->join_head = std::max(head, feed->next_id);
    state->read_seq = feed->appended;
    switch (start.kind) {
      case StartAt::Kind::kBeginning:
        state->cursor = 0;  // the first replay clamps to the oldest entry Redis still keeps
        break;
      case StartAt::Kind::kAfterId:
        state->cursor = start.after_id >= state->join_head ? state->join_head : start.after_id + 1;
        break;
      case StartAt::Kind::kLiveOnly:
        state->cursor = state->join_head;
        break;
    }
  }
  if (wake) Wake();
  return state;
}

void StreamHub::Detach(const std::shared_ptr<SubState>& state) {
  std::unique_ptr<Waiter> waiter;
  {
    std::lock_guard lock(mu_);
    auto& feed = state->feed;
    if (state->waiter) {
      std::erase(feed->waiting, state);
      waiter = std::move(state->waiter);
    }
    if (--feed->subscribers == 0) {
      auto it = feeds_.find(feed->key);
      if (it != feeds_.end() && it->second == feed) feeds_.erase(it);
    }
  }
  if (waiter) waiter->Complete(asio::error::operation_aborted);
}

std::optional<StreamHub::FeedView> StreamHub::View(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = feeds_.find(key);
  if (it == feeds_.end()) return std::nullopt;
  return FeedView{it->second->next_id, it->second->closed};
}

std::size_t StreamHub::TEST_FeedCount() const {
  std::lock_guard lock(mu_);
  return feeds_.size();
}

// Wakes the reader so its next XREAD includes newly attached keys.
void StreamHub::Wake() {
  asio::post(reader_->strand(), [self = shared_from_this()] {
    if (self->idle_parked_) {
      self->idle_.cancel();
      return;
    }
    if (!self->in_xread_) return;  // it rebuilds its key list before blocking again
    const long long id = self->reader_->client_id();
    if (id < 0) return;
    self->SendUnblock(id, /*retry_once=*/true);
  });
}

void StreamHub::SendUnblock(long long id, bool retry_once) {
  commands_->Send({"CLIENT", "UNBLOCK", std::to_string(id)}, options_.command_timeout,
                  [self = shared_from_this(), id, retry_once](Result<Reply> r) {
                    // 0: the XREAD had not reached Redis yet. One retry suffices: this reply's
                    // round trip orders the second UNBLOCK after the XREAD.
                    if (!retry_once || !r || r->integer != 0) return;
                    asio::post(self->reader_->strand(), [self, id] {
                      bool dirty = false;
                      {
                        std::lock_guard lock(self->mu_);
                        dirty = self->dirty_;
                      }
                      if (self->in_xread_ && dirty) self->SendUnblock(id, false);
                    });
                  });
}

asio::awaitable<void> StreamHub::ReadLoop() {
  auto self = shared_from_this();
  while (!stopping_) {
    std::vector<std::string> args = {"XREAD", "COUNT", std::to_string(options_.read_batch),
                                     "BLOCK", std::to_string(options_.read_block.count()),
                                     "STREAMS"};
    {
      std::lock_guard lock(mu_);
      dirty_ = false;
      std::vector<std::string> ids;
      for (const auto& [key, feed] : feeds_) {
        if (feed->closed || feed->failed) continue;
        args.push_back(key);
        ids.push_back(feed->next_id == 0 ? "0-0" : "0-" + std::to_string(feed->next_id));
      }
      args.insert(args.end(), ids.begin(), ids.end());
      if (ids.empty()) args.clear();
    }
    if (args.empty()) {
      idle_parked_ = true;
      idle_.expires_at(asio::steady_timer::time_point::max());
      co_await idle_.async_wait(asio::as_tuple(asio::use_awaitable));
      idle_parked_ = false;
      continue;
    }
    in_xread_ = true;
    auto reply = co_await reader_->Command(std::move(args),
                                           options_.read_block + options_.command_timeout);
    in_xread_ = false;
    if (stopping_) break;
    if (!reply) {
      Log().warn("redis stream reader: {}", reply.error().message);
      FailAll(reply.error().message);
      idle_.expires_after(kRetryAfterFailure);
      co_await idle_.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    if (reply->is_array()) Deliver(*reply);
  }
}

void StreamHub::Deliver(const Reply& reply) {
  std::vector<std::unique_ptr<Waiter>> woken;
  {
    std::lock_guard lock(mu_);
    for (const Reply& stream : reply.elements) {
      if (!stream.is_array() || stream.elements.size() != 2) continue;
      auto it = feeds_.find(stream.elements[0].str);
      if (it == feeds_.end()) continue;
      Feed& feed = *it->second;
      for (const Reply& raw : stream.elements[1].elements) {
        auto entry = ParseEntry(raw);
        if (!entry || entry->id < feed.next_id) continue;
        if (entry->end) {
          feed.closed = true;
          break;
        }
        // A continuation (another instance adopted the run) jumps to a new id range and says
        // from where: the ids in between were never frames, and the ring simply goes on.
        const bool continued = entry->skip_from && *entry->skip_from <= feed.next_id;
        if (entry->id > feed.next_id && !continued) {
          // Entries missing (lost in an outage or trimmed before we read them): subscribers
          // that needed them are cut by the lag rule since first_id moves past them.
          feed.ring.clear();
          feed.first_id = entry->id;
        }
        feed.ring.push_back(
            Slot{entry->id, std::make_shared<const std::string>(std::move(entry->frame))});
        ++feed.appended;
        feed.next_id = entry->id + 1;
        while (feed.ring.size() > std::max<std::size_t>(feed.capacity, 1)) {
          feed.first_id = feed.ring.front().id + 1;
          feed.ring.pop_front();
        }
      }
      for (auto& s : feed.waiting) woken.push_back(std::move(s->waiter));
      feed.waiting.clear();
    }
  }
  for (auto& w : woken) w->Complete({});
}

void StreamHub::FailAll(const std::string& why) {
  std::vector<std::unique_ptr<Waiter>> woken;
  {
    std::lock_guard lock(mu_);
    for (auto& [key, feed] : feeds_) {
      feed->failed = true;
      feed->fail_message = "event stream interrupted: " + why;
      for (auto& s : feed->waiting) woken.push_back(std::move(s->waiter));
      feed->waiting.clear();
    }
    feeds_.clear();
  }
  for (auto& w : woken) w->Complete({});
}

bool StreamHub::ReadyLocked(const SubState& s) const {
  const Feed& f = *s.feed;
  return s.cut || f.failed || f.closed || s.cursor < f.next_id || s.ended;
}

void StreamHub::CutLocked(SubState& s, std::string message) {
  s.cut = true;
  s.cut_message = std::move(message);
  if (subscribers_cut_ != nullptr) subscribers_cut_->Inc();
}

std::optional<Result<std::vector<Frame>>> StreamHub::TryTakeLocked(SubState& s) {
  using R = Result<std::vector<Frame>>;
  Feed& f = *s.feed;
  if (!s.cut) {
    // Lag: frames appended since it joined that it has not read, counted in frames (ids may
    // jump at a continuation). Past first_id they are known one by one; below it some were
    // dropped, so there are more than the ring holds.
    const std::uint64_t counted_from = std::max(s.cursor, s.join_head);
    const std::size_t lag =
        counted_from >= f.first_id ? FramesFrom(f, counted_from) : f.ring.size() + 1;
    const bool lost = s.cursor >= s.join_head && s.cursor < f.first_id;
    if (lag > s.backlog || lost) {
      const std::uint64_t unread =
          s.cursor >= f.first_id ? FramesFrom(f, s.cursor) : f.appended - s.read_seq;
      CutLocked(s, fmt::format("subscriber fell behind by {} events", unread));
    }
  }
  if (s.cut) return R(Error(Errc::kResourceExhausted, s.cut_message));
  if (s.ended && s.cursor >= s.end_id) return R(std::vector<Frame>{});
  if (f.failed) return R(Error(Errc::kUnavailable, f.fail_message));
  if (s.cursor < f.first_id) return std::nullopt;  // replay; the caller reads it with XRANGE
  if (s.cursor < f.next_id) {
    std::vector<Frame> frames;
    auto begin = SlotFrom(f, s.cursor);
    frames.reserve(static_cast<std::size_t>(f.ring.end() - begin));
    for (auto it = begin; it != f.ring.end(); ++it) frames.push_back(it->frame);
    s.cursor = f.next_id;
    s.read_seq = f.appended;
    if (!frames.empty()) return R(std::move(frames));
  }
  if (f.closed) return R(std::vector<Frame>{});
  return std::nullopt;
}

template <class Token>
auto StreamHub::AsyncWaitReady(std::shared_ptr<SubState> state, Token&& token) {
  return asio::async_initiate<Token, void(error_code)>(
      [self = shared_from_this(), state = std::move(state)](auto handler) {
        using Handler = decltype(handler);
        std::unique_lock lock(self->mu_);
        if (self->ReadyLocked(*state)) {
          lock.unlock();
          WaiterImpl<Handler>(std::move(handler)).Complete({});
          return;
        }
        auto slot = asio::get_associated_cancellation_slot(handler);
        if (slot.is_connected()) {
          slot.assign([weak_self = std::weak_ptr<StreamHub>(self),
                       weak_state = std::weak_ptr<SubState>(state)](asio::cancellation_type) {
            auto hub = weak_self.lock();
            auto s = weak_state.lock();
            if (!hub || !s) return;
            std::unique_ptr<Waiter> waiter;
            {
              std::lock_guard guard(hub->mu_);
              if (s->waiter) {
                std::erase(s->feed->waiting, s);
                waiter = std::move(s->waiter);
              }
            }
            if (waiter) waiter->Complete(asio::error::operation_aborted);
          });
        }
        state->waiter = std::make_unique<WaiterImpl<Handler>>(std::move(handler));
        state->feed->waiting.push_back(state);
      },
      token);
}

asio::awaitable<Result<std::vector<Frame>>> StreamHub::Next(std::shared_ptr<SubState> state) {
  auto self = shared_from_this();
  for (;;) {
    bool replay = false;
    {
      std::lock_guard lock(mu_);
      if (auto taken = TryTakeLocked(*state)) co_return std::move(*taken);
      replay = state->cursor < state->feed->first_id && !state->ended;
    }
    if (replay) {
      auto frames = co_await Replay(state);
      if (!frames || !frames->empty()) co_return frames;
      continue;
    }
    auto cs = co_await asio::this_coro::cancellation_state;
    if (cs.cancelled() != asio::cancellation_type::none) co_return CancelledError();
    auto [ec] = co_await AsyncWaitReady(state, asio::as_tuple(asio::use_awaitable));
    cs = co_await asio::this_coro::cancellation_state;
    if (ec || cs.cancelled() != asio::cancellation_type::none) co_return CancelledError();
  }
}

asio::awaitable<Result<std::vector<Frame>>> StreamHub::Replay(std::shared_ptr<SubState> state) {
  std::uint64_t cursor = 0;
  std::string key;
  {
    std::lock_guard lock(mu_);
    cursor = state->cursor;
    key = state->feed->key;
  }
  std::vector<std::string> args = {"XRANGE", key, EntryIdOf(cursor), "+", "COUNT",
                                   std::to_string(options_.read_batch)};
  auto reply = co_await commands_->Command(std::move(args), options_.command_timeout);
  if (!reply) co_return reply.error();
  std::vector<Frame> frames;
  bool gap = false;
  bool ended = false;
  std::uint64_t end_id = 0;
  for (const Reply& raw : reply->elements) {
    auto entry = ParseEntry(raw);
    if (!entry || entry->id < cursor) continue;
    if (entry->id > cursor && entry->skip_from && *entry->skip_from <= cursor) {
      cursor = entry->id;  // ids a continued log never used
    }
    if (entry->id > cursor) {
      gap = true;
      if (state->replayed) break;
      cursor = entry->id;  // first read: start at the oldest entry Redis still keeps
    }
    if (entry->end) {
      ended = true;
      end_id = entry->id;
      break;
    }
    frames.push_back(std::make_shared<const std::string>(std::move(entry->frame)));
    cursor = entry->id + 1;
  }
  std::lock_guard lock(mu_);
  if (reply->elements.empty()) {
    // Nothing at or after the cursor: the stream is gone or not yet written that far. Join the
    // feed where it is; the lag rule decides whether what was skipped is acceptable.
    if (state->replayed) gap = true;
    cursor = std::max(cursor, state->feed->first_id);
  }
  if (gap && state->replayed && !state->cut) {
    CutLocked(*state, "subscriber fell behind the retained events");
    co_return Error(Errc::kResourceExhausted, state->cut_message);
  }
  state->replayed = true;
  state->cursor = cursor;
  if (ended) {
    state->ended = true;
    state->end_id = end_id;
  }
  co_return frames;
}

}  // namespace agentd::bus::redis::detail
