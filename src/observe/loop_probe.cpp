#include "observe/loop_probe.hpp"

#include <atomic>
#include <exception>
#include <string>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "observe/log.hpp"

namespace agentd::observe {

namespace asio = boost::asio;

struct LoopProbe::State {
  State(asio::io_context& l, std::size_t i, Health& h, Gauge& g, std::chrono::milliseconds p)
      : loop(l), index(i), health(h), lag_gauge(g), period(p), timer(l) {}
  asio::io_context& loop;
  std::size_t index;
  Health& health;
  Gauge& lag_gauge;
  std::chrono::milliseconds period;
  asio::steady_timer timer;  // touched only on `loop`
  std::atomic<bool> started{false};
  std::atomic<bool> stopped{false};
};

namespace {

asio::awaitable<void> Tick(std::shared_ptr<LoopProbe::State> s) {
  using Clock = std::chrono::steady_clock;
  auto deadline = Clock::now() + s->period;
  while (!s->stopped.load()) {
    s->timer.expires_at(deadline);
    // The error is not needed: Stop() sets `stopped` before cancelling.
    co_await s->timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (s->stopped.load()) break;
    auto now = Clock::now();
    auto lag = std::chrono::duration_cast<std::chrono::microseconds>(now - deadline);
    if (lag.count() < 0) lag = std::chrono::microseconds(0);
    s->health.RecordTick(s->index, now, lag);
    s->lag_gauge.Set(std::chrono::duration<double>(lag).count());
    // Schedule from now, not from the missed deadline: after a stall we want one late tick,
    // not a burst of catch-up ticks.
    deadline = now + s->period;
  }
}

}  // namespace

LoopProbe::LoopProbe(asio::io_context& loop, std::size_t index, Health& health, Metrics& metrics,
                     std::chrono::milliseconds period) {
  auto& gauge = metrics.GetGauge("agentd_event_loop_lag_seconds",
                                 "How late the event loop's probe timer fired, last tick",
                                 {{"loop", std::to_string(index)}});
  state_ = std::make_shared<State>(loop, index, health, gauge, period);
}

LoopProbe::~LoopProbe() { Stop(); }

void LoopProbe::Start() {
  if (state_->started.exchange(true)) return;
  auto index = state_->index;
  asio::co_spawn(state_->loop, Tick(state_), [index](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      Logger("observe")->error("loop probe escaped exception loop={} what={}", index, ex.what());
    }
  });
}

void LoopProbe::Stop() {
  if (!state_ || state_->stopped.exchange(true)) return;
  // The timer belongs to the loop's thread; cancel it there.
  asio::post(state_->loop, [s = state_] { s->timer.cancel(); });
}

}  // namespace agentd::observe
