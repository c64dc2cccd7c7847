// Append + fan-out of one event to N parked subscribers on one io_context. Reports the
// appender's cost (encode, ring push, taking and posting N waiters) separately from the
// delivery cost (running N woken Next() calls), per subscriber.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "bus/inproc/inproc_event_log.hpp"

namespace {

namespace asio = boost::asio;
using agentd::bus::StartAt;
using agentd::bus::Subscription;

// Cannot throw: a failed Next() ends the reader.
asio::awaitable<void> Reader(std::unique_ptr<Subscription> sub, std::size_t* delivered) {
  for (;;) {
    auto frames = co_await sub->Next();
    if (!frames || frames->empty()) co_return;
    *delivered += frames->size();
  }
}

void BM_AppendFanout(benchmark::State& state) {
  const auto subscribers = static_cast<std::size_t>(state.range(0));
  const std::string data(200 - 2, 'x');
  const std::string json = "\"" + data + "\"";  // a 200 B JSON string
  agentd::bus::EventLogOptions options;
  options.max_retained_events = 1024;
  options.subscriber_backlog = 1 << 20;
  agentd::bus::inproc::InprocRunEventLog log(options);
  asio::io_context io(1);
  std::size_t delivered = 0;
  for (std::size_t i = 0; i < subscribers; ++i) {
    asio::co_spawn(io, Reader(log.Subscribe({StartAt::Kind::kLiveOnly}), &delivered),
                   asio::detached);
  }
  io.poll();  // every reader parks in Next()
  io.restart();

  using Clock = std::chrono::steady_clock;
  double append_ns = 0;
  double deliver_ns = 0;
  for (auto _ : state) {
    auto t0 = Clock::now();
    log.Append("values", json);
    auto t1 = Clock::now();
    io.poll();
    io.restart();
    auto t2 = Clock::now();
    append_ns += std::chrono::duration<double, std::nano>(t1 - t0).count();
    deliver_ns += std::chrono::duration<double, std::nano>(t2 - t1).count();
    state.SetIterationTime(std::chrono::duration<double>(t2 - t0).count());
  }
  const auto iterations = static_cast<double>(state.iterations());
  if (delivered != state.iterations() * subscribers) state.SkipWithError("lost deliveries");
  state.counters["append_ns"] = append_ns / iterations;
  state.counters["deliver_ns_per_sub"] = deliver_ns / iterations / static_cast<double>(subscribers);
  log.Close();
  io.poll();
}
BENCHMARK(BM_AppendFanout)->Arg(1)->Arg(100)->Arg(10'000)->UseManualTime();

}  // namespace
