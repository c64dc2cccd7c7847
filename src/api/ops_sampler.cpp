#include "api/ops_sampler.hpp"

#include <algorithm>
#include <cmath>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/array.hpp>
#include <spdlog/spdlog.h>

#include "broadcast/hub.hpp"
#include "common/json.hpp"
#include "common/time.hpp"
#include "storage/storage.hpp"

namespace agentd::api {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

using Clock = std::chrono::steady_clock;

std::string LabelOf(const observe::Labels& labels, std::string_view key) {
  for (const auto& [k, v] : labels) {
    if (k == key) return v;
  }
  return {};
}

std::string SeriesKey(const observe::Metrics::Sample& s) {
  std::string key = s.name;
  for (const auto& [k, v] : s.labels) {
    key += '|';
    key += k;
    key += '=';
    key += v;
  }
  return key;
}

double Round3(double v) { return std::round(v * 1000.0) / 1000.0; }

// {count, sum_ms, p50_ms, p95_ms, p99_ms} of what the histogram observed since the previous
// sample (seconds in, milliseconds out), plus the cumulative count.
json::object IntervalLatency(const observe::Metrics::Sample& s,
                             OpsSampler::Previous& previous) {
  std::vector<std::uint64_t>& before = previous.buckets[SeriesKey(s)];
  std::vector<std::uint64_t> delta(s.buckets.size(), 0);
  std::uint64_t prev_cumulative = 0;
  for (std::size_t i = 0; i < s.buckets.size(); ++i) {
    const std::uint64_t was = i < before.size() ? before[i] : 0;
    const std::uint64_t now_cum = s.buckets[i] >= was ? s.buckets[i] - was : s.buckets[i];
    delta[i] = now_cum >= prev_cumulative ? now_cum - prev_cumulative : 0;
    prev_cumulative = now_cum;
  }
  const std::uint64_t interval_count = prev_cumulative;
  before = s.buckets;
  json::object out{{"count", s.count}, {"interval_count", interval_count}};
  for (auto [name, q] : {std::pair{"p50_ms", 0.5}, std::pair{"p95_ms", 0.95},
                         std::pair{"p99_ms", 0.99}}) {
    auto v = HistogramQuantile(s.bounds, delta, q);
    out[name] = v ? json::value(Round3(*v * 1000.0)) : json::value(nullptr);
  }
  out["mean_ms"] = s.count > 0 ? json::value(Round3(s.sum / static_cast<double>(s.count) * 1000.0))
                               : json::value(nullptr);
  return out;
}

json::object& Entry(std::map<std::string, json::object>& by_name, const std::string& name,
                    std::string_view key_name) {
  auto [it, inserted] = by_name.try_emplace(name);
  if (inserted) it->second[key_name] = name;
  return it->second;
}

void AddCount(json::object& o, std::string_view group, const std::string& label, double value) {
  json::value& g = o[group];
  if (!g.is_object()) g = json::object{};
  g.get_object()[label] = static_cast<std::uint64_t>(value);
}

json::array Values(std::map<std::string, json::object>& by_name) {
  json::array out;
  for (auto& [name, o] : by_name) out.push_back(std::move(o));
  return out;
}

std::string SseFrame(std::string_view event, const json::object& data) {
  std::string out = "event: ";
  out += event;
  out += "\ndata: ";
  out += ToJson(data);
  out += "\n\n";
  return out;
}

}  // namespace

std::optional<double> HistogramQuantile(const std::vector<double>& bounds,
                                        const std::vector<std::uint64_t>& counts, double q) {
  std::uint64_t total = 0;
  for (auto c : counts) total += c;
  if (total == 0 || bounds.empty()) return std::nullopt;
  const double rank = q * static_cast<double>(total);
  std::uint64_t below = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    if (counts[i] == 0) continue;
    if (static_cast<double>(below + counts[i]) >= rank) {
      if (i >= bounds.size()) return bounds.back();  // +Inf bucket: the last finite bound
      const double lower = i == 0 ? 0.0 : bounds[i - 1];
      const double upper = bounds[i];
      const double within = (rank - static_cast<double>(below)) / static_cast<double>(counts[i]);
      return lower + (upper - lower) * std::clamp(within, 0.0, 1.0);
    }
    below += counts[i];
  }
  return bounds.back();
}

