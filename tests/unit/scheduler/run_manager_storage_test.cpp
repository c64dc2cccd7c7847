// RunManager when storage refuses writes (disk full, database file deleted): a run whose end
// cannot be recorded keeps its thread's turn and retries until it can, so the next run of the
// thread never executes before it has ended; a stop meanwhile leaves it for the next start.
// And Recover never runs a run again behind later runs of its thread that executed.
// (Memory storage behind a decorator that refuses the end-of-run writes on demand.)
#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include "bus/inproc/inproc_event_bus.hpp"
#include "common/uuid.hpp"
#include "scheduler/one_shot.hpp"
#include "scheduler/run_manager.hpp"
#include "storage/memory/memory_storage.hpp"

namespace agentd::scheduler {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;
using storage::Task;

// What the end-of-run writes get while `refuse` is set.
Error Refused() { return Error(Errc::kUnavailable, "storage refuses writes: disk full (test)"); }

class RefusingRuns final : public storage::RunStore {
 public:
  RefusingRuns(storage::RunStore& inner, std::atomic<bool>& refuse, std::atomic<int>& refused)
      : inner_(inner), refuse_(refuse), refused_(refused) {}
  Task<Result<model::Run>> Create(model::Run run) override { return inner_.Create(std::move(run)); }
  Task<Result<model::Run>> Get(std::string tenant, std::string run_id) override {
    return inner_.Get(std::move(tenant), std::move(run_id));
  }
  Task<Result<std::vector<model::Run>>> List(storage::RunQuery query) override {
    return inner_.List(std::move(query));
  }
  Task<Result<model::Run>> SetStatus(std::string tenant, std::string run_id,
                                     model::RunStatus status) override {
    // Only ends are refused: the `running` mark at the start must go through.
    if (refuse_ && status != model::RunStatus::kRunning) co_return Refuse();
    co_return co_await inner_.SetStatus(std::move(tenant), std::move(run_id), status);
  }
  Task<Status> Delete(std::string tenant, std::string run_id) override {
    if (refuse_) co_return Refuse();
    co_return co_await inner_.Delete(std::move(tenant), std::move(run_id));
  }
  Task<Result<std::vector<model::Run>>> ListByStatus(std::vector<model::RunStatus> statuses,
                                                     std::int64_t limit) override {
    return inner_.ListByStatus(std::move(statuses), limit);
  }
  Task<Result<std::int64_t>> NextAttempt(std::string tenant, std::string run_id) override {
    return inner_.NextAttempt(std::move(tenant), std::move(run_id));
  }
  Task<Status> SetUsage(std::string tenant, std::string run_id, json::object usage) override {
    if (refuse_) co_return Refuse();
    co_return co_await inner_.SetUsage(std::move(tenant), std::move(run_id), std::move(usage));
  }
  // The trace is best effort (a refused write costs the trace, not the run): not refused here.
  Task<Status> SetTrace(std::string tenant, std::string run_id, std::string trace) override {
    return inner_.SetTrace(std::move(tenant), std::move(run_id), std::move(trace));
  }
  Task<Result<std::optional<std::string>>> GetTrace(std::string tenant, std::string thread_id,
                                                    std::string run_id) override {
    return inner_.GetTrace(std::move(tenant), std::move(thread_id), std::move(run_id));
  }

