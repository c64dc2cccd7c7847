#include "bus/inproc/inproc_event_log.hpp"

#include <algorithm>
#include <deque>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include "common/assert.hpp"
#include "bus/parked_handler.hpp"
#include "observe/metrics.hpp"

namespace agentd::bus::inproc {

namespace asio = boost::asio;
using boost::system::error_code;

namespace detail {

struct SubState {
  std::uint64_t cursor = 0;     // next id to deliver
  std::uint64_t join_head = 0;  // next_id when subscribed: older frames are replay, not lag
  bool cut = false;
  std::string cut_message;
  std::unique_ptr<Waiter> waiter;  // set while parked in Next()
};

// A retained frame and the count of bytes appended to the log up to and including it, so the
// bytes between any two retained ids are one subtraction.
struct RetainedFrame {
  Frame frame;
  std::uint64_t end_offset = 0;
};

struct LogCore {
  LogCore(EventLogOptions o, observe::Counter* cut, SteadyClock c,
          std::shared_ptr<RetainedBytes> account)
      : options(o), subscribers_cut(cut), clock(std::move(c)), accounting(std::move(account)) {}

  ~LogCore() {
    if (accounting) accounting->Add(-static_cast<std::int64_t>(retained_bytes), closed);
  }

  const EventLogOptions options;
  observe::Counter* const subscribers_cut;
  const SteadyClock clock;
  const std::shared_ptr<RetainedBytes> accounting;  // may be null

  mutable std::mutex mu;
  std::deque<RetainedFrame> ring;  // ids first_id .. next_id - 1
  std::uint64_t first_id = 0;      // id of ring.front()
  std::uint64_t next_id = 0;
  std::uint64_t appended_bytes = 0;  // every frame ever appended
  std::uint64_t retained_bytes = 0;  // the frames in `ring`
  bool closed = false;
  std::optional<std::chrono::steady_clock::time_point> closed_at;
  std::vector<std::shared_ptr<SubState>> waiting;

  // Bytes appended before frame `id` (first_id <= id <= next_id).
  std::uint64_t OffsetBeforeLocked(std::uint64_t id) const {
    if (id >= next_id) return appended_bytes;
    const RetainedFrame& f = ring[static_cast<std::size_t>(id - first_id)];
    return f.end_offset - f.frame->size();
  }

  void CutLocked(SubState& s, std::string message) {
    s.cut = true;
    s.cut_message = std::move(message);
    if (subscribers_cut != nullptr) subscribers_cut->Inc();
  }

  // What a Next() would return now, or nullopt when it has to wait.
  std::optional<Result<std::vector<Frame>>> TryTakeLocked(SubState& s) {
    if (!s.cut) {
      const std::uint64_t counted_from = std::max(s.cursor, s.join_head);
      const std::uint64_t lag = next_id > counted_from ? next_id - counted_from : 0;
      if (s.cursor < first_id || lag > options.subscriber_backlog) {
        CutLocked(s, fmt::format("subscriber fell behind by {} events", next_id - s.cursor));
      } else if (const std::uint64_t lag_bytes = appended_bytes - OffsetBeforeLocked(counted_from);
                 lag_bytes > options.subscriber_backlog_bytes) {
        CutLocked(s, fmt::format("subscriber fell behind by {} events ({} bytes unread)",
                                 next_id - s.cursor, lag_bytes));
      }
    }
    if (s.cut) return Result<std::vector<Frame>>(Error(Errc::kResourceExhausted, s.cut_message));
    if (s.cursor < next_id) {
      std::vector<Frame> frames;
      frames.reserve(next_id - s.cursor);
      for (auto it = ring.begin() + static_cast<std::ptrdiff_t>(s.cursor - first_id);
           it != ring.end(); ++it) {
        frames.push_back(it->frame);
      }
      s.cursor = next_id;
      return Result<std::vector<Frame>>(std::move(frames));
    }
    if (closed) return Result<std::vector<Frame>>(std::vector<Frame>{});
    return std::nullopt;
  }

  bool ReadyLocked(const SubState& s) const { return s.cut || s.cursor != next_id || closed; }

  std::vector<std::unique_ptr<Waiter>> TakeAllWaitersLocked() {
    std::vector<std::unique_ptr<Waiter>> out;
    out.reserve(waiting.size());
    for (auto& s : waiting) out.push_back(std::move(s->waiter));
    waiting.clear();
    return out;
  }

