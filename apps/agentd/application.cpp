#include "application.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <future>
#include <optional>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "api/api.hpp"
#include "api/console_assets.hpp"
#include "api/ops_sampler.hpp"
#include "api/gate.hpp"
#include "api/system_assistants.hpp"
#include "api/thread_expiry.hpp"
#include "broadcast/hub.hpp"
#include "bus/inproc/inproc_event_bus.hpp"
#include "bus/inproc/inproc_pubsub.hpp"
#include "common/uuid.hpp"
#include "config/catalog.hpp"
#include "config/loader.hpp"
#include "config/reload.hpp"
#ifdef AGENTD_HAVE_REDIS
#include "bus/redis/redis_event_bus.hpp"
#include "bus/redis/redis_pubsub.hpp"
#include "limits/redis/redis_limiter.hpp"
#include "limits/redis/redis_run_permits.hpp"
#endif
#include "http/client_pool.hpp"
#include "limits/in_process_limiter.hpp"
#include "mcp/mcp_tools.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "observe/log.hpp"
#include "observe/loop_probe.hpp"
#include "observe/metrics.hpp"
#include "runtime/executor.hpp"
#include "graph/graph_def.hpp"
#include "graph/loader.hpp"
#include "runtime/graph_registry.hpp"
#include "runtime/model_registry.hpp"
#include "runtime/otlp_exporter.hpp"
#include "runtime/run_trace.hpp"
#include "scheduler/run_executor.hpp"
#include "scheduler/run_manager.hpp"
#include "storage/memory/memory_storage.hpp"
#include "storage/postgres/postgres_storage.hpp"
#include "storage/sqlite/sqlite_storage.hpp"

#ifndef AGENTD_VERSION
#define AGENTD_VERSION "0.0.0"
#endif

namespace agentd::app {
namespace {

// The graphs whose system assistant shows different defaults in `next` than in `running`
// (knob defaults, context, description), and the ids only `next` has.
std::vector<std::string> ChangedDefaults(const runtime::GraphRegistry& running,
                                         const runtime::GraphRegistry& next) {
  std::vector<std::string> changed;
  for (const runtime::GraphInfo& g : next.all()) {
    auto before = running.Find(g.graph_id);
    if (before == nullptr || before->spec.config != g.spec.config || before->spec.context != g.spec.context ||
        before->spec.description != g.spec.description) {
      changed.push_back(g.graph_id);
    }
  }
  return changed;
}

Result<std::unique_ptr<storage::Storage>> MakeStorage(const config::StorageSettings& settings,
                                                      const std::string& instance_id,
                                                      observe::Metrics* metrics) {
  if (settings.url == "memory") return storage::MakeMemoryStorage();
  if (settings.url.rfind("postgres://", 0) == 0 || settings.url.rfind("postgresql://", 0) == 0) {
    // Blocks while it connects and migrates: Start() runs before the loops serve anything.
    storage::PostgresOptions options;
    options.dsn = settings.url;
    options.pool_size = settings.postgres_pool_size;
    options.acquire_timeout = std::chrono::milliseconds(settings.postgres_acquire_timeout_ms);
    // The lease owner name: checkpoints of runs another instance has adopted are refused.
    options.instance_id = instance_id;
    options.metrics = metrics;
    return storage::MakePostgresStorage(options);
  }
  storage::SqliteOptions options;
  options.busy_timeout_ms = static_cast<int>(settings.sqlite_busy_timeout_ms);
  options.reserve_bytes = settings.sqlite_reserve_bytes;
  options.metrics = metrics;
  if (settings.url == "sqlite") {
    std::error_code ec;
    std::filesystem::create_directories(settings.data_dir, ec);
    if (ec) {
      return Error(Errc::kUnavailable,
                   fmt::format("cannot create data_dir {}: {}", settings.data_dir, ec.message()));
    }
    options.path = (std::filesystem::path(settings.data_dir) / "agentd.db").string();
  } else {
    options.path = settings.url.substr(std::string_view("sqlite:").size());
  }
  return storage::MakeSqliteStorage(options);
}

// This process's name in run leases: readable in the database, unique per start.
std::string InstanceId() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  return fmt::format("{}:{}:{}", host, getpid(), NewUuid4().substr(0, 8));
}

http::ServerOptions ServerOptionsFrom(const config::ServerSettings& s) {
  http::ServerOptions o;
  o.host = s.host;
  o.port = s.port;
  o.body_limit_bytes = s.body_limit_bytes;
  o.header_timeout = s.header_timeout;
  o.read_timeout = s.read_timeout;
  o.idle_timeout = s.idle_timeout;
  o.shutdown_grace = s.shutdown_grace;
  o.max_connections = s.max_connections;
  o.cors_origins = s.cors_origins;
  return o;
}

}  // namespace

