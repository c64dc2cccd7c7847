#include "mcp/stdio_transport.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

#include "observe/log.hpp"

namespace agentd::mcp {

namespace asio = boost::asio;

namespace {

using Queue = asio::experimental::concurrent_channel<void(boost::system::error_code, std::string)>;

class StdioTransport final : public Transport, public std::enable_shared_from_this<StdioTransport> {
 public:
  StdioTransport(config::McpServerSpec spec, asio::any_io_executor strand, std::size_t max_line)
      : spec_(std::move(spec)),
        strand_(std::move(strand)),
        max_line_(max_line),
        reader_(strand_),
        writer_(strand_),
        exit_(strand_),
        queue_(strand_, 1024) {}

  ~StdioTransport() override { KillGroup(); }

  Status Open(TransportCallbacks callbacks) override {
    callbacks_ = std::move(callbacks);
    int in[2] = {-1, -1};
    int out[2] = {-1, -1};
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) {
      const int err = errno;
      for (int fd : {in[0], in[1], out[0], out[1]}) {
        if (fd >= 0) ::close(fd);
      }
      return Error(Errc::kUnavailable, fmt::format("pipe: {}", std::strerror(err)));
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    if (!spec_.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, spec_.cwd.c_str());
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setpgroup(&attr, 0);
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGTERM);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGHUP);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF |
                                        POSIX_SPAWN_SETSIGMASK);
    std::vector<char*> argv;
    argv.push_back(spec_.command.data());
    for (auto& a : spec_.args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (auto& e : spec_.child_env) envp.push_back(e.data());
    envp.push_back(nullptr);
    pid_t pid = 0;
    // posix_spawnp searches agentd's PATH for the command (the child's PATH is the same).
    const int rc = posix_spawnp(&pid, spec_.command.c_str(), &actions, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    ::close(in[0]);
    ::close(out[1]);
    if (rc != 0) {
      ::close(in[1]);
      ::close(out[0]);
      return Error(Errc::kUnavailable,
                   fmt::format("cannot start \"{}\": {}", spec_.command, std::strerror(rc)));
    }
    pid_.store(pid);
    fcntl(in[1], F_SETFL, fcntl(in[1], F_GETFL) | O_NONBLOCK);
    fcntl(out[0], F_SETFL, fcntl(out[0], F_GETFL) | O_NONBLOCK);
    writer_.assign(in[1]);
    reader_.assign(out[0]);
    const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
    if (pidfd >= 0) exit_.assign(pidfd);
    auto self = shared_from_this();
    asio::co_spawn(strand_, ReadLoop(self), asio::detached);
    asio::co_spawn(strand_, WriteLoop(self), asio::detached);
    return {};
  }

  asio::awaitable<Status> Send(std::string message, std::optional<std::int64_t>) override {
    if (closed_.load()) co_return Error(Errc::kUnavailable, "the server process is not running");
    message.push_back('\n');
    if (!queue_.try_send(boost::system::error_code{}, std::move(message))) {
      co_return Error(Errc::kResourceExhausted, "the write queue to the server is full (1024)");
    }
    co_return Status{};
  }

  void Close() override {
    KillGroup();
    asio::post(strand_, [self = shared_from_this()] {
      boost::system::error_code ec;
      self->reader_.cancel(ec);
      self->writer_.cancel(ec);
      self->queue_.close();
    });
  }

  int pid() const override { return closed_.load() ? 0 : pid_.load(); }

 private:
  void KillGroup() {
    const int pid = pid_.load();
    if (pid > 0 && !reaped_.load()) ::kill(-pid, SIGKILL);
  }

  static asio::awaitable<void> WriteLoop(std::shared_ptr<StdioTransport> self) {
    while (true) {
      auto [ec, line] = co_await self->queue_.async_receive(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      auto [wec, n] = co_await asio::async_write(self->writer_, asio::buffer(line),
                                                 asio::as_tuple(asio::use_awaitable));
      (void)n;
      if (wec) co_return;  // the reader sees the exit and reports it
    }
  }

  static asio::awaitable<void> ReadLoop(std::shared_ptr<StdioTransport> self) {
    LineSplitter splitter(self->max_line_);
    std::array<char, 64 * 1024> buffer;
    std::vector<std::string> lines;
    std::vector<LineSplitter::Oversized> oversized;
    std::string why = "stdout closed";
    while (true) {
      auto [ec, n] = co_await self->reader_.async_read_some(asio::buffer(buffer),
                                                            asio::as_tuple(asio::use_awaitable));
      if (ec) {
        if (ec == asio::error::operation_aborted) why = "closed by agentd";
        break;
      }
      lines.clear();
      oversized.clear();
      splitter.Feed(std::string_view(buffer.data(), n), lines, oversized);
      for (auto& o : oversized) self->callbacks_.on_oversized(o.id, o.bytes);
      for (auto& line : lines) {
        auto message = ParseMessage(line);
        if (!message) {
          self->callbacks_.on_garbage(message.error().message);
          continue;
        }
        self->callbacks_.on_message(std::move(*message));
      }
    }
    self->closed_.store(true);
    self->queue_.close();
    boost::system::error_code ignored;
    self->writer_.close(ignored);
    self->reader_.close(ignored);
    // The child closed stdout: it is exiting or should. Kill the group, then reap.
    self->KillGroup();
    if (self->exit_.is_open()) {
      co_await self->exit_.async_wait(asio::posix::stream_descriptor::wait_read,
                                      asio::as_tuple(asio::use_awaitable));
    }
    int status = 0;
    const pid_t got = ::waitpid(self->pid_.load(), &status, WNOHANG);
    self->reaped_.store(got > 0);
    self->exit_.close(ignored);
    if (got > 0 && WIFEXITED(status)) {
      why += fmt::format(", exit code {}", WEXITSTATUS(status));
    } else if (got > 0 && WIFSIGNALED(status)) {
      why += fmt::format(", killed by signal {}", WTERMSIG(status));
    }
    self->callbacks_.on_closed(std::move(why));
  }

  config::McpServerSpec spec_;
  asio::any_io_executor strand_;
  std::size_t max_line_;
  TransportCallbacks callbacks_;
  asio::posix::stream_descriptor reader_;
  asio::posix::stream_descriptor writer_;
  asio::posix::stream_descriptor exit_;  // pidfd
  Queue queue_;
  std::atomic<int> pid_{0};
  std::atomic<bool> closed_{false};
  std::atomic<bool> reaped_{false};
};

}  // namespace

std::shared_ptr<Transport> MakeStdioTransport(const config::McpServerSpec& spec,
                                              asio::any_io_executor strand,
                                              std::size_t max_line_bytes) {
  return std::make_shared<StdioTransport>(spec, std::move(strand), max_line_bytes);
}

}  // namespace agentd::mcp
