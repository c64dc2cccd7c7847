// Parse + serialise of a typical run-create body with Boost.JSON (non-throwing parse).
#include <string>

#include <benchmark/benchmark.h>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace {

namespace json = boost::json;

const std::string kRunCreateBody = R"({
  "assistant_id": "agent",
  "input": {"messages": [{"role": "human", "content": "What is the capital of France? Answer in one sentence."}]},
  "config": {"configurable": {"user_id": "user-42", "model": "gpt-4o-mini"}, "recursion_limit": 25},
  "metadata": {"source": "web", "session": "4b7c9e0a-1f2d-4e3a-9b8c-7d6e5f4a3b2c"},
  "stream_mode": ["values", "messages-tuple", "updates"],
  "stream_subgraphs": false,
  "on_disconnect": "cancel",
  "multitask_strategy": "reject",
  "if_not_exists": "create"
})";

void BM_JsonRunCreateParseSerialize(benchmark::State& state) {
  for (auto _ : state) {
    boost::system::error_code ec;
    json::value body = json::parse(kRunCreateBody, ec);
    if (ec) state.SkipWithError("parse failed");
    std::string out = json::serialize(body);
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kRunCreateBody.size()));
}
BENCHMARK(BM_JsonRunCreateParseSerialize);

// The same with a per-request monotonic buffer (style.md section 8), to see if it pays.
void BM_JsonRunCreateParseSerializeMonotonic(benchmark::State& state) {
  unsigned char buffer[4096];
  for (auto _ : state) {
    json::monotonic_resource mr(buffer, sizeof(buffer));
    boost::system::error_code ec;
    json::value body = json::parse(kRunCreateBody, ec, &mr);
    if (ec) state.SkipWithError("parse failed");
    std::string out = json::serialize(body);
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kRunCreateBody.size()));
}
BENCHMARK(BM_JsonRunCreateParseSerializeMonotonic);

}  // namespace