  // Unparks one subscriber (cancelled or destroyed); null when it was not parked.
  std::unique_ptr<Waiter> TakeWaiterLocked(SubState& s) {
    if (!s.waiter) return nullptr;
    std::erase_if(waiting, [&](const std::shared_ptr<SubState>& p) { return p.get() == &s; });
    return std::move(s.waiter);
  }
};

}  // namespace detail

namespace {

using detail::LogCore;
using detail::SubState;

// Completes with success once `state` has something to take (frames, end, or cut), or with
// operation_aborted when the wait is cancelled or its subscription destroyed.
template <class Token>
auto AsyncWaitReady(std::shared_ptr<LogCore> core, std::shared_ptr<SubState> state,
                    Token&& token) {
  return asio::async_initiate<Token, void(error_code)>(
      [core = std::move(core), state = std::move(state)](auto handler) {
        using Handler = decltype(handler);
        std::unique_lock lock(core->mu);
        if (core->ReadyLocked(*state)) {
          lock.unlock();
          WaiterImpl<Handler>(std::move(handler)).Complete({});
          return;
        }
        auto slot = asio::get_associated_cancellation_slot(handler);
        if (slot.is_connected()) {
          slot.assign([weak_core = std::weak_ptr<LogCore>(core),
                       weak_state = std::weak_ptr<SubState>(state)](asio::cancellation_type) {
            auto c = weak_core.lock();
            auto s = weak_state.lock();
            if (!c || !s) return;
            std::unique_ptr<Waiter> waiter;
            {
              std::lock_guard guard(c->mu);
              waiter = c->TakeWaiterLocked(*s);
            }
            // Null: an append already woke it; Next() sees the cancellation when it resumes.
            if (waiter) waiter->Complete(asio::error::operation_aborted);
          });
        }
        state->waiter = std::make_unique<WaiterImpl<Handler>>(std::move(handler));
        core->waiting.push_back(state);
      },
      token);
}

Error CancelledError() { return Error(Errc::kCancelled, "event stream wait cancelled"); }

// A free coroutine holding shared state by value: the Subscription may be destroyed while
// this is parked (it then completes with kCancelled) without leaving a dangling `this`.
asio::awaitable<Result<std::vector<Frame>>> NextFrames(std::shared_ptr<LogCore> core,
                                                       std::shared_ptr<SubState> state) {
  for (;;) {
    {
      std::lock_guard lock(core->mu);
      if (auto taken = core->TryTakeLocked(*state)) co_return std::move(*taken);
    }
    // Checked before parking: awaiting an op after cancellation would throw instead.
    auto cs = co_await asio::this_coro::cancellation_state;
    if (cs.cancelled() != asio::cancellation_type::none) co_return CancelledError();
    auto [ec] = co_await AsyncWaitReady(core, state, asio::as_tuple(asio::use_awaitable));
    cs = co_await asio::this_coro::cancellation_state;
    if (ec || cs.cancelled() != asio::cancellation_type::none) co_return CancelledError();
  }
}

class InprocSubscription final : public Subscription {
 public:
  InprocSubscription(std::shared_ptr<LogCore> core, std::shared_ptr<SubState> state)
      : core_(std::move(core)), state_(std::move(state)) {}

  ~InprocSubscription() override {
    std::unique_ptr<Waiter> waiter;
    {
      std::lock_guard lock(core_->mu);
      waiter = core_->TakeWaiterLocked(*state_);
    }
    if (waiter) waiter->Complete(asio::error::operation_aborted);
  }

  asio::awaitable<Result<std::vector<Frame>>> Next() override { return NextFrames(core_, state_); }