// The console's files: --ui-dir, else the `ui` directory beside this binary (build/ui next to
// build/agentd). Read once, here, before the loops serve anything.
std::shared_ptr<const api::ConsoleAssets> LoadConsole(const config::ConsoleSettings& console) {
  if (!console.enabled) return nullptr;
  std::filesystem::path dir = console.ui_dir;
  if (dir.empty()) {
    std::error_code ec;
    auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) return nullptr;
    dir = exe.parent_path() / "ui";
  }
  auto assets = api::ConsoleAssets::Load(dir);
  if (!assets) {
    observe::Logger("console")->info("console: not installed ({}); `make build` writes it to build/ui",
                                     assets.error().message);
    return nullptr;
  }
  observe::Logger("console")->info("console: {} files ({} KiB) from {}", (*assets)->file_count(),
                                   (*assets)->total_bytes() / 1024, dir.string());
  return std::move(*assets);
}

// Members are declared in dependency order, so destruction runs in reverse: the server and
// routes first, then storage (its thread may still post completions into the stopped loops,
// which are still alive), then probes and loops, then health and metrics, which probes write.
struct Application::Parts {
  observe::Metrics metrics;
  observe::Health health;
  http::EventLoops loops;
  std::vector<std::unique_ptr<observe::LoopProbe>> probes;
  std::unique_ptr<storage::Storage> storage;
  std::unique_ptr<storage::Storage> shared_storage;  // storage + system assistants for every tenant
  std::optional<runtime::GraphRegistry> graphs;
  std::unique_ptr<http::ClientPool> client_pool;  // the HttpTransport of LLMs, tools, webhooks
  // The models at start; a reload publishes new ones through the executor's catalog.
  std::shared_ptr<runtime::ModelRegistry> models;
  // Sessions with the configured MCP servers (null without any); runs call their tools.
  std::shared_ptr<mcp::McpTools> mcp;
  std::unique_ptr<runtime::GraphExecutor> executor;
  std::unique_ptr<bus::EventBus> bus;
  // Control messages (cluster mode) and broadcast channels: Redis with a redis:// bus.
  std::unique_ptr<bus::PubSub> pubsub;
  // Broadcast channels (docs/broadcast.md) over `pubsub`; closed before the server drains.
  std::unique_ptr<broadcast::Hub> broadcast;
  std::unique_ptr<scheduler::RunExecutor> run_executor;
  // Auth and rate limits; built before the scheduler, which charges run tokens to its budgets.
  std::shared_ptr<api::Gate> gate;
  // Run traces (console run inspector); outlives `runs`, which records into it.
  std::unique_ptr<runtime::TraceStore> traces;
  // OTLP export of ended traces (otlp_endpoint); outlives `runs`, stopped after them.
  std::unique_ptr<runtime::OtlpExporter> otlp;
  // Cluster mode on a Redis bus: tier max_concurrent_runs across instances; outlives `runs`.
  std::unique_ptr<scheduler::RunPermits> permits;
  std::unique_ptr<scheduler::RunManager> runs;
  std::optional<api::ApiContext> context;
  // The console's operations sampler; stopped before the server drains.
  std::shared_ptr<api::OpsSampler> ops;
  // Deletes expired threads; stopped before the loops and storage it uses.
  std::unique_ptr<api::ThreadSweeper> sweeper;
  http::Router router;
  std::unique_ptr<http::Server> server;
  bool loops_running = false;
  // The configuration in force: set by Start(), replaced by each applied Reload(); only the
  // thread that calls Start/Reload/Stop touches it.
  std::shared_ptr<const config::Config> running;

