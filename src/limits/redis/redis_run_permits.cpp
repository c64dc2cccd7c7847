#include "limits/redis/redis_run_permits.hpp"

#include <atomic>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

#include <boost/asio/async_result.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include "bus/redis/detail/connection.hpp"
#include "bus/redis/detail/redis_url.hpp"
#include "limits/redis/outage.hpp"
#include "limits/redis/permit_script.hpp"
#include "limits/redis/script_call.hpp"
#include "observe/log.hpp"

namespace agentd::limits::redis {
namespace {

namespace asio = boost::asio;
using bus::redis::detail::Connection;
using bus::redis::detail::Reply;
using scheduler::RunPermits;

spdlog::logger& Log() {
  static auto logger = observe::Logger("limits");
  return *logger;
}

class Core : public std::enable_shared_from_this<Core> {
 public:
  Core(RedisRunPermitsOptions options, bus::redis::detail::RedisEndpoint endpoint,
       asio::any_io_executor executor, observe::Metrics& metrics)
      : options_(std::move(options)),
        conn_(Connection::Make(std::move(executor), std::move(endpoint),
                               {.connect_timeout = options_.connect_timeout,
                                .reconnect_backoff_max = options_.reconnect_backoff_max},
                               "permits")),
        fallback_total_(metrics.GetCounter(
            "agentd_run_permits_fallback_total",
            "Runs started without a cluster-wide permit (per-instance limits only) because "
            "Redis was unavailable")),
        outage_(fallback_total_,
                metrics.GetGauge("agentd_run_permits_degraded",
                                 "1 while tier max_concurrent_runs is enforced per instance "
                                 "because Redis is unavailable")) {}

  void Start() { conn_->Start(); }
  void Stop() {
    stopped_ = true;
    conn_->Stop();
  }

  asio::awaitable<RunPermits::Answer> Acquire(std::string tenant, std::string tier,
                                              std::string holder, std::size_t limit,
                                              std::chrono::milliseconds lease) {
    std::vector<std::string> args{"EVALSHA",
                                  PermitScriptSha(),
                                  "1",
                                  Key(tier, tenant),
                                  "acquire",
                                  std::to_string(lease.count()),
                                  std::to_string(limit),
                                  std::move(holder)};
    auto reply = co_await EvalScript(std::move(args));
    Result<PermitReply> parsed =
        reply ? ParsePermitReply(*reply) : Result<PermitReply>(reply.error());
    if (!parsed) {
      Degrade(parsed.error());
      fallback_total_.Inc();
      co_return RunPermits::Answer::kUnavailable;
    }
    Recovered();
    co_return parsed->value == 1 ? RunPermits::Answer::kGranted : RunPermits::Answer::kFull;
  }

  asio::awaitable<void> Renew(std::vector<RunPermits::Held> held, std::chrono::milliseconds lease) {
    // One script call per (tier, tenant) key: an instance holds permits of few tenants.
    std::map<std::string, std::vector<std::string>> by_key;
    for (auto& h : held) by_key[Key(h.tier, h.tenant)].push_back(std::move(h.holder));
    for (auto& [key, holders] : by_key) {
      std::vector<std::string> args{"EVALSHA", PermitScriptSha(), "1", key, "renew",
                                    std::to_string(lease.count())};
      for (auto& holder : holders) args.push_back(std::move(holder));
      auto reply = co_await EvalScript(std::move(args));
      Result<PermitReply> parsed =
          reply ? ParsePermitReply(*reply) : Result<PermitReply>(reply.error());
      if (!parsed) {
        Degrade(parsed.error());
        co_return;  // the rest expire with their leases, as these do
      }
      Recovered();
    }
  }

  asio::awaitable<void> Release(std::string tenant, std::string tier, std::string holder) {
    std::vector<std::string> args{"ZREM", Key(tier, tenant), std::move(holder)};
    auto reply = co_await Command(std::move(args));
    if (!reply) {
      Degrade(reply.error());  // the permit expires with its lease
    } else if (reply->type == Reply::Type::kInteger) {
      Recovered();
    }
  }

 private:
  // Per tier as RequestLimits keeps its limiters: a tenant seen under two tiers has two quotas.
  std::string Key(std::string_view tier, std::string_view tenant) const {
    return fmt::format("{}permits:{}:{}", options_.key_prefix, tier, tenant);
  }

  // EVALSHA of the permit script (or, with `script` false, a plain command), awaited; these
  // permits stay alive until the reply.
  asio::awaitable<Result<Reply>> EvalScript(std::vector<std::string> args) {
    auto self = shared_from_this();
    co_return co_await AwaitCommand(conn_, PermitScript(), std::move(args),
                                    options_.command_timeout);
  }
  asio::awaitable<Result<Reply>> Command(std::vector<std::string> args) {
    auto self = shared_from_this();
    co_return co_await AwaitCommand(conn_, {}, std::move(args), options_.command_timeout);
  }

  void Degrade(const Error& why) {
    if (stopped_ || !outage_.Begin()) return;
    observe::WarnLimited(outage_.warn_limit(), Log(),
                         "permits: redis unavailable, tier max_concurrent_runs is enforced per "
                         "instance (each instance allows the full limit) until it answers "
                         "error={}",
                         why.message);
  }

  void Recovered() {
    auto ended = outage_.End();
    if (!ended) return;
    Log().info("permits: redis answers again, tier max_concurrent_runs is cluster-wide again "
               "outage_ms={} runs_without_permit={}",
               ended->duration.count(), ended->fallbacks);
  }

  const RedisRunPermitsOptions options_;
  std::shared_ptr<Connection> conn_;
  observe::Counter& fallback_total_;
  Outage outage_;
  std::atomic<bool> stopped_{false};
};

class RedisRunPermits final : public RunPermits {
 public:
  explicit RedisRunPermits(std::shared_ptr<Core> core) : core_(std::move(core)) { core_->Start(); }
  ~RedisRunPermits() override { core_->Stop(); }

  // Each call's frame holds the core, so a call still waiting on Redis when this object goes
  // away (Stop() answers it kUnavailable) never touches a destroyed core.
  asio::awaitable<Answer> Acquire(std::string tenant, std::string tier, std::string holder,
                                  std::size_t limit, std::chrono::milliseconds lease) override {
    auto core = core_;
    co_return co_await core->Acquire(std::move(tenant), std::move(tier), std::move(holder), limit,
                                     lease);
  }
  asio::awaitable<void> Renew(std::vector<Held> held, std::chrono::milliseconds lease) override {
    auto core = core_;
    co_await core->Renew(std::move(held), lease);
  }
  asio::awaitable<void> Release(std::string tenant, std::string tier, std::string holder) override {
    auto core = core_;
    co_await core->Release(std::move(tenant), std::move(tier), std::move(holder));
  }

 private:
  std::shared_ptr<Core> core_;
};

}  // namespace

Result<std::unique_ptr<scheduler::RunPermits>> MakeRedisRunPermits(RedisRunPermitsOptions options,
                                                                   asio::any_io_executor executor,
                                                                   observe::Metrics& metrics) {
  auto endpoint = bus::redis::detail::ParseRedisUrl(options.url);
  if (!endpoint) return endpoint.error();
  auto core = std::make_shared<Core>(std::move(options), std::move(*endpoint),
                                     std::move(executor), metrics);
  return std::unique_ptr<scheduler::RunPermits>(std::make_unique<RedisRunPermits>(std::move(core)));
}

}  // namespace agentd::limits::redis
