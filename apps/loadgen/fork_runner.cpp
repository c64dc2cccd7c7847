#include "loadgen/fork_runner.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include <boost/json.hpp>

namespace agentd::loadgen {

namespace {

void WriteAll(int fd, const std::string& text) {
  std::size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n <= 0) return;
    off += static_cast<std::size_t>(n);
  }
}

std::string ReadAll(int fd) {
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

}  // namespace

Report RunForked(int procs, const std::function<Report(int index)>& work) {
  if (procs <= 1) return work(0);
  std::fflush(nullptr);  // do not duplicate buffered output into the children
  std::vector<std::pair<pid_t, int>> children;
  Report merged;
  for (int i = 0; i < procs; ++i) {
    int fds[2];
    if (::pipe(fds) != 0) {
      merged.Fail("client_process");
      continue;
    }
    pid_t pid = ::fork();
    if (pid == 0) {
      ::close(fds[0]);
      Report r = work(i);
      WriteAll(fds[1], boost::json::serialize(r.ToJson()));
      ::close(fds[1]);
      std::fflush(nullptr);
      ::_exit(0);
    }
    ::close(fds[1]);
    if (pid < 0) {
      ::close(fds[0]);
      merged.Fail("client_process");
      continue;
    }
    children.emplace_back(pid, fds[0]);
  }
  for (auto [pid, fd] : children) {
    std::string text = ReadAll(fd);
    ::close(fd);
    int status = 0;
    ::waitpid(pid, &status, 0);
    boost::system::error_code ec;
    auto value = boost::json::parse(text, ec);
    auto report = ec ? Result<Report>(MakeError(Errc::kInternal, "parse")) : Report::FromJson(value);
    if (!report || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      merged.Fail("client_process");
      continue;
    }
    merged.Merge(*report);
  }
  return merged;
}

}  // namespace agentd::loadgen
