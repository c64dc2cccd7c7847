#include "bus/redis/redis_event_log.hpp"

#include <algorithm>
#include <utility>

#include "common/assert.hpp"
#include "observe/log.hpp"

namespace agentd::bus::redis {

namespace asio = boost::asio;

namespace {

spdlog::logger& Log() {
  static auto logger = observe::Logger("bus.redis");
  return *logger;
}

std::string EntryId(std::uint64_t frame_id) { return "0-" + std::to_string(frame_id + 1); }

class RedisSubscription final : public Subscription {
 public:
  RedisSubscription(std::shared_ptr<detail::StreamHub> hub, std::shared_ptr<detail::SubState> s)
      : hub_(std::move(hub)), state_(std::move(s)) {}
  ~RedisSubscription() override { hub_->Detach(state_); }

  asio::awaitable<Result<std::vector<Frame>>> Next() override { return hub_->Next(state_); }

 private:
  std::shared_ptr<detail::StreamHub> hub_;
  std::shared_ptr<detail::SubState> state_;
};

}  // namespace

RedisRunEventLog::RedisRunEventLog(std::shared_ptr<detail::BusCore> core, std::string key,
                                   EventLogOptions options, std::uint64_t next_id, bool closed)
    : core_(std::move(core)),
      key_(std::move(key)),
      options_(options),
      next_id_(next_id),
      closed_(closed) {
  AGENTD_ASSERT(options.max_retained_events > 0);  // a log that retains nothing serves nobody
}

void RedisRunEventLog::Write(std::vector<std::string> args) {
  core_->commands->Send(
      std::move(args), core_->options.command_timeout,
      [core = core_, writes = writes_, key = key_](Result<detail::Reply> r) {
        if (r) return;
        core->write_errors.fetch_add(1, std::memory_order_relaxed);
        static observe::RateLimit limit(std::chrono::seconds(5));
        observe::WarnLimited(limit, Log(), "redis write to {} failed: {}", key, r.error().message);
        std::lock_guard lock(writes->mu);
        if (!writes->first_error) writes->first_error = r.error();
      });
}

void RedisRunEventLog::Continue(std::uint64_t skip_from,
                                std::optional<std::uint64_t> end_marker_id) {
  {
    std::lock_guard lock(mu_);
    skip_from_ = skip_from;
  }
  if (end_marker_id) Write({"XDEL", key_, EntryId(*end_marker_id)});
  Write({"PEXPIRE", key_, std::to_string(core_->options.open_stream_ttl.count())});
}

void RedisRunEventLog::Reopen() {
  std::optional<std::uint64_t> end_marker_id;
  {
    std::lock_guard lock(mu_);
    if (!closed_) return;
    closed_ = false;
    end_marker_id = next_id_++;
  }
  Continue(*end_marker_id, end_marker_id);
}

std::uint64_t RedisRunEventLog::Append(std::string_view event, std::string_view data_json) {
  const auto id = AppendIfOpen(event, data_json);
  AGENTD_ASSERT(id.has_value());  // the run appends nothing after it ended
  return *id;
}

std::optional<std::uint64_t> RedisRunEventLog::AppendIfOpen(std::string_view event,
                                                            std::string_view data_json) {
  std::uint64_t id = 0;
  std::optional<std::uint64_t> skipped;
  {
    std::lock_guard lock(mu_);
    if (closed_) return std::nullopt;
    id = next_id_++;
    skipped = std::exchange(skip_from_, std::nullopt);
  }
  // Encoded once here; readers share the bytes Redis hands back.
  std::vector<std::string> args = {"XADD",      key_,
                                   "MAXLEN",    "~",
                                   std::to_string(options_.max_retained_events),
                                   EntryId(id), "id",
                                   std::to_string(id), "f",
                                   EncodeSseFrame(event, data_json, id)};
  if (skipped) {
    args.push_back("skip");
    args.push_back(std::to_string(*skipped));
  }
  Write(std::move(args));
  if (id == 0) {
    Write({"PEXPIRE", key_, std::to_string(core_->options.open_stream_ttl.count())});
  }
  return id;
}

void RedisRunEventLog::Close() {
  std::uint64_t end_id = 0;
  std::optional<std::uint64_t> skipped;
  {
    std::lock_guard lock(mu_);
    if (closed_) return;
    closed_ = true;
    end_id = next_id_;
    skipped = std::exchange(skip_from_, std::nullopt);  // a continuation that appended nothing
  }
  std::vector<std::string> args = {"XADD", key_, "MAXLEN", "~",
                                   std::to_string(options_.max_retained_events), EntryId(end_id),
                                   "id", std::to_string(end_id), "end", "1"};
  if (skipped) {
    args.push_back("skip");
    args.push_back(std::to_string(*skipped));
  }
  Write(std::move(args));
  Write({"PEXPIRE", key_, std::to_string(std::max<long long>(
                              1, options_.retention_after_close.count()))});
}

bool RedisRunEventLog::closed() const {
  {
    std::lock_guard lock(mu_);
    if (closed_) return true;
  }
  auto view = core_->hub->View(key_);
  return view && view->closed;
}

std::uint64_t RedisRunEventLog::next_id() const {
  std::uint64_t id = 0;
  {
    std::lock_guard lock(mu_);
    id = next_id_;
  }
  // A log another instance writes: the shared reader may know a newer head.
  if (auto view = core_->hub->View(key_)) id = std::max(id, view->next_id);
  return id;
}

std::unique_ptr<Subscription> RedisRunEventLog::Subscribe(StartAt start) {
  std::uint64_t head = 0;
  {
    std::lock_guard lock(mu_);
    head = next_id_;
  }
  auto state = core_->hub->Attach(key_, head, options_.subscriber_backlog, start);
  return std::make_unique<RedisSubscription>(core_->hub, std::move(state));
}

asio::awaitable<Status> RedisRunEventLog::Flush() {
  // One connection, replies in order: once this PING is answered (or failed), every earlier
  // write has reported.
  std::vector<std::string> ping_args = {"PING"};  // GCC 12: no braced list inside co_await
  auto ping = co_await core_->commands->Command(std::move(ping_args), core_->options.command_timeout);
  std::lock_guard lock(writes_->mu);
  if (writes_->first_error) {
    Error e = std::move(*writes_->first_error);
    writes_->first_error.reset();
    co_return e;
  }
  if (!ping) co_return ping.error();
  co_return Status{};
}

}  // namespace agentd::bus::redis