  explicit Parts(const config::Config& config)
      : health(config.server.threads, config.server.health_stall_threshold),
        loops(config.server.threads) {
    for (std::size_t i = 0; i < loops.size(); ++i) {
      probes.push_back(std::make_unique<observe::LoopProbe>(loops.loop(i), i, health, metrics));
    }
  }

  void StopLoops() {
    if (!loops_running) return;
    for (auto& probe : probes) probe->Stop();
    loops.Stop();
    loops_running = false;
  }
};

Application::Application(const config::Config& config)
    : config_(config), parts_(std::make_unique<Parts>(config)) {}

Application::~Application() { Stop(); }

http::EventLoops& Application::loops() { return parts_->loops; }
observe::Health& Application::health() { return parts_->health; }

Result<std::uint16_t> Application::Start() {
  Parts& p = *parts_;
  // Once: the storage's checkpoint fence and the cluster's run leases must use the same name.
  const std::string instance_id = InstanceId();
  auto storage = MakeStorage(config_.storage, instance_id, &p.metrics);
  if (!storage) {
    return Error(storage.error().code, "storage failed to open: " + storage.error().message);
  }
  p.storage = std::move(*storage);
  p.shared_storage = api::MakeSharedSystemAssistants(*p.storage);
  // Disk full, I/O errors, the database file deleted under the server: /ready fails.
  storage::Storage* writable = p.storage.get();
  p.health.AddDependencyProbe("storage", [writable](std::string* why) {
    return writable->Writable(why);
  });
  auto graphs = runtime::GraphRegistry::FromConfig(config_);
  if (!graphs) return Error(graphs.error().code, "graphs: " + graphs.error().message);
  p.graphs.emplace(std::move(*graphs));
  p.client_pool = std::make_unique<http::ClientPool>();
  auto models = runtime::ModelRegistry::Build(config_.models, *p.client_pool, &p.metrics);
  if (!models) return Error(models.error().code, "models: " + models.error().message);
  p.models = std::move(*models);
  if (!config_.mcp_servers.empty()) {
    p.mcp = std::make_shared<mcp::McpTools>(config_.mcp_servers, p.loops.loop(0).get_executor(),
                                            *p.client_pool, &p.metrics);
    mcp::McpTools* tools = p.mcp.get();
    p.health.AddDependencyProbe("mcp", [tools](std::string* why) { return tools->RequiredUp(why); });
  }
  // Runs resolve models and tools through a catalog a reload can replace (runtime/executor.hpp).
  p.executor = std::make_unique<runtime::GraphExecutor>(
      p.storage->checkpoints(),
      std::make_shared<const runtime::RunCatalog>(runtime::RunCatalog{p.models, config_.tools, p.mcp}),
      *p.client_pool);
  // The loops run from here: a Redis bus connects on them.
  p.loops.Start();
  p.loops_running = true;
  boost::asio::any_io_executor loop0 = p.loops.loop(0).get_executor();
  if (p.mcp) {
    // Connect every MCP server before serving, so the first runs find their tools; a server
    // that is slow or down does not hold the start past this bound (it keeps retrying).
    p.mcp->Start();
    if (!p.mcp->WaitFirstAttempts(std::chrono::seconds(15))) {
      observe::Logger("mcp")->warn("mcp: some servers did not answer within 15 s at start; "
                                   "their tools come when they do");
    }
  }
  if (config_.storage.bus == "inproc") {
    p.bus = bus::inproc::MakeInprocEventBus(&p.metrics, {}, config_.server.stream_retained_bytes);
    p.pubsub = bus::inproc::MakeInprocPubSub(loop0);
  } else {
#ifdef AGENTD_HAVE_REDIS
    // Blocks until Redis answers a PING (bounded by connect_timeout): start-up only.
    bus::redis::RedisOptions redis;
    redis.url = config_.storage.bus;
    auto bus = bus::redis::MakeRedisEventBus(redis, loop0, &p.metrics);
    if (!bus) {
      p.StopLoops();
      return Error(bus.error().code, "bus: " + bus.error().message);
    }
    p.bus = std::move(*bus);
    auto pubsub = bus::redis::MakeRedisPubSub(redis, loop0, &p.metrics);
    if (!pubsub) {
      p.StopLoops();
      return Error(pubsub.error().code, "bus: " + pubsub.error().message);
    }
    p.pubsub = std::move(*pubsub);
    bus::PubSub* link = p.pubsub.get();
    p.health.AddDependencyProbe("redis", [link](std::string* why) {
      if (link->healthy()) return true;
      *why = "the Redis link is down";
      return false;
    });
#else
    p.StopLoops();
    return Error(Errc::kInvalidArgument, "bus: this build has no Redis support (hiredis missing)");
#endif
  }
  p.run_executor = scheduler::MakeGraphRunExecutor(*p.executor);
  http::EventLoops* loops = &p.loops;
  scheduler::RunManagerOptions run_options;
  run_options.limits = config_.limits;
  run_options.metrics = &p.metrics;
  run_options.resume_on_start = config_.server.resume_on_start;
  run_options.drain_on_stop = config_.server.drain_on_stop;
  run_options.log_options.max_retained_bytes = config_.server.stream_log_max_bytes;
  run_options.log_options.subscriber_backlog_bytes = config_.server.stream_backlog_bytes;
  run_options.log_options.retention_after_close = config_.server.stream_retention;
  p.traces = std::make_unique<runtime::TraceStore>(config_.console.trace_max_runs,
                                                   config_.console.trace_max_bytes);
  run_options.traces = p.traces.get();
  if (!config_.otlp.endpoint.empty() && config_.console.trace_max_bytes > 0) {
    runtime::OtlpExporterOptions otlp;
    otlp.endpoint = config_.otlp.endpoint;
    otlp.headers = config_.otlp.headers;
    otlp.batch_size = config_.otlp.batch_size;
    otlp.queue_size = config_.otlp.queue_size;
    otlp.export_interval = config_.otlp.export_interval;
    otlp.timeout = config_.otlp.timeout;
    otlp.service_name = config_.otlp.service_name;
    otlp.service_version = AGENTD_VERSION;
    otlp.instance_id = instance_id;
    for (const auto& m : config_.models) otlp.models[m.name] = {m.provider, m.model};
    p.otlp = std::make_unique<runtime::OtlpExporter>(loop0, *p.client_pool, p.metrics,
                                                     std::move(otlp));
    p.otlp->Start();
    run_options.trace_exporter = p.otlp.get();
    spdlog::info("otlp: exporting run traces to {} (batch {}, queue {})", config_.otlp.endpoint,
                 config_.otlp.batch_size, config_.otlp.queue_size);
  }
  storage::RunLeases* leases = p.shared_storage->leases();
  if (config_.storage.bus != "inproc" && leases != nullptr) {
    // PostgreSQL + Redis: cluster mode, N identical instances (docs/scaling.md).
    scheduler::ClusterOptions cluster;
    cluster.leases = leases;
    cluster.pubsub = p.pubsub.get();
    cluster.instance_id = instance_id;
    cluster.lease = std::chrono::milliseconds(config_.storage.cluster_lease_ms);
    observe::Logger("cluster")->info("cluster mode: instance {} (lease {} ms)", cluster.instance_id,
                                     config_.storage.cluster_lease_ms);
    run_options.cluster = std::move(cluster);
  }
  std::unique_ptr<limits::Limiter> limiter = limits::MakeInProcessLimiter(config_.limits);
#ifdef AGENTD_HAVE_REDIS
  if (config_.storage.bus.rfind("redis://", 0) == 0) {
    // Limits shared by every instance on this Redis; in-process buckets while it is down.
    limits::redis::RedisLimiterOptions limiter_options;
    limiter_options.url = config_.storage.bus;
    auto redis_limiter =
        limits::redis::MakeRedisLimiter(config_.limits, limiter_options, loop0, p.metrics);
    if (!redis_limiter) {
      p.StopLoops();
      return Error(redis_limiter.error().code, "limits: " + redis_limiter.error().message);
    }
    limiter = std::move(*redis_limiter);
  }
  if (run_options.cluster && config_.storage.bus.rfind("redis://", 0) == 0) {
    // Tier concurrent-run quotas counted in Redis; per instance while it is down.
    limits::redis::RedisRunPermitsOptions permit_options;
    permit_options.url = config_.storage.bus;
    auto permits = limits::redis::MakeRedisRunPermits(permit_options, loop0, p.metrics);
    if (!permits) {
      p.StopLoops();
      return Error(permits.error().code, "run permits: " + permits.error().message);
    }
    p.permits = std::move(*permits);
    run_options.cluster->permits = p.permits.get();
  }
#endif
  p.gate = api::Gate::Make(config_, p.metrics, std::move(limiter));
  run_options.charge_tokens = [gate = p.gate](const std::string& tenant, const std::string& tier,
                                              std::int64_t tokens) {
    gate->limits().ChargeTokens(tenant, tier, static_cast<double>(tokens));
  };
  p.runs = std::make_unique<scheduler::RunManager>(
      *p.shared_storage, *p.graphs, *p.bus, *p.run_executor, p.client_pool.get(),
      [loops] { return boost::asio::any_io_executor(loops->Next().get_executor()); },
      std::move(run_options));
  if (p.runs->clustered()) {
    scheduler::RunManager* runs = p.runs.get();
    p.health.AddDependencyProbe("leases", [runs](std::string* why) {
      return runs->LeasesCurrent(why);
    });
  }
  p.context.emplace(api::ApiContext{*p.shared_storage, *p.graphs, config_, p.health, p.metrics,
                                    AGENTD_VERSION, p.runs.get(), p.executor.get(), p.gate});
  p.broadcast = std::make_unique<broadcast::Hub>(*p.pubsub, p.metrics);
  p.context->broadcast = p.broadcast.get();
  p.context->traces = p.traces.get();
  p.context->console_assets = LoadConsole(config_.console);
  if (config_.console.enabled) {
    p.ops = api::OpsSampler::Make(
        api::OpsSources{p.metrics, p.health, config_, p.runs.get(), p.broadcast.get(),
                        p.shared_storage.get(), AGENTD_VERSION, p.runs->instance_id()},
        config_.console.ops_interval);
    p.context->ops = p.ops;
    if (p.runs->clustered()) p.ops->StartCluster(*p.pubsub, loop0);
  }
  api::RegisterRoutes(p.router, *p.context);

  for (auto& probe : p.probes) probe->Start();

  // Start() runs on a thread that is not an event loop, so waiting here blocks no request.
  std::future<Status> ensured = boost::asio::co_spawn(
      p.loops.loop(0), api::EnsureSystemAssistants(*p.context), boost::asio::use_future);
  Status assistants = Error(Errc::kInternal, "EnsureSystemAssistants threw");
  try {
    assistants = ensured.get();
  } catch (const std::exception& e) {
    assistants = Error(Errc::kInternal, e.what());
  }
  if (!assistants) {
    p.StopLoops();
    return Error(assistants.error().code,
                 "creating system assistants failed: " + assistants.error().message);
  }

  // Runs a previous process left pending/running resume before anyone can ask for them.
  std::future<Result<std::size_t>> recovered = boost::asio::co_spawn(
      p.loops.loop(0), p.runs->Recover(), boost::asio::use_future);
  Result<std::size_t> recovery = Error(Errc::kInternal, "Recover threw");
  try {
    recovery = recovered.get();
  } catch (const std::exception& e) {
    recovery = Error(Errc::kInternal, e.what());
  }
  if (!recovery) {
    p.StopLoops();
    return Error(recovery.error().code, "recovering runs failed: " + recovery.error().message);
  }

  p.server = std::make_unique<http::Server>(ServerOptionsFrom(config_.server), p.loops, p.router,
                                            p.metrics);
  auto port = p.server->Start();
  if (!port) {
    p.server.reset();
    p.StopLoops();
    return Error(port.error().code, "cannot listen: " + port.error().message);
  }
  api::ThreadSweeperOptions sweep_options;
  sweep_options.interval = config_.server.thread_sweep_interval;
  p.sweeper = std::make_unique<api::ThreadSweeper>(
      boost::asio::any_io_executor(p.loops.loop(0).get_executor()), *p.shared_storage,
      p.runs.get(), p.metrics, sweep_options);
  p.sweeper->Start();
  // Webhooks that begin with "/" go to this server.
  p.runs->SetSelfBaseUrl(fmt::format("http://127.0.0.1:{}", *port));
  p.running = std::make_shared<const config::Config>(config_);
  for (const char* outcome : {"applied", "refused"}) {
    p.metrics.GetCounter("agentd_config_reloads_total",
                         "Configuration reloads (SIGHUP), by outcome", {{"outcome", outcome}});
  }
  return *port;
}

