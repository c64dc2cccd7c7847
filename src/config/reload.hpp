#pragma once
// What a configuration reload (SIGHUP; docs/operations.md "Reload") may change in a running
// server, worked out as a plain function so a table test can drive it.
//
// Live (the next request or run uses the new value): auth (mode, API keys, JWT settings), the
// request limits (per_ip_*, per_key_*, default_tier, the tiers: rates, token budgets,
// max_concurrent_runs, max_queued_runs, priority), the models and the tools, and the log
// level. Everything else (listen address and port, threads, storage, bus, data_dir, body and
// header limits, timeouts, max_connections, CORS, max_active_runs, max_queued_runs,
// run_timeout_ms, queue_timeout_ms, the inline graphs, graphs_dir, ...) needs a restart: a
// reload reports its change and keeps the running value. A field added to Config later is
// restart-only until someone adds it here, which keeps that the safe default. The graph
// files (`graph_files`, and the files in graphs_dir) are read again by the caller
// (apps/agentd Application::Reload), which refuses the reload on any of their errors.
//
// Refused (nothing changes): the inline graphs would lose a model or tool they name, or the
// new file does not load (LoadConfig's errors).

#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace agentd::config {

struct ReloadPlan {
  // What to run with: `running` with the live parts of the new configuration.
  Config next;
  // One line per live change, secrets masked ("auth.api_keys: added sha256:1a2b3c4d... tenant=acme").
  std::vector<std::string> applied;
  // One line per change that waits for a restart ("server.port: 8123 -> 9000").
  std::vector<std::string> restart;
  // Non-empty: the reload is refused, every problem listed; `next` is then meaningless.
  std::vector<std::string> errors;
};

// `candidate`: the configuration loaded again from the same file, environment and flags
// (LoadConfig succeeded on it).
ReloadPlan PlanReload(const Config& running, const Config& candidate);

// Whether a setting of the table (settings.hpp) takes effect on reload.
bool ReloadsLive(std::string_view setting_name);

}  // namespace agentd::config
