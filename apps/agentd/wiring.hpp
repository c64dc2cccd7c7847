#pragma once
// Builds the server's object graph from a Config, in dependency order, runs it until a
// termination signal, and takes it down in reverse. The only place that names backends
// (storage factories) and ties subsystems together; no globals.

#include "config/config.hpp"

namespace agentd::app {

class TerminationSignals;

// Returns the process exit code: 0 after a clean shutdown, 1 when start-up failed (logged).
int Serve(const config::Config& config, TerminationSignals& signals);

}  // namespace agentd::app
