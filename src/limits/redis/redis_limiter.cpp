#include "limits/redis/redis_limiter.hpp"

#include <atomic>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include "bus/redis/detail/connection.hpp"
#include "common/snapshot.hpp"
#include "bus/redis/detail/redis_url.hpp"
#include "limits/limit_specs.hpp"
#include "limits/redis/bucket_script.hpp"
#include "limits/redis/outage.hpp"
#include "limits/redis/script_call.hpp"
#include "observe/log.hpp"

namespace agentd::limits::redis {
namespace {

namespace asio = boost::asio;
using bus::redis::detail::Connection;
using bus::redis::detail::Reply;

spdlog::logger& Log() {
  static auto logger = observe::Logger("limits");
  return *logger;
}

// One bucket a script call touches, and how its outcome is reported.
struct Bucket {
  std::string key;
  const BucketOptions* spec;
  LimitKind kind;
};

Verdict VerdictOf(const Bucket& b, const BucketOutcome& o, double cost) {
  Verdict v;
  v.limited = true;
  v.kind = b.kind;
  v.allowed = o.allowed;
  v.decision = DescribeBucket(*b.spec, o.tokens, o.allowed, cost);
  return v;
}

// The limits in force: what the buckets allow and the in-process fallback deciding the same
// numbers while Redis is down. Replaced whole on a reload (Reconfigure); a check keeps the
// version it started with.
struct Rules {
  LimitSpecs specs;
  std::shared_ptr<RequestLimits> fallback;
};

std::shared_ptr<const Rules> MakeRules(const config::Limits& limits, const Clock& clock,
                                       const Rules* previous) {
  auto specs = LimitSpecs::From(limits);
  auto fallback = std::make_shared<RequestLimits>(specs, clock,
                                                  previous ? previous->fallback.get() : nullptr);
  return std::make_shared<const Rules>(Rules{std::move(specs), std::move(fallback)});
}

class Core : public std::enable_shared_from_this<Core> {
 public:
  Core(const config::Limits& limits, RedisLimiterOptions options,
       bus::redis::detail::RedisEndpoint endpoint, asio::any_io_executor executor,
       observe::Metrics& metrics)
      : options_(std::move(options)),
        rules_(MakeRules(limits, options_.fallback_clock, nullptr)),
        conn_(Connection::Make(executor, std::move(endpoint),
                               {.connect_timeout = options_.connect_timeout,
                                .reconnect_backoff_max = options_.reconnect_backoff_max},
                               "limits")),
        probe_strand_(asio::make_strand(executor)),
        probe_timer_(probe_strand_),
        fallback_total_(metrics.GetCounter(
            "agentd_limits_fallback_total",
            "Rate-limit decisions made in-process because Redis was unavailable")),
        outage_(fallback_total_,
                metrics.GetGauge("agentd_limits_degraded",
                                 "1 while rate limits are decided in-process because Redis is "
                                 "unavailable")) {}

  void Start() { conn_->Start(); }

  void Stop() {
    stopped_ = true;
    conn_->Stop();
    asio::post(probe_strand_, [self = shared_from_this()] { self->probe_timer_.cancel(); });
  }

  void Reconfigure(const config::Limits& limits) {
    auto current = rules_.Get();
    rules_.Set(MakeRules(limits, options_.fallback_clock, current.get()));
  }

  asio::awaitable<Verdict> AdmitIp(std::string_view ip) {
    const auto rules = rules_.Get();  // kept by this frame: `buckets` points into it
    const LimitSpecs& specs = rules->specs;
    if (!specs.per_ip) co_return Verdict{};
    if (!outage_.active()) {
      std::vector<Bucket> buckets{{Key("per_ip", ip), &*specs.per_ip, LimitKind::kPerIp}};
      auto out = co_await Run(BucketOp::kAcquire, 1, buckets);
      if (out) co_return VerdictOf(buckets[0], (*out)[0], 1);
    }
    fallback_total_.Inc();
    co_return rules->fallback->AdmitIp(ip);
  }

