#pragma once
// A child process of the real binary (`agentd serve`, `agentd mock-llm`) for tests that drive
// agentd as a user runs it: argv and extra environment variables, stdout and stderr to a log
// file, the bound port read from its "listening on http://host:port" log line (so every
// child binds port 0), killed by pid when the object dies. Every wait is bounded.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace agentd::testing {

// Variables to set (a value) or remove (nullopt) in a child's environment.
using EnvOverrides = std::vector<std::pair<std::string, std::optional<std::string>>>;

class AgentdChild {
 public:
  // Starts `argv` (argv[0] is the executable's path) with the current environment and `env`,
  // writing its output to `log_path`.
  AgentdChild(std::vector<std::string> argv,
              EnvOverrides env, std::string log_path);
  ~AgentdChild() { Stop(); }
  AgentdChild(const AgentdChild&) = delete;
  AgentdChild& operator=(const AgentdChild&) = delete;

  // The port from the first "listening on http://<host>:<port>" line of the log, waiting at
  // most `bound`; nullopt if it did not appear (or the child exited first).
  std::optional<std::uint16_t> WaitListening(std::chrono::milliseconds bound);
  // Waits at most `bound` for the child to exit; its exit status, or nullopt.
  std::optional<int> WaitExit(std::chrono::milliseconds bound);
  // SIGTERM, then SIGKILL after a bound; reaps the child.
  void Stop();
  std::string Log() const;

 private:
  pid_t pid_ = -1;
  std::string log_path_;
};

// Runs `argv` to completion (at most `bound`) with the extra environment; exit status and the
// combined output. Status -1 when it had to be killed.
std::pair<int, std::string> RunToCompletion(std::vector<std::string> argv,
                                            EnvOverrides env,
                                            const std::string& log_path,
                                            std::chrono::milliseconds bound);

}  // namespace agentd::testing
