// api/sse.cpp: how a run's event log becomes an SSE body (coalescing, heartbeat, disconnect).
#include "api/sse.hpp"

#include <chrono>
#include <string>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include "bus/inproc/inproc_event_bus.hpp"
#include "support/run_co.hpp"

namespace agentd::api {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

class FakeWriter final : public http::BodyWriter {
 public:
  asio::awaitable<bool> Write(std::string_view bytes) override {
    if (fail_) co_return false;
    writes.emplace_back(bytes);
    co_return true;
  }
  asio::awaitable<bool> Write(std::shared_ptr<const std::string> bytes) override {
    return Write(std::string_view(*bytes));
  }
  bool closed() const override { return fail_; }
  void Fail() { fail_ = true; }
  std::vector<std::string> writes;

 private:
  bool fail_ = false;
};

TEST(Sse, CoalescesReadyFramesIntoOneWriteAndEndsWithTheLog) {
  auto bus = bus::inproc::MakeInprocEventBus();
  auto log = agentd::testing::RunCo(bus->Create("r1", bus::EventLogOptions{})).value();
  log->Append("metadata", R"({"run_id":"r1","attempt":1})");
  log->Append("values", R"({"a":1})");
  log->Close();
  FakeWriter out;
  std::shared_ptr<bus::Subscription> sub = log->Subscribe(bus::StartAt{});
  testing::RunCo(ServeSse(sub, out, nullptr));
  ASSERT_EQ(out.writes.size(), 1u);
  EXPECT_EQ(out.writes[0],
            "event: metadata\ndata: {\"run_id\":\"r1\",\"attempt\":1}\nid: 0\n\n"
            "event: values\ndata: {\"a\":1}\nid: 1\n\n");
}

asio::awaitable<void> AppendLater(std::shared_ptr<bus::RunEventLog> log) {
  asio::steady_timer timer(co_await asio::this_coro::executor, 75ms);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  log->Append("values", "{}");
  log->Close();
}

asio::awaitable<void> ServeWhileAppending(std::shared_ptr<bus::Subscription> sub,
                                          std::shared_ptr<bus::RunEventLog> log, FakeWriter& out) {
  asio::co_spawn(co_await asio::this_coro::executor, AppendLater(log), asio::detached);
  co_await ServeSse(sub, out, nullptr, 20ms);
}

TEST(Sse, SendsCommentHeartbeatsWithoutEmptyLinesWhileIdle) {
  auto bus = bus::inproc::MakeInprocEventBus();
  auto log = agentd::testing::RunCo(bus->Create("r2", bus::EventLogOptions{})).value();
  FakeWriter out;
  std::shared_ptr<bus::Subscription> sub = log->Subscribe(bus::StartAt{});
  testing::RunCo(ServeWhileAppending(sub, log, out));
  ASSERT_GE(out.writes.size(), 3u);
  for (std::size_t i = 0; i + 1 < out.writes.size(); ++i) EXPECT_EQ(out.writes[i], ": hb\n");
  EXPECT_EQ(out.writes.back(), "event: values\ndata: {}\nid: 0\n\n");
}

TEST(Sse, ReportsADisconnectWhenAWriteFails) {
  auto bus = bus::inproc::MakeInprocEventBus();
  auto log = agentd::testing::RunCo(bus->Create("r3", bus::EventLogOptions{})).value();
  log->Append("metadata", "{}");
  FakeWriter out;
  out.Fail();
  bool disconnected = false;
  std::shared_ptr<bus::Subscription> sub = log->Subscribe(bus::StartAt{});
  testing::RunCo(ServeSse(sub, out, [&] { disconnected = true; }));
  EXPECT_TRUE(disconnected);
}

}  // namespace
}  // namespace agentd::api
