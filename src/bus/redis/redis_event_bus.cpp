#include "bus/redis/redis_event_bus.hpp"

#include <mutex>
#include <unordered_map>
#include <utility>

#include "bus/redis/detail/bus_core.hpp"
#include "bus/redis/detail/redis_url.hpp"
#include "bus/redis/redis_event_log.hpp"
#include "observe/log.hpp"
#include "observe/metrics.hpp"

namespace agentd::bus::redis {

namespace {

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

  Result<std::shared_ptr<RunEventLog>> Create(const std::string& run_id,
                                              EventLogOptions options) override {
    const std::string key = core_->KeyOf(run_id);
    std::lock_guard lock(mu_);
    if (auto it = logs_.find(run_id); it != logs_.end()) {
      if (it->second.lock()) return Error(Errc::kConflict, "event log for run " + run_id + " exists");
      logs_.erase(it);
    }
    auto exists = core_->sync->Command({"EXISTS", key});
    if (!exists) return exists.error();
    if (exists->integer != 0) return Error(Errc::kConflict, "event log for run " + run_id + " exists");
    removed_.erase(run_id);
    auto log = std::make_shared<RedisRunEventLog>(core_, key, options, 0, false);
    logs_[run_id] = log;
    return std::shared_ptr<RunEventLog>(std::move(log));
  }

  std::shared_ptr<RunEventLog> Find(const std::string& run_id) override {
    const std::string key = core_->KeyOf(run_id);
    std::lock_guard lock(mu_);
    if (auto it = logs_.find(run_id); it != logs_.end()) {
      if (auto log = it->second.lock()) return log;
      logs_.erase(it);
    }
    if (auto it = removed_.find(run_id); it != removed_.end()) {
      if (std::chrono::steady_clock::now() - it->second < kTombstoneFor) return nullptr;
      removed_.erase(it);
    }
    // The newest entry tells whether the stream exists, how far it got and if it ended.
    auto last = core_->sync->Command({"XREVRANGE", key, "+", "-", "COUNT", "1"});
    if (!last) {
      observe::Logger("bus.redis")->warn("find {}: {}", run_id, last.error().message);
      return nullptr;
    }
    if (!last->is_array() || last->elements.empty()) return nullptr;
    auto entry = detail::ParseEntry(last->elements[0]);
    if (!entry) return nullptr;
    const std::uint64_t next_id = entry->end ? entry->id : entry->id + 1;
    auto log = std::make_shared<RedisRunEventLog>(core_, key, core_->options.found_log_options,
                                                  next_id, entry->end);
    logs_[run_id] = log;
    return log;
  }

  void Remove(const std::string& run_id) override {
    const auto now = std::chrono::steady_clock::now();
    {
      std::lock_guard lock(mu_);
      logs_.erase(run_id);
      // This process's own appends may still be in flight on the command connection and
      // would recreate the stream after a DEL sent elsewhere: remember the removal a while.
      std::erase_if(removed_, [&](const auto& e) { return now - e.second > kTombstoneFor; });
      removed_[run_id] = now;
    }
    const std::string key = core_->KeyOf(run_id);
    // Ordered after every write of this process (same connection) ...
    core_->commands->Send({"DEL", key}, core_->options.command_timeout, [](Result<Reply>) {});
    // ... and now, for other instances.
    if (auto r = core_->sync->Command({"DEL", key}); !r) {
      observe::Logger("bus.redis")->warn("remove {}: {}", run_id, r.error().message);
    }
  }

 private:
  std::shared_ptr<detail::BusCore> core_;
  std::mutex mu_;
  // Logs handed out and still alive, so Find returns the writer's own object in its process.
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
  core->sync = std::make_unique<detail::SyncClient>(*endpoint, options.connect_timeout);
  if (auto pong = core->sync->Command({"PING"}); !pong) {
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