std::shared_ptr<OpsSampler> OpsSampler::Make(OpsSources sources,
                                             std::chrono::milliseconds interval,
                                             std::size_t history) {
  return std::shared_ptr<OpsSampler>(new OpsSampler(std::move(sources), interval, history));
}

OpsSampler::OpsSampler(OpsSources sources, std::chrono::milliseconds interval, std::size_t history)
    : sources_(std::move(sources)), interval_(interval), history_limit_(std::max<std::size_t>(1, history)) {}

OpsSampler::~OpsSampler() = default;

std::string OpsSampler::HelloFrame() const {
  const config::Config& c = sources_.config;
  json::array tiers;
  for (const auto& t : c.limits.tiers) {
    tiers.push_back(json::object{{"name", t.name},
                                 {"max_concurrent_runs", t.max_concurrent_runs},
                                 {"max_queued_runs", t.max_queued_runs},
                                 {"requests_per_minute", t.requests_per_minute},
                                 {"tokens_per_minute", t.tokens_per_minute},
                                 {"priority", t.priority}});
  }
  json::object hello{
      {"version", sources_.version},
      {"interval_ms", interval_.count()},
      {"loops", sources_.health.Loops(Clock::now()).size()},
      {"storage", c.storage.url.rfind("postgres", 0) == 0 ? "postgres" : c.storage.url},
      {"bus", c.storage.bus.rfind("redis", 0) == 0 ? "redis" : c.storage.bus},
      {"instance", sources_.instance_id},
      {"clustered", sources_.runs != nullptr && sources_.runs->clustered()},
      {"limits", json::object{{"max_active_runs", c.limits.max_active_runs},
                              {"max_queued_runs", c.limits.max_queued_runs},
                              {"queue_timeout_ms", c.limits.queue_timeout.count()},
                              {"run_timeout_ms", c.limits.run_timeout.count()},
                              {"default_tier", c.limits.default_tier},
                              {"tiers", std::move(tiers)}}},
      {"auth", c.auth.mode},
  };
  return SseFrame("hello", hello);
}

