#include "api_world.hpp"

#include <exception>
#include <stdexcept>

#include <boost/asio/co_spawn.hpp>
#include <boost/json/parse.hpp>
#include <spdlog/spdlog.h>

#include "bus/inproc/inproc_event_bus.hpp"
#include "common/uuid.hpp"
#include "config/config.hpp"
#include "observe/health.hpp"
#include "observe/log.hpp"
#include "observe/metrics.hpp"
#include "runtime/graph_registry.hpp"
#include "scheduler/run_executor.hpp"
#include "scheduler/run_manager.hpp"
#include "storage/memory/memory_storage.hpp"

namespace agentd::fuzz {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr int kCallsPerWorld = 4096;

// Finishes every run at once with its input as values: the fuzzers target request parsing and
// validation, not graph execution.
class InstantExecutor final : public scheduler::RunExecutor {
 public:
  asio::awaitable<runtime::RunOutcome> Execute(const runtime::GraphInfo&,
                                               runtime::RunRequest request,
                                               runtime::RunEventSink&) override {
    runtime::RunOutcome outcome;
    outcome.values = json::object{{"run_id", request.run_id}};
    co_return outcome;
  }
};

config::Config FuzzConfig() {
  config::Config c;
  config::ModelSpec model;
  model.name = "mock";
  model.provider = "mock";
  c.models.push_back(model);
  config::GraphSpec agent;
  agent.graph_id = "agent";
  agent.kind = "react";
  agent.model = "mock";
  c.graphs.push_back(agent);
  config::GraphSpec echo;
  echo.graph_id = "echo";
  echo.kind = "echo";
  c.graphs.push_back(echo);
  c.server.dev_endpoints = true;
  return c;
}

}  // namespace

struct ApiWorld::Parts {
  config::Config config = FuzzConfig();
  runtime::GraphRegistry graphs = runtime::GraphRegistry::FromConfig(config).value();
  std::unique_ptr<storage::Storage> storage = storage::MakeMemoryStorage();
  observe::Health health{1, std::chrono::seconds(60)};
  observe::Metrics metrics;
  std::unique_ptr<bus::EventBus> bus = bus::inproc::MakeInprocEventBus();
  InstantExecutor executor;
  std::unique_ptr<scheduler::RunManager> runs;
  std::unique_ptr<api::ApiContext> ctx;
};

void QuietLogs() {
  spdlog::set_level(spdlog::level::off);
  observe::InitLogging("off");
}

ApiWorld::ApiWorld() : parts_(std::make_unique<Parts>()) {
  QuietLogs();
  auto& p = *parts_;
  p.runs = std::make_unique<scheduler::RunManager>(
      *p.storage, p.graphs, *p.bus, p.executor, nullptr,
      [this] { return asio::any_io_executor(io_.get_executor()); });
  p.ctx = std::make_unique<api::ApiContext>(
      api::ApiContext{*p.storage, p.graphs, p.config, p.health, p.metrics, "0.1.0-fuzz"});
  p.ctx->runs = p.runs.get();
  api::RegisterRoutes(router_, *p.ctx);

  std::exception_ptr error;
  asio::co_spawn(io_, api::EnsureSystemAssistants(*p.ctx), [&](std::exception_ptr e, Status s) {
    if (e) error = e;
    else if (!s) error = std::make_exception_ptr(std::runtime_error(s.error().message));
  });
  io_.run();
  if (error) std::rethrow_exception(error);

  http::Request create;
  create.method = http::Method::kPost;
  create.target = create.path = "/threads";
  auto created = Call(create);
  auto parsed = json::parse(created.body);
  thread_id_ = std::string(parsed.at("thread_id").as_string());
}

ApiWorld::~ApiWorld() = default;

http::Response ApiWorld::Call(http::Request& request) {
  auto match = router_.Find(request);
  if (match.handler == nullptr) return http::Response::Text(match.status, "");
  http::Response response;
  std::exception_ptr error;
  bool done = false;
  asio::co_spawn(io_, (*match.handler)(request), [&](std::exception_ptr e, http::Response r) {
    error = e;
    response = std::move(r);
    done = true;
  });
  io_.restart();
  io_.run();  // also runs the lifecycles of the runs the handler created, to their end
  // A handler that throws is a 500 in production (session.cpp catches it), and a bug.
  if (error) std::rethrow_exception(error);
  if (!done) throw std::logic_error("handler did not complete on an idle io_context");
  return response;
}

ApiWorld& World() {
  static std::unique_ptr<ApiWorld> world;
  static int calls = 0;
  if (!world || ++calls % kCallsPerWorld == 0) {
    world.reset();
    world = std::make_unique<ApiWorld>();
  }
  return *world;
}

}  // namespace agentd::fuzz
