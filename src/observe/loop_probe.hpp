#pragma once
// LoopProbe: a coroutine on one io_context that wakes every `period` on a steady_timer and
// measures how late it woke. A busy loop shows as lag (gauge agentd_event_loop_lag_seconds
// {loop="i"}); a stuck loop stops ticking, and Health reports it stalled.
//
// Thread rules: Start()/Stop() may be called from any thread; the coroutine runs on `loop`.
// Health and Metrics must outlive the io_context's last run (stop loops before destroying them).

#include <chrono>
#include <cstddef>
#include <memory>

#include <boost/asio/io_context.hpp>

#include "observe/health.hpp"
#include "observe/metrics.hpp"

namespace agentd::observe {

class LoopProbe {
 public:
  LoopProbe(boost::asio::io_context& loop, std::size_t index, Health& health, Metrics& metrics,
            std::chrono::milliseconds period = std::chrono::milliseconds(100));
  ~LoopProbe();  // Stop()
  LoopProbe(const LoopProbe&) = delete;
  LoopProbe& operator=(const LoopProbe&) = delete;

  void Start();
  // Cancels the timer; the coroutine ends at its next wake without touching Health again.
  void Stop();

  struct State;  // opaque; named here so the probe coroutine in loop_probe.cpp can hold it

 private:
  std::shared_ptr<State> state_;
};

}  // namespace agentd::observe