 private:
  Error Refuse() {
    ++refused_;
    return Refused();
  }
  storage::RunStore& inner_;
  std::atomic<bool>& refuse_;
  std::atomic<int>& refused_;
};

class RefusingThreads final : public storage::ThreadStore {
 public:
  RefusingThreads(storage::ThreadStore& inner, std::atomic<bool>& refuse)
      : inner_(inner), refuse_(refuse) {}
  Task<Result<model::Thread>> Create(model::Thread t, storage::IfExists if_exists) override {
    return inner_.Create(std::move(t), if_exists);
  }
  Task<Result<model::Thread>> Get(std::string tenant, std::string thread_id) override {
    return inner_.Get(std::move(tenant), std::move(thread_id));
  }
  Task<Result<model::Thread>> Update(std::string tenant, std::string thread_id,
                                     storage::ThreadPatch patch) override {
    // The `busy` mark at the start goes through; the end state is refused.
    if (refuse_ && patch.status != model::ThreadStatus::kBusy) co_return Refused();
    co_return co_await inner_.Update(std::move(tenant), std::move(thread_id), std::move(patch));
  }
  Task<Status> Delete(std::string tenant, std::string thread_id) override {
    if (refuse_) co_return Refused();
    co_return co_await inner_.Delete(std::move(tenant), std::move(thread_id));
  }
  Task<Result<storage::Page<model::Thread>>> Search(storage::ThreadQuery query) override {
    return inner_.Search(std::move(query));
  }
  Task<Result<std::int64_t>> Count(storage::ThreadQuery query) override {
    return inner_.Count(std::move(query));
  }
  Task<Result<model::Thread>> Copy(std::string tenant, std::string source_thread_id,
                                   std::string new_thread_id, json::object extra) override {
    return inner_.Copy(std::move(tenant), std::move(source_thread_id), std::move(new_thread_id),
                       std::move(extra));
  }
  Task<Result<std::vector<model::Thread>>> ListExpired(TimestampMs now,
                                                       std::int64_t limit) override {
    return inner_.ListExpired(now, limit);
  }

 private:
  storage::ThreadStore& inner_;
  std::atomic<bool>& refuse_;
};

class RefusingStorage final : public storage::Storage {
 public:
  RefusingStorage()
      : inner_(storage::MakeMemoryStorage()),
        runs_(inner_->runs(), refuse, refused),
        threads_(inner_->threads(), refuse) {}
  storage::AssistantStore& assistants() override { return inner_->assistants(); }
  storage::ThreadStore& threads() override { return threads_; }
  storage::CheckpointStore& checkpoints() override { return inner_->checkpoints(); }
  storage::RunStore& runs() override { return runs_; }
  storage::ItemStore& items() override { return inner_->items(); }
  Task<Status> Ping() override { return inner_->Ping(); }
  Task<Status> Truncate(storage::TruncateOptions options) override {
    return inner_->Truncate(options);
  }
  std::string_view backend_name() const override { return "refusing"; }

  std::atomic<bool> refuse{false};
  std::atomic<int> refused{0};

 private:
  std::unique_ptr<storage::Storage> inner_;
  RefusingRuns runs_;
  RefusingThreads threads_;
};

// Records starts; each run waits for the gate, then fails as a run whose checkpoint write was
// refused does (CheckpointError).
class GatedExecutor final : public RunExecutor {
 public:
  asio::awaitable<runtime::RunOutcome> Execute(const runtime::GraphInfo&,
                                               runtime::RunRequest request,
                                               runtime::RunEventSink&) override {
    {
      std::lock_guard lock(mu_);
      starts_.push_back(request.run_id);
    }
    (void)co_await gate_.WaitFor(20s);
    runtime::RunOutcome outcome;
    outcome.kind = runtime::RunOutcome::Kind::kError;
    outcome.error_type = "CheckpointError";
    outcome.error = Refused();
    co_return outcome;
  }
  void Open() { gate_.Set(); }
  std::vector<std::string> starts() {
    std::lock_guard lock(mu_);
    return starts_;
  }

 private:
  OneShot gate_;
  std::mutex mu_;
  std::vector<std::string> starts_;
};

config::Config EchoConfig() {
  config::Config c;
  config::GraphSpec echo;
  echo.graph_id = "echo";
  echo.kind = "echo";
  c.graphs.push_back(echo);
  return c;
}

// Waits (bounded) until `done` holds.
bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds bound = 20s) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