  asio::awaitable<Verdict> AdmitPrincipal(std::string_view credential, std::string_view tenant,
                                          std::string_view tier) {
    const auto rules = rules_.Get();
    const LimitSpecs& specs = rules->specs;
    std::vector<Bucket> buckets;
    if (!credential.empty() && specs.per_key) {
      buckets.push_back({Key("per_key", credential), &*specs.per_key, LimitKind::kPerKey});
    }
    const TierSpecs* t = specs.TierOf(tier);
    if (t != nullptr && t->requests) {
      buckets.push_back({TierKey(specs, "tier_requests", tier, tenant), &*t->requests,
                         LimitKind::kTierRequests});
    }
    if (buckets.empty()) co_return Verdict{};
    if (!outage_.active()) {
      auto out = co_await Run(BucketOp::kAcquire, 1, buckets);
      if (out) {
        // As RequestLimits: the first refusal, else the tighter of the two for the headers.
        Verdict first = VerdictOf(buckets[0], (*out)[0], 1);
        if (!first.allowed || out->size() == 1) co_return first;
        Verdict second = VerdictOf(buckets[1], (*out)[1], 1);
        if (!second.allowed || second.decision.remaining < first.decision.remaining) {
          co_return second;
        }
        co_return first;
      }
    }
    fallback_total_.Inc();
    co_return rules->fallback->AdmitPrincipal(credential, tenant, tier);
  }

  asio::awaitable<Verdict> CheckTokens(std::string_view tenant, std::string_view tier) {
    const auto rules = rules_.Get();
    const TierSpecs* t = rules->specs.TierOf(tier);
    if (t == nullptr || !t->tokens) co_return Verdict{};
    if (!outage_.active()) {
      std::vector<Bucket> buckets{{TierKey(rules->specs, "tier_tokens", tier, tenant), &*t->tokens,
                                   LimitKind::kTierTokens}};
      auto out = co_await Run(BucketOp::kCheck, 0, buckets);
      if (out) co_return VerdictOf(buckets[0], (*out)[0], 1);  // as TokenBucketLimiter::Check
    }
    fallback_total_.Inc();
    co_return rules->fallback->CheckTokens(tenant, tier);
  }

  void ChargeTokens(std::string_view tenant, std::string_view tier, double tokens) {
    const auto rules = rules_.Get();
    const TierSpecs* t = rules->specs.TierOf(tier);
    if (t == nullptr || !t->tokens) return;
    if (outage_.active() || stopped_) {
      fallback_total_.Inc();
      rules->fallback->ChargeTokens(tenant, tier, tokens);
      return;
    }
    std::vector<Bucket> buckets{{TierKey(rules->specs, "tier_tokens", tier, tenant), &*t->tokens,
                                 LimitKind::kTierTokens}};
    // Sent from here, not from a spawned coroutine, so it reaches the connection before any
    // check this thread issues next.
    SendScript(ScriptArgs(BucketOp::kCharge, tokens, buckets),
               [self = shared_from_this(), rules, tenant = std::string(tenant),
                tier = std::string(tier), tokens](Result<Reply> r) {
                 if (r && ParseBucketReply(*r)) return;
                 // Not counted in Redis: count it here, so this instance still sees it.
                 self->fallback_total_.Inc();
                 rules->fallback->ChargeTokens(tenant, tier, tokens);
                 self->Degrade(r ? Error(Errc::kInternal, "unexpected script reply") : r.error());
               });
  }

  std::size_t EvictIdle() { return rules_.Get()->fallback->EvictIdle(); }

 private:
  std::string Key(std::string_view limit, std::string_view subject) const {
    return fmt::format("{}rl:{}:{}", options_.key_prefix, limit, subject);
  }
  // Per tier as RequestLimits keeps a limiter per tier: a tenant seen under two tiers has two
  // buckets. The tier is the configured one the request resolves to.
  std::string TierKey(const LimitSpecs& specs, std::string_view limit, std::string_view tier,
                      std::string_view tenant) const {
    return fmt::format("{}rl:{}:{}:{}", options_.key_prefix, limit, specs.TierName(tier),
                       tenant);
  }

  std::vector<std::string> ScriptArgs(BucketOp op, double cost,
                                      const std::vector<Bucket>& buckets) const {
    std::vector<std::string> args;
    args.reserve(3 + 3 * buckets.size() + 3);
    args.emplace_back("EVALSHA");
    args.push_back(BucketScriptSha());
    args.push_back(std::to_string(buckets.size()));
    for (const auto& b : buckets) args.push_back(b.key);
    args.emplace_back(BucketOpName(op));
    args.push_back(fmt::format("{}", cost));
    args.push_back(options_.now_for_test ? std::to_string(options_.now_for_test()) : "");
    for (const auto& b : buckets) {
      args.push_back(fmt::format("{}", b.spec->rate_per_second));
      args.push_back(fmt::format("{}", b.spec->burst));
    }
    return args;
  }

  void SendScript(std::vector<std::string> args, Connection::Callback cb) {
    limits::redis::SendScript(conn_, BucketScript(), std::move(args), options_.command_timeout,
                              std::move(cb));
  }