json::object OpsSampler::BuildSample(const OpsSources& sources, Previous& previous,
                                     std::optional<double> storage_ping_ms,
                                     std::string storage_error) {
  json::object sample{{"t", NowMs()}};

  // Runs: admission totals, the list, and per (tier, tenant) counts over every active run.
  if (sources.runs != nullptr) {
    const scheduler::AdmissionStats stats = sources.runs->admission_stats();
    std::size_t total = 0;
    std::vector<scheduler::ActiveRunInfo> runs =
        sources.runs->ActiveRuns(static_cast<std::size_t>(-1), &total);
    std::map<std::pair<std::string, std::string>, json::object> groups;
    for (const auto& r : runs) {
      json::object& g = groups[{r.tier, r.tenant}];
      if (g.empty()) {
        g = json::object{{"tier", r.tier}, {"tenant", r.tenant}, {"running", 0}, {"queued", 0},
                         {"behind_thread", 0}, {"starting", 0}};
      }
      g[r.state] = g[r.state].to_number<std::int64_t>() + 1;
    }
    json::array tenants;
    for (auto& [key, g] : groups) tenants.push_back(std::move(g));
    json::array listed;
    for (std::size_t i = 0; i < runs.size() && i < kMaxRuns; ++i) {
      const auto& r = runs[i];
      json::object o{{"run_id", r.run_id},       {"thread_id", r.thread_id},
                     {"assistant_id", r.assistant_id}, {"tenant", r.tenant},
                     {"tier", r.tier},           {"state", r.state},
                     {"created_at", r.created_at_ms}, {"attempt", r.attempt}};
      if (r.state == "queued") {
        o["queue_position"] = r.queue_position;
        o["estimated_wait_ms"] = r.estimated_wait_ms;
      }
      listed.push_back(std::move(o));
    }
    sample["admission"] = json::object{{"executing", stats.executing},
                                       {"queued", stats.queued},
                                       {"waiting", stats.waiting},
                                       {"saturated", stats.saturated},
                                       {"active_total", total}};
    sample["runs"] = std::move(listed);
    sample["tenants"] = std::move(tenants);
    if (sources.runs->clustered()) {
      std::string why;
      const bool current = sources.runs->LeasesCurrent(&why);
      std::size_t held = 0;
      for (const auto& r : runs) {
        if (r.state != "behind_thread") ++held;
      }
      sample["cluster"] = json::object{{"instance", sources.runs->instance_id()},
                                       {"leases_current", current},
                                       {"leases_problem", why},
                                       {"runs_held", held},
                                       {"runs_active", total}};
    }
  }

  // Event loops: the probe's last lag and stall flag per loop.
  json::array loops;
  for (const auto& loop : sources.health.Loops(Clock::now())) {
    loops.push_back(json::object{
        {"index", loop.index},
        {"lag_ms", Round3(static_cast<double>(loop.last_lag.count()) / 1000.0)},
        {"since_last_tick_ms", loop.since_last_tick.count()},
        {"stalled", loop.stalled}});
  }
  sample["loops"] = std::move(loops);

  // Counters, by what the page shows next to each other.
  json::object refusals;
  for (const auto& s : sources.metrics.Collect("agentd_admission_rejections_total")) {
    AddCount(refusals, "admission", LabelOf(s.labels, "reason"), s.value);
  }
  for (const auto& s : sources.metrics.Collect("agentd_ratelimit_rejections_total")) {
    AddCount(refusals, "rate_limit", LabelOf(s.labels, "limit"), s.value);
  }
  for (const auto& s : sources.metrics.Collect("agentd_auth_failures_total")) {
    AddCount(refusals, "auth", LabelOf(s.labels, "reason"), s.value);
  }
  sample["refusals"] = std::move(refusals);
  json::object runs_total;
  for (const auto& s : sources.metrics.Collect("agentd_runs_total")) {
    std::string key = LabelOf(s.labels, "status");
    if (key.empty()) key = LabelOf(s.labels, "outcome");
    if (key.empty()) key = "all";
    runs_total[key] = runs_total.contains(key)
                          ? runs_total[key].to_number<std::uint64_t>() + static_cast<std::uint64_t>(s.value)
                          : static_cast<std::uint64_t>(s.value);
  }
  sample["runs_total"] = std::move(runs_total);
  for (const auto& s : sources.metrics.Collect("agentd_run_queue_wait_seconds")) {
    json::value& waits = sample["queue_wait"];
    if (!waits.is_object()) waits = json::object{};
    waits.get_object()[LabelOf(s.labels, "tier")] = IntervalLatency(s, previous);
  }

  // LLMs, one entry per configured model.
  std::map<std::string, json::object> models;
  for (const auto& s : sources.metrics.Collect("agentd_llm_")) {
    const std::string model = LabelOf(s.labels, "model");
    if (model.empty()) continue;
    json::object& m = Entry(models, model, "model");
    if (s.name == "agentd_llm_requests_total") {
      AddCount(m, "requests", LabelOf(s.labels, "outcome"), s.value);
    } else if (s.name == "agentd_llm_retries_total") {
      AddCount(m, "retries", LabelOf(s.labels, "reason"), s.value);
    } else if (s.name == "agentd_llm_tokens_total") {
      AddCount(m, "tokens", LabelOf(s.labels, "kind"), s.value);
    } else if (s.name == "agentd_llm_attempts_total") {
      m["attempts"] = static_cast<std::uint64_t>(s.value);
    } else if (s.name == "agentd_llm_in_flight") {
      m["in_flight"] = s.value;
    } else if (s.name == "agentd_llm_degraded") {
      m["degraded"] = s.value != 0;
    } else if (s.name == "agentd_llm_latency_seconds") {
      m["latency"] = IntervalLatency(s, previous);
    } else if (s.name == "agentd_llm_time_to_first_token_seconds") {
      m["ttft"] = IntervalLatency(s, previous);
    } else if (s.name == "agentd_llm_queue_wait_seconds") {
      m["queue_wait"] = IntervalLatency(s, previous);
    }
  }
  sample["models"] = Values(models);

  // MCP servers (mcp/server.cpp's series), one entry per configured server.
  std::map<std::string, json::object> mcp;
  for (const auto& s : sources.metrics.Collect("agentd_mcp_")) {
    const std::string server = LabelOf(s.labels, "server");
    if (server.empty()) continue;
    json::object& m = Entry(mcp, server, "server");
    if (s.name == "agentd_mcp_up") {
      m["up"] = s.value != 0;
    } else if (s.name == "agentd_mcp_tools") {
      m["tools"] = s.value;
    } else if (s.name == "agentd_mcp_calls_total") {
      AddCount(m, "calls", LabelOf(s.labels, "outcome"), s.value);
    } else if (s.name == "agentd_mcp_restarts_total") {
      m["restarts"] = static_cast<std::uint64_t>(s.value);
    } else if (s.name == "agentd_mcp_tools_refused_total") {
      m["tools_refused"] = static_cast<std::uint64_t>(s.value);
    } else if (s.name == "agentd_mcp_protocol_errors_total") {
      m["protocol_errors"] = static_cast<std::uint64_t>(s.value);
    } else if (s.name == "agentd_mcp_call_latency_seconds") {
      m["latency"] = IntervalLatency(s, previous);
    }
  }
  sample["mcp"] = Values(mcp);

  // Storage: the sampler's own ping, plus whatever the backend counts (PostgreSQL round trips).
  json::object storage{{"ping_ms", storage_ping_ms ? json::value(Round3(*storage_ping_ms))
                                                   : json::value(nullptr)}};
  if (!storage_error.empty()) storage["error"] = std::move(storage_error);
  for (const auto& s : sources.metrics.Collect("agentd_pg_")) {
    if (s.buckets.empty()) AddCount(storage, "counters", s.name, s.value);
  }
  sample["storage"] = std::move(storage);

  // Broadcast channels and the HTTP server.
  if (sources.broadcast != nullptr) {
    json::object b{{"channels", sources.broadcast->listened_topics()},
                   {"subscribers", sources.broadcast->subscribers()},
                   {"healthy", sources.broadcast->healthy()}};
    for (const auto& s : sources.metrics.Collect("agentd_broadcast_")) {
      if (s.name.size() > 6 && s.name.substr(s.name.size() - 6) == "_total") {
        b[s.name.substr(std::string_view("agentd_broadcast_").size())] =
            static_cast<std::uint64_t>(s.value);
      }
    }
    sample["broadcast"] = std::move(b);
  }
  std::uint64_t requests = 0;
  for (const auto& s : sources.metrics.Collect("agentd_http_requests_total")) {
    requests += static_cast<std::uint64_t>(s.value);
  }
  double open = 0;
  for (const auto& s : sources.metrics.Collect("agentd_http_open_connections")) open += s.value;
  sample["http"] = json::object{{"requests", requests}, {"open_connections", open}};
  json::object degraded;
  for (const auto& s : sources.metrics.Collect("agentd_limits_degraded")) degraded["limits"] = s.value != 0;
  for (const auto& s : sources.metrics.Collect("agentd_run_permits_degraded")) {
    degraded["run_permits"] = s.value != 0;
  }
  sample["degraded"] = std::move(degraded);
  return sample;
}

