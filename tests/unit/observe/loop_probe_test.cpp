#include "observe/loop_probe.hpp"

#include <functional>
#include <latch>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <gtest/gtest.h>

namespace agentd::observe {
namespace {

namespace asio = boost::asio;

// Polls `pred` until true or `limit` passes: a bounded wait on another thread's progress.
bool WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return pred();
}

struct Loop {
  asio::io_context io{1};
  asio::executor_work_guard<asio::io_context::executor_type> guard{io.get_executor()};
  std::thread thread{[this] { io.run(); }};
  ~Loop() {
    guard.reset();
    io.stop();
    thread.join();
  }
};

TEST(LoopProbe, BlockedLoopTurnsHealthNotLiveUntilReleased) {
  Metrics metrics;
  Health health(2, std::chrono::milliseconds(150));
  Loop loop0;
  Loop loop1;
  LoopProbe probe0(loop0.io, 0, health, metrics, std::chrono::milliseconds(10));
  LoopProbe probe1(loop1.io, 1, health, metrics, std::chrono::milliseconds(10));
  probe0.Start();
  probe1.Start();
  ASSERT_TRUE(WaitFor([&] { return health.Live(); }, std::chrono::seconds(5)));

  std::latch release(1);
  asio::post(loop1.io, [&release] { release.wait(); });  // loop 1 stuck in a handler
  std::string why;
  bool went_down = WaitFor([&] { return !health.Live(&why); }, std::chrono::seconds(5));
  release.count_down();
  ASSERT_TRUE(went_down);
  EXPECT_NE(why.find("loop 1"), std::string::npos) << why;
  EXPECT_EQ(why.find("loop 0"), std::string::npos) << why;

  EXPECT_TRUE(WaitFor([&] { return health.Live(); }, std::chrono::seconds(5)));
  // The late tick after the release is recorded as lag.
  EXPECT_NE(metrics.RenderPrometheus().find("agentd_event_loop_lag_seconds{loop=\"1\"}"),
            std::string::npos);
  probe0.Stop();
  probe1.Stop();
}

TEST(LoopProbe, LoopWithoutProbeIsReportedStalled) {
  Health health(1, std::chrono::milliseconds(100));
  auto later = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
  EXPECT_FALSE(health.LiveAt(later));
}

}  // namespace
}  // namespace agentd::observe
