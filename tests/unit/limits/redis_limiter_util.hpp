#pragma once
// Shared by the Redis limiter tests: an event loop for the limiters' connections, unique key
// prefixes, and the metrics the limiter reports its degraded mode with.
#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "observe/metrics.hpp"

namespace agentd::limits::redis::testing {

// An io_context on a thread: the limiters' executor (as an event loop of the server).
struct Loop {
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work =
      boost::asio::make_work_guard(io);
  std::thread thread{[this] { io.run(); }};
  ~Loop() {
    work.reset();
    thread.join();
  }
};

// Keys of one test never meet another's (or another run's) on a shared Redis.
inline std::string UniquePrefix(const std::string& tag) {
  static std::atomic<int> n{0};
  return "agentd-test:" + tag + ":" + std::to_string(::getpid()) + ":" + std::to_string(n++) +
         ":" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()) + ":";
}

inline std::uint64_t FallbackTotal(observe::Metrics& m) {
  return m.GetCounter("agentd_limits_fallback_total", "").value();
}
inline double Degraded(observe::Metrics& m) { return m.GetGauge("agentd_limits_degraded", "").value(); }

}  // namespace agentd::limits::redis::testing
