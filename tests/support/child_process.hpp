#pragma once
// A child process for tests that drive the real binary (`agentd serve`, `agentd config`,
// `agentd mock-llm`): started with fork/execv, stdout and stderr captured to files, always
// killed by its pid and reaped (RAII). Every wait is bounded.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace agentd::testing {

class ChildProcess {
 public:
  // `argv[0]` is the binary's path; output goes to files under `output_dir`.
  ChildProcess(std::vector<std::string> argv, const std::filesystem::path& output_dir,
               std::vector<std::string> extra_env = {});
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // The exit status once the child has exited within `bound` (nullopt: still running).
  std::optional<int> WaitExit(std::chrono::milliseconds bound);
  // Sends `signal` and reaps (SIGKILL after 20 s).
  void Kill(int signal);
  bool running() const { return pid_ > 0; }
  std::string Stdout() const;
  std::string Stderr() const;

 private:
  pid_t pid_ = -1;
  std::filesystem::path out_;
  std::filesystem::path err_;
};

// A loopback port that was free a moment ago (a child binds it right after).
std::uint16_t FreePort();

// Polls GET `path` on 127.0.0.1:`port` until it answers 200 or `bound` passes.
bool WaitHttpOk(std::uint16_t port, const std::string& path, std::chrono::milliseconds bound);

}  // namespace agentd::testing
