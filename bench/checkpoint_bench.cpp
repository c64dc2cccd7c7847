// Checkpoint write per turn on SQLite: one CheckpointStore::Put of a typical turn (2 appended
// messages, small channels/metadata) on a thread whose chain already holds 10 or 1,000
// messages. Each iteration drives a fresh io_context until the Put completes, so the time is
// the full round trip a run step pays: post to the storage thread, the INSERTs, the commit
// (WAL, synchronous as the backend configures it) and the completion back to the caller.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include <benchmark/benchmark.h>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "common/uuid.hpp"
#include "model/types.hpp"
#include "storage/sqlite/sqlite_storage.hpp"
#include "storage/storage.hpp"
#include "support/run_co.hpp"

namespace {

namespace json = boost::json;
namespace storage = agentd::storage;
namespace model = agentd::model;
using agentd::testing::RunCo;

// A directory under the system temp dir, removed with everything in it.
class BenchDir {
 public:
  BenchDir()
      : path_(std::filesystem::temp_directory_path() /
              ("agentd-bench-" + agentd::NewUuid4())) {
    std::filesystem::create_directories(path_);
  }
  ~BenchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  BenchDir(const BenchDir&) = delete;
  BenchDir& operator=(const BenchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

json::object MakeMessage(std::int64_t i) {
  bool human = i % 2 == 0;
  return json::object{
      {"type", human ? "human" : "ai"},
      {"content", human ? "What is the weather like in Paris this afternoon, roughly?"
                        : "It is mostly sunny in Paris this afternoon, around 21 C with a "
                          "light westerly breeze; no rain is expected before the evening."},
      {"id", "msg-" + std::to_string(1000000 + i)},
      {"additional_kwargs", json::object{}},
      {"response_metadata", json::object{}}};
}

// One turn's checkpoint: the human input and the ai reply appended after `parent`.
model::Checkpoint MakeTurn(const std::string& thread_id, const std::optional<std::string>& parent,
                           std::int64_t first_message, std::int64_t step) {
  model::Checkpoint cp;
  cp.thread_id = thread_id;
  cp.checkpoint_id = agentd::NewUuid7();
  cp.parent_checkpoint_id = parent;
  cp.run_id = agentd::NewUuid4();
  cp.metadata = json::object{{"source", "loop"},
                             {"step", step},
                             {"parents", json::object{}},
                             {"writes", json::object{{"agent", json::object{}}}},
                             {"graph_id", "agent"}};
  cp.channels = json::object{{"remaining_steps", 24}};
  cp.appended_messages.push_back(MakeMessage(first_message));
  cp.appended_messages.push_back(MakeMessage(first_message + 1));
  cp.message_count = first_message + 2;
  return cp;
}

void BM_SqliteCheckpointPutTurn(benchmark::State& state) {
  const std::int64_t history = state.range(0);
  BenchDir dir;
  storage::SqliteOptions options;
  options.path = (dir.path() / "agentd.db").string();
  auto made = storage::MakeSqliteStorage(options);
  if (!made) {
    state.SkipWithError("MakeSqliteStorage failed");
    return;
  }
  std::unique_ptr<storage::Storage> db = std::move(*made);
  const std::string thread_id = agentd::NewUuid4();

  // History as earlier turns wrote it: one checkpoint per 2 messages.
  std::optional<std::string> parent;
  std::int64_t count = 0;
  while (count < history) {
    model::Checkpoint cp = MakeTurn(thread_id, parent, count, count / 2);
    parent = cp.checkpoint_id;
    auto st = RunCo(db->checkpoints().Put(std::move(cp)));
    if (!st) {
      state.SkipWithError("seeding Put failed");
      return;
    }
    count += 2;
  }

  for (auto _ : state) {
    model::Checkpoint cp = MakeTurn(thread_id, parent, count, count / 2);
    std::string id = cp.checkpoint_id;
    auto st = RunCo(db->checkpoints().Put(std::move(cp)));
    if (!st) state.SkipWithError("Put failed");
    // Remove it again (untimed) so every iteration writes onto the same history length.
    state.PauseTiming();
    auto removed = RunCo(db->checkpoints().Remove(thread_id, std::vector<std::string>{id}));
    if (!removed) state.SkipWithError("Remove failed");
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SqliteCheckpointPutTurn)->Arg(10)->Arg(1000)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
