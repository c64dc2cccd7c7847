#include "wiring.hpp"

#include <csignal>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "application.hpp"
#include "commands.hpp"
#include "config/environment.hpp"
#include "config/loader.hpp"
#include "observe/log.hpp"

namespace agentd::app {

int Serve(const config::Config& config, TerminationSignals& signals,
          const std::function<Result<config::Config>()>& reload) {
  observe::InitLogging(config.server.log_level);
  auto log = observe::Logger("agentd");
  log->info("agentd {} starting config={} threads={} storage={}", kVersion, config.source,
            config.server.threads, config.storage.url);
  Application app(config);
  auto port = app.Start();
  if (!port) {
    log->error("start-up failed: {}", port.error().message);
    return 1;
  }
  log->info("agentd listening on http://{}:{}", config.server.host, *port);

  int signal = signals.Wait();
  while (signal == SIGHUP) {
    log->info("reloading the configuration signal=SIGHUP source={}", config.source);
    app.Reload(reload());
    signal = signals.Wait();
  }
  log->info("shutting down signal={} grace_ms={}", signal, config.server.shutdown_grace.count());
  app.Stop();
  log->info("agentd stopped");
  return 0;
}

int RunServe(std::span<const std::string> args) {
  TerminationSignals signals(/*catch_hangup=*/true);
  auto loaded = config::LoadConfig(args, config::Environment::FromProcess());
  if (!loaded) {
    fmt::print(stderr, "config error: {}\n", loaded.error().message);
    return 1;
  }
  // A reload reads the same file with the same flags and environment: flags and AGENTD_*
  // variables still win over the file, as at start.
  std::vector<std::string> kept(args.begin(), args.end());
  return Serve(*loaded, signals, [kept] {
    return config::LoadConfig(kept, config::Environment::FromProcess());
  });
}

}  // namespace agentd::app