  // SendScript, awaited; this limiter stays alive until the reply.
  asio::awaitable<Result<Reply>> EvalScript(std::vector<std::string> args) {
    auto self = shared_from_this();
    co_return co_await AwaitCommand(conn_, BucketScript(), std::move(args),
                                    options_.command_timeout);
  }

  // The script's outcomes (one per evaluated bucket, at least one); nullopt when Redis did
  // not answer as expected, after degrading: the caller decides in-process.
  asio::awaitable<std::optional<std::vector<BucketOutcome>>> Run(
      BucketOp op, double cost, const std::vector<Bucket>& buckets) {
    auto reply = co_await EvalScript(ScriptArgs(op, cost, buckets));
    if (!reply) {
      Degrade(reply.error());
      co_return std::nullopt;
    }
    auto out = ParseBucketReply(*reply);
    if (!out || out->empty() || out->size() > buckets.size()) {
      Degrade(out ? Error(Errc::kInternal, "script reply does not match its keys") : out.error());
      co_return std::nullopt;
    }
    co_return std::move(*out);
  }

  void Degrade(const Error& why) {
    if (stopped_ || !outage_.Begin()) return;
    observe::WarnLimited(outage_.warn_limit(), Log(),
                         "limits: redis unavailable, deciding rate limits in this process "
                         "(each instance allows the full limit) until it answers error={}",
                         why.message);
    asio::co_spawn(probe_strand_, Probe(shared_from_this()), [](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        Log().error("limits: redis probe failed error={}", ex.what());
      }
    });
  }

  // Runs on probe_strand_ while degraded; ends when Redis answers (or at Stop()).
  static asio::awaitable<void> Probe(std::shared_ptr<Core> self) {
    while (!self->stopped_) {
      self->probe_timer_.expires_after(self->options_.probe_interval);
      auto [ec] = co_await self->probe_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
      if (ec || self->stopped_) co_return;
      std::vector<std::string> load{"SCRIPT", "LOAD", std::string(BucketScript())};
      auto r = co_await self->conn_->Command(std::move(load), self->options_.command_timeout);
      if (r && r->is_string() && r->str == BucketScriptSha()) {
        if (auto ended = self->outage_.End()) {
          Log().info("limits: redis answers again, deciding rate limits in redis outage_ms={} "
                     "decided_in_process={}",
                     ended->duration.count(), ended->fallbacks);
        }
        co_return;
      }
    }
  }

  const RedisLimiterOptions options_;
  Snapshot<const Rules> rules_;
  std::shared_ptr<Connection> conn_;
  asio::strand<asio::any_io_executor> probe_strand_;
  asio::steady_timer probe_timer_;  // probe_strand_ only
  observe::Counter& fallback_total_;
  Outage outage_;
  std::atomic<bool> stopped_{false};
};

class RedisLimiter final : public Limiter {
 public:
  explicit RedisLimiter(std::shared_ptr<Core> core) : core_(std::move(core)) { core_->Start(); }
  ~RedisLimiter() override { core_->Stop(); }

  asio::awaitable<Verdict> AdmitIp(std::string_view ip) override { return core_->AdmitIp(ip); }
  asio::awaitable<Verdict> AdmitPrincipal(std::string_view credential, std::string_view tenant,
                                          std::string_view tier) override {
    return core_->AdmitPrincipal(credential, tenant, tier);
  }
  asio::awaitable<Verdict> CheckTokens(std::string_view tenant, std::string_view tier) override {
    return core_->CheckTokens(tenant, tier);
  }
  void ChargeTokens(std::string_view tenant, std::string_view tier, double tokens) override {
    core_->ChargeTokens(tenant, tier, tokens);
  }
  std::size_t EvictIdle() override { return core_->EvictIdle(); }
  void Reconfigure(const config::Limits& limits) override { core_->Reconfigure(limits); }

 private:
  std::shared_ptr<Core> core_;
};

}  // namespace

Result<std::unique_ptr<Limiter>> MakeRedisLimiter(const config::Limits& limits,
                                                  RedisLimiterOptions options,
                                                  asio::any_io_executor executor,
                                                  observe::Metrics& metrics) {
  auto endpoint = bus::redis::detail::ParseRedisUrl(options.url);
  if (!endpoint) return endpoint.error();
  auto core = std::make_shared<Core>(limits, std::move(options), std::move(*endpoint),
                                     std::move(executor), metrics);
  return std::unique_ptr<Limiter>(std::make_unique<RedisLimiter>(std::move(core)));
}

}  // namespace agentd::limits::redis
