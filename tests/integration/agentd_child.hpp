#pragma once
// `build/agentd serve` as a child process for tests that must go through the real binary
// (signals, the config file, raw sockets): its stdout and stderr go to a log file the test
// reads, the listening port is read from the log (so it can bind port 0), every wait is
// bounded, and the child is always ended by its pid (RAII). The binary's path comes from
// AGENTD_BINARY ($<TARGET_FILE:agentd>).

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace agentd::testing {

class AgentdChild {
 public:
  // Starts `agentd <args...>` with its output appended to `log_path`.
  AgentdChild(std::vector<std::string> args, std::string log_path);
  ~AgentdChild();  // SIGKILL if still running
  AgentdChild(const AgentdChild&) = delete;
  AgentdChild& operator=(const AgentdChild&) = delete;

  // Waits (bounded) for "agentd listening on http://127.0.0.1:<port>" in the log; 0 on timeout.
  std::uint16_t WaitListening(std::chrono::seconds bound);
  // Waits (bounded) until the log holds `needle` at or after byte `from`; returns the offset
  // just past the match, or std::string::npos on timeout.
  std::size_t WaitForLog(const std::string& needle, std::size_t from, std::chrono::seconds bound) const;
  std::string Log() const;

  void Signal(int signal) const;
  // Sends `signal` and waits (bounded) for the exit; returns the exit status, or -1 if it had
  // to be killed.
  int Stop(int signal, std::chrono::seconds bound);
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  std::string log_path_;
};

// A raw exchange on a fresh loopback connection: writes `bytes`, then reads until the server
// closes (or `bound` passes) and returns what it wrote.
std::string RawExchange(std::uint16_t port, const std::string& bytes, std::chrono::seconds bound);

}  // namespace agentd::testing
