#include "bus/redis/redis_event_bus.hpp"

#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>

#include "bus/redis/detail/bus_core.hpp"
#include "bus/redis/detail/redis_url.hpp"
#include "bus/redis/detail/sync_client.hpp"
#include "bus/redis/redis_event_log.hpp"
#include "observe/log.hpp"
#include "observe/metrics.hpp"

namespace agentd::bus::redis {

namespace {

// How far above another writer's newest entry a continued log starts: more than any writer
// appends in the time it takes to notice it lost a run.
constexpr std::uint64_t kContinuationIdGap = 1'000'000;

namespace asio = boost::asio;
using detail::Reply;

constexpr auto kTombstoneFor = std::chrono::seconds(30);

class RedisEventBus final : public EventBus {
 public:
  explicit RedisEventBus(std::shared_ptr<detail::BusCore> core) : core_(std::move(core)) {}

  ~RedisEventBus() override {
    core_->hub->Stop();
    core_->reader->Stop();
    core_->commands->Stop();
  }

  asio::awaitable<Result<std::shared_ptr<RunEventLog>>> Create(std::string run_id,
                                                               EventLogOptions options) override {
    const std::string key = core_->KeyOf(run_id);
    if (auto local = TakeLocal(run_id, options)) co_return std::move(*local);
    // The newest entry tells whether the stream exists, how far it got and whether it ended.
    std::vector<std::string> args = {"XREVRANGE", key, "+", "-", "COUNT", "1"};
    auto last = co_await core_->commands->Command(std::move(args), core_->options.command_timeout);
    if (!last) co_return last.error();
    std::optional<detail::ParsedEntry> head;
    if (last->is_array() && !last->elements.empty()) head = detail::ParseEntry(last->elements[0]);
    if (head && !options.continue_existing) {
      co_return Error(Errc::kConflict, "event log for run " + run_id + " exists");
    }
    std::lock_guard lock(mu_);
    // Another Create of this process may have won while the lookup was in flight.
    if (auto it = logs_.find(run_id); it != logs_.end()) {
      if (auto live = it->second.lock()) {
        if (!options.continue_existing) {
          co_return Error(Errc::kConflict, "event log for run " + run_id + " exists");
        }
        live->Reopen();
        co_return std::shared_ptr<RunEventLog>(std::move(live));
      }
    }
    removed_.erase(run_id);
    // Another writer's log (an instance that died or lost the run, a previous process)
    // continues in a new id range, far above its newest entry. That writer may still have
    // appends in flight (queued before it was paused, sent when it wakes): with the old range
    // they could take ids the continuation is about to use and push its events out, since
    // Redis never accepts an entry id at or below the stream's last one. In the new range they
    // either land below the continuation's first event (what that writer did while it still
    // held the run) or are refused. An end marker's id is spent the same way. The first entry
    // of the continuation says where the skipped ids start, so readers following the stream
    // (live or replaying) go on across the jump instead of taking it for lost events.
    const std::uint64_t next_id = head ? head->id + 1 + kContinuationIdGap : 0;
    auto log = std::make_shared<RedisRunEventLog>(core_, key, options, next_id, false);
    if (head) {
      log->Continue(head->end ? head->id : head->id + 1,
                    head->end ? std::optional<std::uint64_t>(head->id) : std::nullopt);
    }
    logs_[run_id] = log;
    co_return std::shared_ptr<RunEventLog>(std::move(log));
  }

  asio::awaitable<std::shared_ptr<RunEventLog>> Find(std::string run_id) override {
    const std::string key = core_->KeyOf(run_id);
    {
      std::lock_guard lock(mu_);
      if (auto it = logs_.find(run_id); it != logs_.end()) {
        if (auto log = it->second.lock()) co_return log;
        logs_.erase(it);
      }
      if (auto it = removed_.find(run_id); it != removed_.end()) {
        if (std::chrono::steady_clock::now() - it->second < kTombstoneFor) co_return nullptr;
        removed_.erase(it);
      }
    }
    std::vector<std::string> args = {"XREVRANGE", key, "+", "-", "COUNT", "1"};
    auto last = co_await core_->commands->Command(std::move(args), core_->options.command_timeout);
    if (!last) {
      observe::Logger("bus.redis")->warn("find {}: {}", run_id, last.error().message);
      co_return nullptr;
    }
    if (!last->is_array() || last->elements.empty()) co_return nullptr;
    auto entry = detail::ParseEntry(last->elements[0]);
    if (!entry) co_return nullptr;
    const std::uint64_t next_id = entry->end ? entry->id : entry->id + 1;
    std::lock_guard lock(mu_);
    if (auto it = logs_.find(run_id); it != logs_.end()) {
      if (auto log = it->second.lock()) co_return log;  // created here meanwhile
    }
    if (removed_.contains(run_id)) co_return nullptr;
    // Not kept in logs_: a found log only reads, and its head is as of this lookup. The next
    // Find looks again (a client resuming after an id this lookup has not seen must not be
    // answered from an older head), and a Create that continues the run (this process adopts
    // it) continues from what Redis holds, never from a reader's stale next_id.
    co_return std::make_shared<RedisRunEventLog>(core_, key, core_->options.found_log_options,
                                                 next_id, entry->end);
  }

