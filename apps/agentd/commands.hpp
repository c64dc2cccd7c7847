#pragma once
// The subcommands of the agentd binary. Each takes the arguments after its name and returns
// the process exit code. main.cpp only dispatches.

#include <memory>
#include <span>
#include <string>

namespace agentd::app {

inline constexpr const char* kVersion = AGENTD_VERSION;

// `agentd serve [settings]`: the server (wiring.cpp).
int RunServe(std::span<const std::string> args);
// `agentd mock-llm [--host H] [--port N] [--latency-ms N] [--slow-ms N] [--chunks N] [--threads N]`.
int RunMockLlm(std::span<const std::string> args);
// `agentd config [--validate FILE | --markdown] [settings]`.
int RunConfig(std::span<const std::string> args);
// `agentd loadgen <scenario> [flags]`: load generator (apps/loadgen).
int RunLoadgen(std::span<const std::string> args);

std::string MainHelp();
std::string ServeHelp();
std::string MockLlmHelp();
std::string ConfigHelp();
std::string LoadgenHelp();  // apps/loadgen/command.cpp

// Catches SIGINT and SIGTERM (and SIGHUP with `catch_hangup`: `agentd serve` reloads its
// configuration on it) from construction on, so a signal during start-up is not lost and does
// not kill the process mid-start; Wait() blocks the calling (main) thread until one arrives
// and returns its number; call it again for the next one. The main thread is not an event
// loop, so blocking is fine.
class TerminationSignals {
 public:
  explicit TerminationSignals(bool catch_hangup = false);
  ~TerminationSignals();
  TerminationSignals(const TerminationSignals&) = delete;
  TerminationSignals& operator=(const TerminationSignals&) = delete;
  int Wait();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace agentd::app
