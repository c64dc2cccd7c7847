#pragma once
// The LangGraph Agent Server HTTP API (shared/docs/agent-protocol.md) on top of storage and
// runtime. RegisterRoutes() adds every endpoint to the router; handlers validate input (400
// naming the field, nothing written), call storage, and shape responses exactly as the
// official SDKs expect. errors.hpp is the one place that maps Errc to status and body.

#include <memory>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "config/config.hpp"
#include "http/router.hpp"
#include "observe/health.hpp"
#include "observe/metrics.hpp"
#include "runtime/executor.hpp"
#include "runtime/graph_registry.hpp"
#include "scheduler/run_manager.hpp"
#include "storage/storage.hpp"

namespace agentd::broadcast {
class Hub;  // broadcast/hub.hpp
}  // namespace agentd::broadcast
namespace agentd::runtime {
class TraceStore;  // runtime/run_trace.hpp
}  // namespace agentd::runtime

namespace agentd::api {

class Gate;           // gate.hpp
class ConsoleAssets;  // console_assets.hpp
class OpsSampler;     // ops_sampler.hpp

struct ApiContext {
  storage::Storage& storage;
  const runtime::GraphRegistry& graphs;
  const config::Config& config;
  observe::Health& health;
  observe::Metrics& metrics;
  std::string version;
  // Runs (scheduler). A pointer so that contexts built without a scheduler (api unit tests)
  // still compile; the run endpoints answer 503 while it is null.
  scheduler::RunManager* runs = nullptr;
  // updateState (POST /threads/{id}/state); 503 while null.
  runtime::GraphExecutor* executor = nullptr;
  // Auth and rate limits in front of every handler (gate.hpp). RegisterRoutes builds it from
  // `config` when left null.
  std::shared_ptr<Gate> gate;
  // Broadcast channels (/broadcast/...); those routes answer 503 while it is null.
  broadcast::Hub* broadcast = nullptr;
  // The console (console_handlers.cpp, docs/console.md): its files (null: not installed, and
  // /console/ says how to build it), the operations sampler (null: the ops routes answer 503)
  // and the run traces (null: every trace is 404).
  std::shared_ptr<const ConsoleAssets> console_assets;
  std::shared_ptr<OpsSampler> ops;
  runtime::TraceStore* traces = nullptr;
};

// `context` must outlive the router's use.
void RegisterRoutes(http::Router& router, ApiContext& context);

// Creates the system assistant of every registered graph (if_exists: do_nothing), so they
// exist from start-up and survive restarts. After a graph reload, `refresh` names the graphs
// whose defaults (config, context, description) changed: their system assistants get a new
// version with the graph's new values when theirs differ.
boost::asio::awaitable<Status> EnsureSystemAssistants(ApiContext& context,
                                                      std::vector<std::string> refresh = {});

}  // namespace agentd::api
