// Parked Next() calls: cancellation, destruction of the subscription, and wake-ups.
#include <optional>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include "bus/inproc/inproc_event_log.hpp"
#include "support/run_co.hpp"
#include "unit/bus/bus_test_util.hpp"

namespace agentd::bus::inproc {
namespace {

namespace asio = boost::asio;
using agentd::testing::RunCo;
using testing::AppendN;
using testing::FramesFor;
using testing::Texts;

using NextResult = Result<std::vector<Frame>>;

asio::awaitable<void> Yield(int times = 3) {
  auto ex = co_await asio::this_coro::executor;
  for (int i = 0; i < times; ++i) co_await asio::post(ex, asio::use_awaitable);
}

TEST(InprocSubscriptionWait, ParkedNextWakesOnAppendWithTheNewFrame) {
  InprocRunEventLog log(EventLogOptions{});
  auto sub = log.Subscribe({StartAt::Kind::kLiveOnly});
  RunCo([&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    std::optional<NextResult> got;
    asio::co_spawn(ex, sub->Next(), [&](std::exception_ptr, NextResult r) { got = std::move(r); });
    co_await Yield();
    EXPECT_EQ(log.TEST_WaitingCount(), 1u);
    EXPECT_FALSE(got.has_value());
    AppendN(log, 1);
    co_await Yield();
    BUS_CO_ASSERT(got.has_value());
    EXPECT_EQ(Texts(got->value()), FramesFor(0, 1));
    EXPECT_EQ(log.TEST_WaitingCount(), 0u);
  }());
}

TEST(InprocSubscriptionWait, CancellingAParkedNextReturnsCancelled) {
  InprocRunEventLog log(EventLogOptions{});
  auto sub = log.Subscribe({StartAt::Kind::kLiveOnly});
  RunCo([&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    asio::cancellation_signal signal;
    std::optional<NextResult> got;
    asio::co_spawn(ex, sub->Next(),
                   asio::bind_cancellation_slot(signal.slot(), [&](std::exception_ptr e, NextResult r) {
                     EXPECT_FALSE(e);
                     got = std::move(r);
                   }));
    co_await Yield();
    BUS_CO_ASSERT((log.TEST_WaitingCount()) == (1u));
    signal.emit(asio::cancellation_type::terminal);
    co_await Yield();
    BUS_CO_ASSERT(got.has_value());
    BUS_CO_ASSERT(!(got->has_value()));
    EXPECT_EQ(got->error().code, Errc::kCancelled);
    EXPECT_EQ(log.TEST_WaitingCount(), 0u);
  }());
  // The subscription is still usable after a cancelled wait.
  AppendN(log, 1);
  log.Close();
  EXPECT_EQ(Texts(RunCo(testing::Drain(*sub))), FramesFor(0, 1));
}

TEST(InprocSubscriptionWait, DestroyingTheSubscriptionCompletesItsParkedNext) {
  InprocRunEventLog log(EventLogOptions{});
  auto sub = log.Subscribe({StartAt::Kind::kLiveOnly});
  RunCo([&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    std::optional<NextResult> got;
    asio::co_spawn(ex, sub->Next(), [&](std::exception_ptr, NextResult r) { got = std::move(r); });
    co_await Yield();
    BUS_CO_ASSERT((log.TEST_WaitingCount()) == (1u));
    sub.reset();
    EXPECT_EQ(log.TEST_WaitingCount(), 0u);
    co_await Yield();
    BUS_CO_ASSERT(got.has_value());
    BUS_CO_ASSERT(!(got->has_value()));
    EXPECT_EQ(got->error().code, Errc::kCancelled);
  }());
  // The run goes on without it.
  EXPECT_EQ(log.Append("e", "{}"), 0u);
}

TEST(InprocSubscriptionWait, CloseWakesParkedReadersWithTheEnd) {
  InprocRunEventLog log(EventLogOptions{});
  auto sub = log.Subscribe({StartAt::Kind::kLiveOnly});
  RunCo([&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    std::optional<NextResult> got;
    asio::co_spawn(ex, sub->Next(), [&](std::exception_ptr, NextResult r) { got = std::move(r); });
    co_await Yield();
    log.Close();
    co_await Yield();
    BUS_CO_ASSERT(got.has_value());
    BUS_CO_ASSERT(got->has_value());
    EXPECT_TRUE(got->value().empty());
  }());
}

}  // namespace
}  // namespace agentd::bus::inproc