  void Remove(const std::string& run_id) override {
    const auto now = std::chrono::steady_clock::now();
    {
      std::lock_guard lock(mu_);
      logs_.erase(run_id);
      // This process's own appends may still be in flight: remember the removal a while so
      // Find answers nullptr here even before the DEL is through.
      std::erase_if(removed_, [&](const auto& e) { return now - e.second > kTombstoneFor; });
      removed_[run_id] = now;
    }
    // Fire-and-forget on the command connection: ordered after every write of this process.
    core_->commands->Send({"DEL", core_->KeyOf(run_id)}, core_->options.command_timeout,
                          [run_id](Result<Reply> r) {
                            if (!r) {
                              observe::Logger("bus.redis")->warn("remove {}: {}", run_id,
                                                                 r.error().message);
                            }
                          });
  }

  bool healthy() const override {
    return core_->commands->connected() && core_->reader->connected();
  }

 private:
  // Create's answer from this process's own live log of `run_id`, if it has one.
  std::optional<Result<std::shared_ptr<RunEventLog>>> TakeLocal(const std::string& run_id,
                                                                const EventLogOptions& options) {
    std::lock_guard lock(mu_);
    auto it = logs_.find(run_id);
    if (it == logs_.end()) return std::nullopt;
    auto live = it->second.lock();
    if (!live) {
      logs_.erase(it);
      return std::nullopt;
    }
    if (!options.continue_existing) {
      return Result<std::shared_ptr<RunEventLog>>(
          Error(Errc::kConflict, "event log for run " + run_id + " exists"));
    }
    live->Reopen();
    return Result<std::shared_ptr<RunEventLog>>(std::shared_ptr<RunEventLog>(std::move(live)));
  }

  std::shared_ptr<detail::BusCore> core_;
  std::mutex mu_;
  // Logs made by Create and still alive, so Find returns the writer's own object in its
  // process (and Create with continue_existing reopens it).
  std::unordered_map<std::string, std::weak_ptr<RedisRunEventLog>> logs_;
  // Runs removed here recently: Find answers nullptr even if a late write recreated them.
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> removed_;
};

}  // namespace

Result<std::unique_ptr<EventBus>> MakeRedisEventBus(RedisOptions options,
                                                    boost::asio::any_io_executor executor,
                                                    observe::Metrics* metrics) {
  auto endpoint = detail::ParseRedisUrl(options.url);
  if (!endpoint) return endpoint.error();
  auto core = std::make_shared<detail::BusCore>();
  core->options = options;
  // Startup only: one blocking PING on a throwaway link, so a bad url fails fast.
  detail::SyncClient probe(*endpoint, options.connect_timeout);
  if (auto pong = probe.Command({"PING"}); !pong) {
    return Error(Errc::kUnavailable, "redis at " + options.url + ": " + pong.error().message);
  }
  detail::ConnectionOptions conn{options.connect_timeout, options.reconnect_backoff_min,
                                 options.reconnect_backoff_max};
  core->commands = detail::Connection::Make(executor, *endpoint, conn, "bus-commands");
  core->reader = detail::Connection::Make(executor, *endpoint, conn, "bus-reader");
  observe::Counter* cut = nullptr;
  if (metrics != nullptr) {
    cut = &metrics->GetCounter("agentd_bus_subscribers_cut_total",
                               "Event-stream subscribers cut for falling behind the run");
  }
  core->hub = std::make_shared<detail::StreamHub>(
      core->reader, core->commands,
      detail::HubOptions{options.read_batch, options.read_block, options.command_timeout}, cut);
  core->commands->Start();
  core->reader->Start();
  core->hub->Start();
  return std::unique_ptr<EventBus>(std::make_unique<RedisEventBus>(std::move(core)));
}

Result<std::string> TEST_RedisCommand(const std::string& url,
                                      const std::vector<std::string>& args) {
  auto endpoint = detail::ParseRedisUrl(url);
  if (!endpoint) return endpoint.error();
  detail::SyncClient client(*endpoint, std::chrono::seconds(5));
  auto reply = client.Command(args);
  if (!reply) return reply.error();
  switch (reply->type) {
    case Reply::Type::kInteger:
      return std::to_string(reply->integer);
    case Reply::Type::kArray: {
      std::string out;
      for (const auto& e : reply->elements) {
        out += e.type == Reply::Type::kInteger ? std::to_string(e.integer) : e.str;
        out += '\n';
      }
      return out;
    }
    default:
      return reply->str;
  }
}

}  // namespace agentd::bus::redis
