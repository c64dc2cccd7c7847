#pragma once
// A child process of the real binary (`agentd serve`, `agentd mock-llm`) for tests that drive
// agentd as a user runs it (signals, the config file, raw sockets): argv and extra environment
// variables, stdout and stderr to a log file the test reads, the bound port read from its
// "listening on http://host:port" log line (so every child binds port 0), ended by its pid when
// the object dies. Every wait is bounded. Tests pass the binary's path as argv[0]
// (AGENTD_BINARY = $<TARGET_FILE:agentd>).

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
  // writing its output to `log_path` (truncated).
  AgentdChild(std::vector<std::string> argv, EnvOverrides env, std::string log_path);
  ~AgentdChild() { Stop(); }
  AgentdChild(const AgentdChild&) = delete;
  AgentdChild& operator=(const AgentdChild&) = delete;

  // The port from the first "listening on http://<host>:<port>" line of the log, waiting at
  // most `bound`; nullopt if it did not appear (or the child exited first).
  std::optional<std::uint16_t> WaitListening(std::chrono::milliseconds bound);
  // Waits at most `bound` until the log holds `needle` at or after byte `from`; the offset just
  // past the match, or std::string::npos.
  std::size_t WaitForLog(const std::string& needle, std::size_t from,
                         std::chrono::milliseconds bound) const;
  // Waits at most `bound` for the child to exit; its exit status (-1 when killed by a signal),
  // or nullopt.
  std::optional<int> WaitExit(std::chrono::milliseconds bound);
  void Signal(int signal) const;
  // Sends `signal`, waits at most `bound` for the exit and returns its status; -1 if it had to
  // be killed.
  int Stop(int signal, std::chrono::milliseconds bound);
  // SIGTERM, then SIGKILL after a bound; reaps the child. Nothing when it already exited.
  void Stop();
  std::string Log() const;
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  std::string log_path_;
};

// Runs `argv` to completion (at most `bound`) with the extra environment; exit status and the
// combined output. Status -1 when it had to be killed.
std::pair<int, std::string> RunToCompletion(std::vector<std::string> argv, EnvOverrides env,
                                            const std::string& log_path,
                                            std::chrono::milliseconds bound);

// A raw exchange on a fresh loopback connection: writes `bytes`, then reads until the server
// closes (or `bound` passes) and returns what it wrote.
std::string RawExchange(std::uint16_t port, const std::string& bytes,
                        std::chrono::milliseconds bound);

}  // namespace agentd::testing
