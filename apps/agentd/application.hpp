#pragma once
// The server's object graph, built from a Config in dependency order and taken down in
// reverse. The only place that names backends (storage factories) and ties subsystems
// together; no globals. `agentd serve` runs one until a termination signal; integration tests
// run one in-process on port 0.

#include <cstdint>
#include <memory>

#include "common/error.hpp"
#include "config/config.hpp"
#include "http/event_loops.hpp"
#include "observe/health.hpp"

namespace agentd::app {

class Application {
 public:
  // `config` must outlive the Application.
  explicit Application(const config::Config& config);
  ~Application();  // Stop()s if still running
  Application(const Application&) = delete;
  Application& operator=(const Application&) = delete;

  // Opens storage, builds the graph registry and routes, starts the loops and their probes,
  // creates the system assistants and starts listening. Returns the bound port; on failure
  // everything started so far is stopped again and the error names what failed.
  // Call from a thread that is not one of the loops (it waits for start-up work on them).
  Result<std::uint16_t> Start();
  // Readiness fails first (draining), then the server drains in-flight requests up to the
  // grace period, then loops stop and storage closes. Idempotent; not from a loop thread.
  void Stop();

  // A configuration reload (SIGHUP; docs/operations.md "Reload"): `candidate` is the config
  // loaded again (or why it did not load). Applies its live parts (config/reload.hpp: auth,
  // limits and tiers, models, tools, log level) and the graph files, read and validated again,
  // as new immutable snapshots that requests and runs starting from now on use, while those
  // under way finish with what they started with; logs every change (secrets masked) and every
  // setting that waits for a restart. Refused (nothing changes, every problem logged) when it
  // does not load, does not fit the inline graphs, or a graph file has any error. Counts agentd_config_reloads_total{outcome="applied"|"refused"}. Returns whether
  // it applied. After Start(), from the thread that calls Start and Stop.
  bool Reload(const Result<config::Config>& candidate);

  http::EventLoops& loops();
  observe::Health& health();

 private:
  struct Parts;
  const config::Config& config_;
  std::unique_ptr<Parts> parts_;
};

}  // namespace agentd::app
