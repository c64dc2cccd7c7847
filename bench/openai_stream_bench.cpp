// OpenAI stream decoding: a recorded streamed completion (8 choice chunks, the usage chunk and
// [DONE], 2,117 bytes) fed through ChatStream + OpenAiStreamDecoder, as the provider client does per
// reply: SSE framing, one JSON parse per chunk, delta mapping and assembly.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include <benchmark/benchmark.h>

#include "runtime/providers/chat_stream.hpp"
#include "runtime/providers/openai_stream.hpp"
#include "unit/providers/openai_testdata.hpp"

namespace {

namespace providers = agentd::runtime::providers;

// Feeds `body` in slices of `slice` bytes (0 = all at once) and takes the result.
void DecodeReply(benchmark::State& state, std::string_view body, std::size_t slice) {
  std::vector<providers::StreamDelta> deltas;
  for (auto _ : state) {
    providers::ChatStream stream(std::make_unique<providers::OpenAiStreamDecoder>());
    deltas.clear();
    std::string_view rest = body;
    while (!rest.empty()) {
      std::size_t n = slice == 0 ? rest.size() : std::min(slice, rest.size());
      if (!stream.Feed(rest.substr(0, n), deltas)) state.SkipWithError("Feed failed");
      rest.remove_prefix(n);
    }
    auto result = stream.TakeResult();
    if (!result) state.SkipWithError("no result");
    benchmark::DoNotOptimize(result);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
  state.counters["deltas"] = static_cast<double>(deltas.size());
}

// The whole body in one Feed.
void BM_OpenAiStreamDecodeText(benchmark::State& state) {
  DecodeReply(state, providers::testing::kOpenAiTextStream, 0);
}
BENCHMARK(BM_OpenAiStreamDecodeText);

// 512-byte reads, closer to what a socket hands over (chunks straddle reads).
void BM_OpenAiStreamDecodeTextSliced512(benchmark::State& state) {
  DecodeReply(state, providers::testing::kOpenAiTextStream, 512);
}
BENCHMARK(BM_OpenAiStreamDecodeTextSliced512);

// The recorded tool-call reply (one call, arguments in 8 fragments; 3,057 bytes).
void BM_OpenAiStreamDecodeToolCall(benchmark::State& state) {
  DecodeReply(state, providers::testing::kOpenAiToolStream, 0);
}
BENCHMARK(BM_OpenAiStreamDecodeToolCall);

}  // namespace
