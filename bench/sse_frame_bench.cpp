// SSE framing of one typical event (~200 B of JSON): runs once per event on the run's executor.
#include <string>

#include <benchmark/benchmark.h>

#include "bus/event_log.hpp"

namespace {

const std::string kData =
    R"({"messages":[{"type":"ai","content":"The capital of France is Paris. It has been the )"
    R"(capital since the 10th century.","id":"run-5f0c1d2e-7a4b-4c1e-9d3f","additional_kwargs":{},)"
    R"("response_metadata":{}}]})";

void BM_EncodeSseFrame(benchmark::State& state) {
  std::uint64_t id = 0;
  for (auto _ : state) {
    auto frame = agentd::bus::EncodeSseFrame("values", kData, id++);
    benchmark::DoNotOptimize(frame);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kData.size()));
  state.counters["data_bytes"] = static_cast<double>(kData.size());
}
BENCHMARK(BM_EncodeSseFrame);

}  // namespace