class RunManagerStorageTest : public ::testing::Test {
 protected:
  RunManagerStorageTest() : graphs_(runtime::GraphRegistry::FromConfig(EchoConfig()).value()),
                            bus_(bus::inproc::MakeInprocEventBus()) {
    guard_.emplace(loop_.get_executor());
    thread_ = std::thread([this] { loop_.run(); });
    model::Assistant a;
    a.assistant_id = SystemAssistantId("echo");
    a.graph_id = "echo";
    Block(storage_.assistants().Create(a, storage::IfExists::kDoNothing)).value();
    manager_ = MakeManager();
  }
  ~RunManagerStorageTest() override {
    executor_.Open();
    storage_.refuse = false;
    if (manager_) manager_->Stop(5s);
    manager_.reset();
    guard_.reset();
    loop_.stop();
    thread_.join();
  }
  std::unique_ptr<RunManager> MakeManager() {
    RunManagerOptions options;
    options.drain_on_stop = true;
    return std::make_unique<RunManager>(
        storage_, graphs_, *bus_, executor_, nullptr,
        [this] { return asio::any_io_executor(loop_.get_executor()); }, std::move(options));
  }
  template <class T>
  T Block(asio::awaitable<T> task) {
    auto f = asio::co_spawn(loop_, std::move(task), asio::use_future);
    if (f.wait_for(30s) != std::future_status::ready) throw std::runtime_error("timed out");
    return f.get();
  }
  std::string NewThread() {
    model::Thread t;
    t.thread_id = NewUuid4();
    Block(storage_.threads().Create(t, storage::IfExists::kRaise)).value();
    return t.thread_id;
  }
  StartedRun Start(const std::string& thread_id) {
    RunSpec spec;
    spec.assistant_id = "echo";
    spec.multitask_strategy = MultitaskStrategy::kEnqueue;
    return Block(manager_->Create(std::string(), thread_id, std::move(spec))).value();
  }
  model::Run Stored(const std::string& run_id) {
    return Block(storage_.runs().Get("", run_id)).value();
  }
  model::Thread StoredThread(const std::string& thread_id) {
    return Block(storage_.threads().Get("", thread_id)).value();
  }

  RefusingStorage storage_;
  runtime::GraphRegistry graphs_;
  std::unique_ptr<bus::EventBus> bus_;
  GatedExecutor executor_;
  asio::io_context loop_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard_;
  std::thread thread_;
  std::unique_ptr<RunManager> manager_;
};

TEST_F(RunManagerStorageTest, RunWhoseEndIsRefusedKeepsItsThreadUntilStorageTakesWrites) {
  const std::string thread_id = NewThread();
  StartedRun first = Start(thread_id);
  StartedRun second = Start(thread_id);  // enqueued behind the first
  ASSERT_TRUE(WaitFor([&] { return executor_.starts().size() == 1; }));

  storage_.refuse = true;  // the disk fills up while the first run executes
  executor_.Open();
  // Its end is refused several times (first write, then retries): it keeps its turn.
  ASSERT_TRUE(WaitFor([&] { return storage_.refused >= 3; })) << storage_.refused;
  EXPECT_FALSE(first.handle->done());
  EXPECT_TRUE(manager_->IsThreadActive(thread_id));
  EXPECT_EQ(executor_.starts(), std::vector<std::string>{first.run.run_id});
  EXPECT_EQ(Stored(first.run.run_id).status, model::RunStatus::kRunning);

  storage_.refuse = false;  // space is back
  ASSERT_TRUE(Block(first.handle->WaitDone(20s)));
  EXPECT_EQ(first.handle->final_status(), model::RunStatus::kError);
  EXPECT_EQ(Stored(first.run.run_id).status, model::RunStatus::kError);
  // Only then the second run has its turn, and ends as scripted.
  ASSERT_TRUE(Block(second.handle->WaitDone(20s)));
  EXPECT_EQ(executor_.starts(),
            (std::vector<std::string>{first.run.run_id, second.run.run_id}));
  model::Thread thread = StoredThread(thread_id);
  EXPECT_EQ(thread.status, model::ThreadStatus::kError);
  EXPECT_EQ(thread.error.at("error"), "CheckpointError");
  EXPECT_FALSE(manager_->IsThreadActive(thread_id));
}

