#pragma once
// A throwaway redis-server on a free loopback port, for tests that restart Redis under a
// live client (the shared with-services instance must not be killed).

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "bus/redis/redis_event_bus.hpp"

namespace agentd::bus::redis::testing {

inline bool HaveRedisServer() {
  return std::system("command -v redis-server > /dev/null 2>&1") == 0;
}

inline int FreePort() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

inline pid_t StartRedis(int port) {
  pid_t pid = ::fork();
  if (pid == 0) {
    // Not the test's stdout: a pipe reader would otherwise wait for redis-server too.
    if (int null = ::open("/dev/null", O_WRONLY); null >= 0) {
      ::dup2(null, 1);
      ::dup2(null, 2);
    }
    std::string p = std::to_string(port);
    ::execlp("redis-server", "redis-server", "--port", p.c_str(), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--loglevel", "warning", nullptr);
    ::_exit(127);
  }
  return pid;
}

inline bool WaitForRedis(const std::string& url) {
  for (int i = 0; i < 200; ++i) {  // 10 s at most
    if (TEST_RedisCommand(url, {"PING"})) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

inline void StopRedis(pid_t pid) {
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}

// Kills the server when the test returns early.
struct RedisReaper {
  pid_t& pid;
  ~RedisReaper() {
    if (pid > 0) StopRedis(pid);
  }
};

}  // namespace agentd::bus::redis::testing
