// The `messages` reducer on long threads: folding a thread's whole write log (what a state read
// or a run start does once) and appending one node update to a loaded state (what each step
// does). The fold scans for an existing id per write, so its cost per message grows with the
// list; these numbers show from which length that matters.
#include <cstdint>
#include <string>

#include <benchmark/benchmark.h>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "runtime/messages.hpp"
#include "runtime/state.hpp"

namespace {

namespace json = boost::json;
namespace runtime = agentd::runtime;

// A stored (normalised) message as the run engine writes it: a human question or an ai answer
// of a few sentences, each with its own id.
json::object MakeMessage(std::int64_t i) {
  bool human = i % 2 == 0;
  json::object m;
  m["type"] = human ? "human" : "ai";
  m["content"] = human ? "What is the weather like in Paris this afternoon, roughly?"
                       : "It is mostly sunny in Paris this afternoon, around 21 C with a light "
                         "westerly breeze; no rain is expected before the evening.";
  m["id"] = "msg-" + std::to_string(1000000 + i);
  m["additional_kwargs"] = json::object{};
  m["response_metadata"] = json::object{};
  if (!human) {
    m["tool_calls"] = json::array{};
    m["invalid_tool_calls"] = json::array{};
  }
  return m;
}

// One write per message, as a thread's checkpoint chain yields them (oldest first).
json::array MakeWrites(std::int64_t count) {
  json::array writes;
  writes.reserve(static_cast<std::size_t>(count));
  for (std::int64_t i = 0; i < count; ++i) writes.push_back(MakeMessage(i));
  return writes;
}

void BM_FoldMessages(benchmark::State& state) {
  const json::array writes = MakeWrites(state.range(0));
  for (auto _ : state) {
    json::array messages = runtime::FoldMessages(writes);
    benchmark::DoNotOptimize(messages);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_FoldMessages)->Arg(10)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond);

// One model-node update ({messages: [ai reply]}, reply id given) applied to a state that
// already holds 1,000 messages: normalisation, the id scan and the append. The appended message
// is popped again inside the timed loop (one array pop, negligible) so every iteration sees
// 1,000 messages.
void BM_ApplyUpdateAppendOnto1000(benchmark::State& state) {
  runtime::GraphState graph_state;
  graph_state.messages = runtime::FoldMessages(MakeWrites(1000));
  json::object reply = MakeMessage(1);
  reply["id"] = "msg-new-reply";
  json::value update = json::object{{"messages", json::array{reply}}};
  for (auto _ : state) {
    auto applied = runtime::ApplyUpdate(graph_state, update);
    if (!applied) state.SkipWithError("ApplyUpdate failed");
    benchmark::DoNotOptimize(applied);
    graph_state.messages.pop_back();
  }
}
BENCHMARK(BM_ApplyUpdateAppendOnto1000);

}  // namespace