std::unique_ptr<OpsSampler::Viewer> OpsSampler::Join(asio::any_io_executor executor) {
  bool start = false;
  {
    std::lock_guard lock(mu_);
    ++viewers_;
    if (!running_ && !stopped_) {
      running_ = true;
      start = true;
    }
  }
  if (start) {
    asio::co_spawn(executor, Loop(), [](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        spdlog::error("console: the operations sampler stopped: {}", ex.what());
      }
    });
  }
  return std::unique_ptr<Viewer>(new Viewer(shared_from_this()));
}

void OpsSampler::Leave() {
  std::lock_guard lock(mu_);
  if (viewers_ > 0) --viewers_;
}

OpsSampler::Viewer::~Viewer() { owner_->Leave(); }

void OpsSampler::Stop() {
  std::shared_ptr<scheduler::OneShot> wake;
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
    wake = next_frame_;
  }
  // No handler call starts after this returns (PubSubListener's contract).
  listener_.reset();
  wake->Set();
}

void OpsSampler::StartCluster(bus::PubSub& pubsub, asio::any_io_executor executor) {
  pubsub_ = &pubsub;
  cluster_executor_ = std::move(executor);
  std::weak_ptr<OpsSampler> weak = weak_from_this();
  listener_ = pubsub.Listen(std::string(kClusterChannel), [weak](std::string_view, std::string_view payload) {
    if (auto self = weak.lock()) self->OnClusterMessage(payload);
  });
}

