// Fan-out across threads: the run appends on one io_context while subscribers read on others.
#include <chrono>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <gtest/gtest.h>

#include "bus/inproc/inproc_event_log.hpp"
#include "unit/bus/bus_test_util.hpp"

namespace agentd::bus::inproc {
namespace {

namespace asio = boost::asio;

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

TEST(InprocFanout, HundredSubscribersOnTwoThreadsReceiveTheIdenticalFullSequence) {
  constexpr int kSubscribers = 100;
  constexpr int kEvents = 1000;
  EventLogOptions options;
  options.subscriber_backlog = 2 * kEvents;  // this test is about delivery, not cutting
  InprocRunEventLog log(options);

  Loop appender, readers_a, readers_b;
  std::vector<std::unique_ptr<Subscription>> subs;
  std::vector<std::vector<Frame>> received(kSubscribers);
  std::vector<std::future<void>> done;
  for (int i = 0; i < kSubscribers; ++i) {
    subs.push_back(log.Subscribe({StartAt::Kind::kBeginning}));
    auto promise = std::make_shared<std::promise<void>>();
    done.push_back(promise->get_future());
    auto& loop = (i % 2 == 0) ? readers_a : readers_b;
    asio::co_spawn(loop.io, testing::Drain(*subs[i]),
                   [&received, i, promise](std::exception_ptr e, std::vector<Frame> frames) {
                     if (e) ADD_FAILURE() << "reader threw";
                     received[i] = std::move(frames);
                     promise->set_value();
                   });
  }
  asio::post(appender.io, [&] {
    testing::AppendN(log, kEvents);
    log.Close();
  });

  for (auto& f : done) {
    ASSERT_EQ(f.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  }
  ASSERT_EQ(received[0].size(), static_cast<std::size_t>(kEvents));
  EXPECT_EQ(testing::Texts(received[0]), testing::FramesFor(0, kEvents));
  for (int i = 1; i < kSubscribers; ++i) {
    EXPECT_EQ(received[i], received[0]) << "subscriber " << i;  // the same frame objects
  }
}

}  // namespace
}  // namespace agentd::bus::inproc