bool Application::Reload(const Result<config::Config>& candidate) {
  Parts& p = *parts_;
  auto log = observe::Logger("config");
  auto refuse = [&](const std::vector<std::string>& errors) {
    p.metrics.GetCounter("agentd_config_reloads_total", "Configuration reloads (SIGHUP), by outcome",
                         {{"outcome", "refused"}}).Inc();
    log->error("config reload refused, keeping the running configuration: errors={}", errors.size());
    for (const auto& e : errors) log->error("config reload refused: {}", e);
    return false;
  };
  if (!p.running || !p.gate || !p.runs || !p.executor) return refuse({"the server is not running"});
  if (!candidate) return refuse(config::SplitProblems(candidate.error().message));

  config::ReloadPlan plan = config::PlanReload(*p.running, *candidate);
  // The graph files, read again and validated against the new models and tools: every problem
  // of every file refuses the reload, and the running graphs stay (docs/graphs.md "Reload").
  std::optional<runtime::GraphRegistry> graphs;
  if (plan.errors.empty()) {
    graph::LoadedGraphs loaded = graph::LoadGraphFiles(plan.next);
    for (const auto& d : loaded.diags.items()) plan.errors.push_back("graph error: " + d.Format());
    if (loaded.diags.empty()) {
      auto built = runtime::GraphRegistry::FromConfig(plan.next, std::move(loaded.graphs));
      if (built) {
        graphs.emplace(std::move(*built));
      } else {
        plan.errors.push_back("graphs: " + built.error().message);
      }
    }
  }
  // Everything that can fail is built before anything is published, so a refusal changes
  // nothing: the models first (unchanged ones are shared with the running registry), then the
  // gate, which builds the new credentials and publishes them with the limits only if they build.
  std::shared_ptr<runtime::ModelRegistry> models;
  if (plan.errors.empty()) {
    auto current = p.executor->catalog();
    auto built = runtime::ModelRegistry::Build(plan.next.models, *p.client_pool, &p.metrics,
                                               current->models.get());
    if (built) {
      models = std::move(*built);
    } else {
      plan.errors.push_back(built.error().message);
    }
  }
  if (plan.errors.empty()) {
    if (auto gate = p.gate->Reload(plan.next); !gate) plan.errors.push_back(gate.error().message);
  }
  if (!plan.errors.empty()) return refuse(plan.errors);

  p.executor->SetCatalog(std::make_shared<const runtime::RunCatalog>(
      runtime::RunCatalog{std::move(models), plan.next.tools, p.mcp}));
  // New runs take the new graphs; runs under way hold the version they started with.
  const std::vector<std::string> refreshed = ChangedDefaults(*p.graphs, *graphs);
  const std::size_t graph_count = graphs->all().size();
  p.graphs->Replace(std::move(*graphs));
  log->info("config reload: graphs: {} loaded ({} new or with new defaults)", graph_count, refreshed.size());
  if (!refreshed.empty()) {
    // New graphs get their system assistant; changed defaults a new version of it. Reload runs
    // on the signal thread, never on a loop, so it may wait here.
    Status assistants = Error(Errc::kInternal, "EnsureSystemAssistants threw");
    try {
      assistants = boost::asio::co_spawn(p.loops.loop(0), api::EnsureSystemAssistants(*p.context, refreshed),
                                         boost::asio::use_future)
                       .get();
    } catch (const std::exception& e) {
      assistants = Error(Errc::kInternal, e.what());
    }
    if (!assistants) log->error("config reload: system assistants: {}", assistants.error().message);
  }
  p.runs->SetTiers(plan.next.limits.tiers, plan.next.limits.default_tier);
  if (plan.next.server.log_level != p.running->server.log_level) {
    observe::InitLogging(plan.next.server.log_level);
  }
  p.running = std::make_shared<const config::Config>(std::move(plan.next));
  p.metrics.GetCounter("agentd_config_reloads_total", "Configuration reloads (SIGHUP), by outcome",
                       {{"outcome", "applied"}}).Inc();
  log->info("config reload applied: source={} changes={} needs_restart={}", p.running->source,
            plan.applied.size(), plan.restart.size());
  for (const auto& line : plan.applied) log->info("config reload: {}", line);
  for (const auto& line : plan.restart) {
    log->warn("config reload: needs a restart, keeping the running value: {}", line);
  }
  return true;
}