json::object OpsSampler::InstanceSummary() const {
  json::object out{{"instance", sources_.instance_id},
                   {"version", sources_.version},
                   {"t", NowMs()}};
  if (sources_.runs != nullptr) {
    const scheduler::AdmissionStats stats = sources_.runs->admission_stats();
    std::size_t total = 0;
    std::size_t held = 0;
    for (const auto& r : sources_.runs->ActiveRuns(static_cast<std::size_t>(-1), &total)) {
      if (r.state != "behind_thread") ++held;
    }
    std::string why;
    out["executing"] = stats.executing;
    out["queued"] = stats.queued;
    out["active"] = total;
    out["saturated"] = stats.saturated;
    out["runs_held"] = held;
    out["leases_current"] = sources_.runs->LeasesCurrent(&why);
    out["leases_problem"] = why;
  }
  double lag = 0;
  bool stalled = false;
  for (const auto& loop : sources_.health.Loops(Clock::now())) {
    lag = std::max(lag, static_cast<double>(loop.last_lag.count()) / 1000.0);
    stalled = stalled || loop.stalled;
  }
  out["max_loop_lag_ms"] = Round3(lag);
  out["stalled"] = stalled;
  return out;
}

void OpsSampler::PublishDetached(std::string payload) {
  if (pubsub_ == nullptr) return;
  auto self = shared_from_this();
  asio::co_spawn(
      cluster_executor_,
      [](std::shared_ptr<OpsSampler> self, std::string payload) -> asio::awaitable<void> {
        // Fire and forget: a lost summary only leaves a gap in the watcher's table.
        (void)co_await self->pubsub_->Publish(std::string(kClusterChannel), std::move(payload));
      }(self, std::move(payload)),
      [](std::exception_ptr e) {
        if (!e) return;
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          spdlog::warn("console: publishing an operations message failed: {}", ex.what());
        }
      });
}