TEST_F(RunManagerStorageTest, StopWhileTheEndIsRefusedLeavesTheRunForTheNextStart) {
  const std::string thread_id = NewThread();
  StartedRun run = Start(thread_id);
  ASSERT_TRUE(WaitFor([&] { return executor_.starts().size() == 1; }));
  storage_.refuse = true;
  executor_.Open();
  ASSERT_TRUE(WaitFor([&] { return storage_.refused >= 1; }));

  manager_->Stop(5s);
  EXPECT_TRUE(run.handle->done());
  storage_.refuse = false;
  // Nothing claims it ended: the next start resumes it, in place (no later run has executed).
  EXPECT_EQ(Stored(run.run.run_id).status, model::RunStatus::kRunning);
  manager_ = MakeManager();
  auto found = Block(manager_->Recover());
  ASSERT_TRUE(found);
  EXPECT_EQ(*found, 1u);
  ASSERT_TRUE(WaitFor([&] { return executor_.starts().size() == 2; }));
  EXPECT_EQ(executor_.starts().back(), run.run.run_id);
}

// A run left `running` while a later run of its thread executed and ended (what a process
// without the retry above left behind): Recover ends it instead of running it again.
TEST_F(RunManagerStorageTest, RecoverNeverRunsARunAgainBehindLaterRunsOfItsThread) {
  const std::string thread_id = NewThread();
  model::Run stale;
  stale.run_id = NewUuid7();
  stale.thread_id = thread_id;
  stale.assistant_id = SystemAssistantId("echo");
  stale.status = model::RunStatus::kRunning;
  Block(storage_.runs().Create(stale)).value();
  model::Run later = stale;
  later.run_id = NewUuid7();
  later.status = model::RunStatus::kSuccess;
  Block(storage_.runs().Create(later)).value();
  model::Checkpoint cp;
  cp.thread_id = thread_id;
  cp.checkpoint_id = NewUuid7();
  cp.run_id = later.run_id;
  ASSERT_TRUE(Block(storage_.checkpoints().Put(cp)));
  storage::ThreadPatch idle;
  idle.status = model::ThreadStatus::kIdle;
  Block(storage_.threads().Update("", thread_id, idle)).value();

  auto found = Block(manager_->Recover());
  ASSERT_TRUE(found);
  EXPECT_EQ(*found, 1u);
  EXPECT_EQ(Stored(stale.run_id).status, model::RunStatus::kError);
  EXPECT_TRUE(executor_.starts().empty());
  EXPECT_FALSE(manager_->IsThreadActive(thread_id));
  // The thread's state is the later run's: untouched.
  EXPECT_EQ(StoredThread(thread_id).status, model::ThreadStatus::kIdle);
}

// The counterpart: runs that never had their turn do not count as later turns.
TEST_F(RunManagerStorageTest, RecoverResumesARunThatStillOwnsItsTurn) {
  const std::string thread_id = NewThread();
  model::Run first;
  first.run_id = NewUuid7();
  first.thread_id = thread_id;
  first.assistant_id = SystemAssistantId("echo");
  first.status = model::RunStatus::kRunning;
  Block(storage_.runs().Create(first)).value();
  model::Run waiting = first;
  waiting.run_id = NewUuid7();
  waiting.status = model::RunStatus::kPending;
  Block(storage_.runs().Create(waiting)).value();
  model::Run cancelled = first;  // cancelled while pending: never ran
  cancelled.run_id = NewUuid7();
  cancelled.status = model::RunStatus::kInterrupted;
  Block(storage_.runs().Create(cancelled)).value();

  auto found = Block(manager_->Recover());
  ASSERT_TRUE(found);
  EXPECT_EQ(*found, 2u);
  ASSERT_TRUE(WaitFor([&] { return executor_.starts().size() == 1; }));
  EXPECT_EQ(executor_.starts().front(), first.run_id);
}

}  // namespace
}  // namespace agentd::scheduler
