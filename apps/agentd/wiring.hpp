#pragma once
// Builds the server's object graph from a Config, in dependency order, runs it until a
// termination signal (reloading the configuration on SIGHUP), and takes it down in reverse. The only place that names backends
// (storage factories) and ties subsystems together; no globals.

#include <functional>

#include "common/error.hpp"
#include "config/config.hpp"

namespace agentd::app {

class TerminationSignals;

// Returns the process exit code: 0 after a clean shutdown, 1 when start-up failed (logged).
// On SIGHUP (when `signals` catches it) the configuration is loaded again with `reload` and
// applied (Application::Reload); the server keeps running either way.
int Serve(const config::Config& config, TerminationSignals& signals,
          const std::function<Result<config::Config>()>& reload);

}  // namespace agentd::app