 private:
  std::shared_ptr<LogCore> core_;
  std::shared_ptr<SubState> state_;
};

}  // namespace

InprocRunEventLog::InprocRunEventLog(EventLogOptions options, observe::Counter* subscribers_cut,
                                     SteadyClock clock, std::shared_ptr<RetainedBytes> accounting)
    : core_(std::make_shared<LogCore>(
          options, subscribers_cut,
          clock ? std::move(clock) : SteadyClock([] { return std::chrono::steady_clock::now(); }),
          std::move(accounting))) {
  AGENTD_ASSERT(options.max_retained_events > 0);  // a log that retains nothing serves nobody
}

InprocRunEventLog::~InprocRunEventLog() = default;

std::uint64_t InprocRunEventLog::Append(std::string_view event, std::string_view data_json) {
  const auto id = AppendIfOpen(event, data_json);
  AGENTD_ASSERT(id.has_value());  // the run appends nothing after it ended
  return *id;
}

std::optional<std::uint64_t> InprocRunEventLog::AppendIfOpen(std::string_view event,
                                                             std::string_view data_json) {
  std::vector<std::unique_ptr<Waiter>> woken;
  std::uint64_t id = 0;
  {
    std::lock_guard lock(core_->mu);
    if (core_->closed) return std::nullopt;
    id = core_->next_id++;
    // Encoded once here; every subscriber gets this same immutable string.
    auto frame = std::make_shared<const std::string>(EncodeSseFrame(event, data_json, id));
    const std::int64_t before = static_cast<std::int64_t>(core_->retained_bytes);
    core_->appended_bytes += frame->size();
    core_->retained_bytes += frame->size();
    core_->ring.push_back({std::move(frame), core_->appended_bytes});
    // Readers past a dropped frame are cut on their next Next(); the newest frame always stays.
    while (core_->ring.size() > 1 && (core_->ring.size() > core_->options.max_retained_events ||
                                      core_->retained_bytes > core_->options.max_retained_bytes)) {
      core_->retained_bytes -= core_->ring.front().frame->size();
      core_->ring.pop_front();
      ++core_->first_id;
    }
    if (core_->accounting) {
      core_->accounting->Add(static_cast<std::int64_t>(core_->retained_bytes) - before, false);
    }
    if (!core_->waiting.empty()) woken = core_->TakeAllWaitersLocked();
  }
  for (auto& waiter : woken) waiter->Complete({});
  return id;
}

void InprocRunEventLog::Close() {
  std::vector<std::unique_ptr<Waiter>> woken;
  {
    std::lock_guard lock(core_->mu);
    if (core_->closed) return;
    core_->closed = true;
    core_->closed_at = core_->clock();
    if (core_->accounting) core_->accounting->MoveToEnded(core_->retained_bytes);
    woken = core_->TakeAllWaitersLocked();
  }
  for (auto& waiter : woken) waiter->Complete({});
}

void InprocRunEventLog::Reopen() {
  std::lock_guard lock(core_->mu);
  if (core_->closed && core_->accounting) core_->accounting->MoveFromEnded(core_->retained_bytes);
  core_->closed = false;
  core_->closed_at.reset();
}

bool InprocRunEventLog::closed() const {
  std::lock_guard lock(core_->mu);
  return core_->closed;
}

std::uint64_t InprocRunEventLog::next_id() const {
  std::lock_guard lock(core_->mu);
  return core_->next_id;
}

std::unique_ptr<Subscription> InprocRunEventLog::Subscribe(StartAt start) {
  auto state = std::make_shared<SubState>();
  {
    std::lock_guard lock(core_->mu);
    state->join_head = core_->next_id;
    switch (start.kind) {
      case StartAt::Kind::kBeginning:
        state->cursor = core_->first_id;
        break;
      case StartAt::Kind::kAfterId:
        // Ids past the head (a stale Last-Event-ID) mean "live"; dropped ids mean "oldest kept".
        state->cursor = start.after_id >= core_->next_id
                            ? core_->next_id
                            : std::max(start.after_id + 1, core_->first_id);
        break;
      case StartAt::Kind::kLiveOnly:
        state->cursor = core_->next_id;
        break;
    }
  }
  return std::make_unique<InprocSubscription>(core_, std::move(state));
}

const EventLogOptions& InprocRunEventLog::options() const { return core_->options; }

std::optional<std::chrono::steady_clock::time_point> InprocRunEventLog::closed_at() const {
  std::lock_guard lock(core_->mu);
  return core_->closed_at;
}

std::uint64_t InprocRunEventLog::first_retained_id() const {
  std::lock_guard lock(core_->mu);
  return core_->first_id;
}

std::size_t InprocRunEventLog::retained_bytes() const {
  std::lock_guard lock(core_->mu);
  return core_->retained_bytes;
}

std::size_t InprocRunEventLog::TEST_WaitingCount() const {
  std::lock_guard lock(core_->mu);
  return core_->waiting.size();
}

}  // namespace agentd::bus::inproc