void OpsSampler::OnClusterMessage(std::string_view payload) {
  auto parsed = ParseJson(payload);
  if (!parsed || !parsed->is_object()) return;
  const json::object& message = parsed->get_object();
  const json::value* type = message.if_contains("type");
  const json::value* from = message.if_contains("instance");
  if (type == nullptr || !type->is_string() || from == nullptr || !from->is_string()) return;
  if (from->get_string() == sources_.instance_id) return;  // our own ping or summary, back from the bus
  const auto now = Clock::now();
  if (type->get_string() == "watch") {
    {
      std::lock_guard lock(mu_);
      // Several watchers: answer at most twice per interval.
      if (stopped_ || now - last_answer_ < interval_ / 2) return;
      last_answer_ = now;
    }
    json::object summary = InstanceSummary();
    summary["type"] = "instance";
    PublishDetached(ToJson(summary));
  } else if (type->get_string() == "instance") {
    json::object summary = message;
    summary.erase("type");
    std::lock_guard lock(mu_);
    if (viewers_ == 0 || peers_.size() > 256) return;  // nobody here asked; bounded
    peers_[std::string(from->get_string())] = Peer{std::move(summary), now};
  }
}

json::array OpsSampler::PeerSummaries() {
  const auto now = Clock::now();
  json::array out;
  std::lock_guard lock(mu_);
  for (auto it = peers_.begin(); it != peers_.end();) {
    if (now - it->second.received > 3 * interval_) {
      it = peers_.erase(it);
      continue;
    }
    out.push_back(it->second.summary);
    ++it;
  }
  return out;
}

std::size_t OpsSampler::viewers() const {
  std::lock_guard lock(mu_);
  return viewers_;
}

std::uint64_t OpsSampler::samples_taken() const {
  std::lock_guard lock(mu_);
  return next_seq_ - 1;
}

asio::awaitable<std::optional<std::vector<std::shared_ptr<const std::string>>>>
OpsSampler::Viewer::Next(std::chrono::milliseconds heartbeat) {
  OpsSampler& s = *owner_;
  std::shared_ptr<scheduler::OneShot> wait;
  for (int round = 0; round < 2; ++round) {
    std::vector<std::shared_ptr<const std::string>> frames;
    {
      std::lock_guard lock(s.mu_);
      if (s.stopped_) co_return std::nullopt;
      for (const auto& [seq, frame] : s.history_) {
        if (seq > seen_) {
          frames.push_back(frame);
          seen_ = seq;
        }
      }
      wait = s.next_frame_;
    }
    if (!frames.empty() || round == 1) co_return frames;
    // Nothing new: wait for the next sample (or the heartbeat), then look once more.
    co_await wait->WaitFor(heartbeat);
  }
  co_return std::vector<std::shared_ptr<const std::string>>{};
}

asio::awaitable<void> OpsSampler::Loop() {
  auto self = shared_from_this();
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer timer(executor);
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (viewers_ == 0 || stopped_) {
        running_ = false;
        co_return;
      }
    }
    const auto started = Clock::now();
    std::optional<double> ping_ms;
    std::string ping_error;
    if (sources_.storage != nullptr) {
      auto ping = co_await sources_.storage->Ping();
      if (ping) {
        ping_ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
      } else {
        ping_error = ping.error().message;
      }
    }
    json::object sample = BuildSample(sources_, previous_, ping_ms, std::move(ping_error));
    if (pubsub_ != nullptr) {
      // Every instance, this one first; and ask the others for their next summary.
      json::array instances{InstanceSummary()};
      for (auto& peer : PeerSummaries()) instances.push_back(std::move(peer));
      sample["instances"] = std::move(instances);
      json::object watch{{"type", "watch"}, {"instance", sources_.instance_id}};
      PublishDetached(ToJson(watch));
    }
    std::shared_ptr<scheduler::OneShot> wake;
    {
      std::lock_guard lock(mu_);
      sample["seq"] = next_seq_;
      history_.emplace_back(next_seq_++,
                            std::make_shared<const std::string>(SseFrame("sample", sample)));
      while (history_.size() > history_limit_) history_.pop_front();
      wake = std::exchange(next_frame_, std::make_shared<scheduler::OneShot>());
    }
    wake->Set();
    timer.expires_at(started + interval_);
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) {
      std::lock_guard lock(mu_);
      running_ = false;
      co_return;
    }
  }
}

}  // namespace agentd::api
