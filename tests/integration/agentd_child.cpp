#include "agentd_child.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace agentd::testing {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

extern "C" char** environ;

pid_t Spawn(std::vector<std::string> argv, const EnvOverrides& env, const std::string& log_path) {
  // Everything is built before fork: the parent has threads (the test's servers), so the child
  // may only make async-signal-safe calls until exec.
  std::vector<std::string> vars;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string var(*e);
    const std::string name = var.substr(0, var.find('='));
    bool replaced = false;
    for (const auto& [n, v] : env) replaced = replaced || n == name;
    if (!replaced) vars.push_back(var);
  }
  for (const auto& [name, value] : env) {
    if (value) vars.push_back(name + "=" + *value);
  }
  std::vector<char*> envp;
  for (auto& v : vars) envp.push_back(v.data());
  envp.push_back(nullptr);
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);

  // Truncated before the fork, so a wait in the parent never reads what an earlier child left
  // in the same file (a restart reusing the log path would see the old "listening on" port).
  const int truncated = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (truncated >= 0) ::close(truncated);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid != 0) return pid;
  const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd >= 0) {
    ::dup2(fd, STDOUT_FILENO);
    ::dup2(fd, STDERR_FILENO);
    ::close(fd);
  }
  ::execve(args[0], args.data(), envp.data());
  ::_exit(127);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

AgentdChild::AgentdChild(std::vector<std::string> argv, EnvOverrides env, std::string log_path)
    : log_path_(std::move(log_path)) {
  pid_ = Spawn(std::move(argv), env, log_path_);
}

std::optional<std::uint16_t> AgentdChild::WaitListening(std::chrono::milliseconds bound) {
  static const std::regex kListening(R"(listening on http://[^:/\s]+:(\d+))");
  const auto deadline = Clock::now() + bound;
  while (Clock::now() < deadline) {
    std::smatch m;
    const std::string log = ReadFile(log_path_);
    if (std::regex_search(log, m, kListening)) {
      return static_cast<std::uint16_t>(std::stoi(m[1].str()));
    }
    if (pid_ > 0 && ::waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;  // exited before listening
      return std::nullopt;
    }
    std::this_thread::sleep_for(20ms);  // polling a file; the bound is the deadline above
  }
  return std::nullopt;
}

std::size_t AgentdChild::WaitForLog(const std::string& needle, std::size_t from,
                                    std::chrono::milliseconds bound) const {
  const auto deadline = Clock::now() + bound;
  do {
    const std::string log = Log();
    if (const auto at = log.find(needle, std::min(from, log.size())); at != std::string::npos) {
      return at + needle.size();
    }
    std::this_thread::sleep_for(20ms);  // polling a file; the bound is the deadline above
  } while (Clock::now() < deadline);
  return std::string::npos;
}

std::optional<int> AgentdChild::WaitExit(std::chrono::milliseconds bound) {
  if (pid_ <= 0) return std::nullopt;
  const auto deadline = Clock::now() + bound;
  while (Clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    std::this_thread::sleep_for(10ms);
  }
  return std::nullopt;
}

void AgentdChild::Signal(int signal) const {
  if (pid_ > 0) ::kill(pid_, signal);
}

int AgentdChild::Stop(int signal, std::chrono::milliseconds bound) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, signal);
  if (auto status = WaitExit(bound)) return *status;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
  return -1;
}

void AgentdChild::Stop() {
  if (pid_ > 0) Stop(SIGTERM, 20s);
}

std::string AgentdChild::Log() const { return ReadFile(log_path_); }

std::pair<int, std::string> RunToCompletion(std::vector<std::string> argv, EnvOverrides env,
                                            const std::string& log_path,
                                            std::chrono::milliseconds bound) {
  AgentdChild child(std::move(argv), std::move(env), log_path);
  auto status = child.WaitExit(bound);
  if (!status) child.Stop();
  return {status.value_or(-1), child.Log()};
}

std::string RawExchange(std::uint16_t port, const std::string& bytes,
                        std::chrono::milliseconds bound) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  timeval tv{};
  tv.tv_sec = static_cast<long>(bound.count() / 1000);
  tv.tv_usec = static_cast<long>(bound.count() % 1000) * 1000;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    throw std::runtime_error("connect failed");
  }
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const auto n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  std::string out;
  char buf[4096];
  const auto deadline = Clock::now() + bound;
  while (Clock::now() < deadline) {
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;  // closed, reset, or the receive timeout
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

}  // namespace agentd::testing