void Application::Stop() {
  Parts& p = *parts_;
  p.health.SetDraining();
  // The sweeper stops first: it deletes through storage and asks the scheduler, both of which
  // outlive it, on a loop that is still running.
  if (p.sweeper && p.loops_running) p.sweeper->Stop();
  p.sweeper.reset();
  // Runs drain first (new ones refused with 503; executing ones get the grace period; the rest
  // stay pending/running in storage for the next start), so their streams close and the
  // server's drain below does not wait on them; the loops they run on are still alive.
  if (p.runs && p.loops_running) p.runs->Stop(config_.server.shutdown_grace);
  // MCP sessions end after the runs that used them (stdio children are killed).
  if (p.mcp) p.mcp->Stop();
  // Spans of the runs that just ended go out before the loops stop (bounded by otlp_timeout_ms).
  if (p.otlp && p.loops_running) p.otlp->Stop();
  // Broadcast followers and operations viewers end at once, so the server's drain is not held
  // up by them.
  if (p.broadcast) p.broadcast->Close();
  if (p.ops) p.ops->Stop();
  if (p.server) {
    p.server->Stop();
    p.server.reset();
  }
  p.StopLoops();
  p.context.reset();
  p.ops.reset();
  p.broadcast.reset();
  p.runs.reset();
  p.otlp.reset();
  p.traces.reset();
  p.run_executor.reset();
  p.pubsub.reset();
  p.bus.reset();
  p.executor.reset();
  p.mcp.reset();
  p.models.reset();
  p.client_pool.reset();
  p.shared_storage.reset();
  p.storage.reset();
}

}  // namespace agentd::app
