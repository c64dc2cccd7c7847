#include "scheduler/run_manager.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include "bus/inproc/inproc_event_bus.hpp"
#include "common/json.hpp"
#include "common/uuid.hpp"
#include "storage/memory/memory_storage.hpp"

namespace agentd::scheduler {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;

// A scripted executor: records starts and per-thread concurrency, writes one checkpoint, then
// waits for the gate (or a cancel) before finishing.
class FakeExecutor final : public RunExecutor {
 public:
  explicit FakeExecutor(storage::CheckpointStore& checkpoints) : checkpoints_(checkpoints) {}

  asio::awaitable<runtime::RunOutcome> Execute(const runtime::GraphInfo&, runtime::RunRequest request,
                                               runtime::RunEventSink& events) override {
    // Behave like GraphExecutor: a cancel yields kCancelled, never an exception.
    co_await asio::this_coro::throw_if_cancelled(false);
    {
      std::lock_guard lock(mu_);
      starts_.push_back(request.run_id);
      int& n = running_[request.thread_id];
      ++n;
      max_concurrency_ = std::max(max_concurrency_, n);
    }
    runtime::RunOutcome outcome;
    if (events.Wants(runtime::StreamMode::kValues)) {
      events.Emit("values", json::object{{"run", request.run_id}});
    }
    model::Checkpoint cp;
    cp.thread_id = request.thread_id;
    cp.checkpoint_id = NewUuid7();
    cp.run_id = request.run_id;
    cp.channels = json::object{{"run", request.run_id}};
    (void)co_await checkpoints_.Put(cp);
    outcome.checkpoints_written.push_back(cp.checkpoint_id);
    // Let other loops admit runs while this one is active.
    asio::steady_timer tick(co_await asio::this_coro::executor, 1ms);
    co_await tick.async_wait(asio::as_tuple(asio::use_awaitable));
    auto state = co_await asio::this_coro::cancellation_state;
    bool released = gate_open_ || state.cancelled() != asio::cancellation_type::none
                        ? true
                        : co_await gate_.WaitFor(20s);
    {
      std::lock_guard lock(mu_);
      --running_[request.thread_id];
    }
    if (state.cancelled() != asio::cancellation_type::none || !released) {
      outcome.kind = runtime::RunOutcome::Kind::kCancelled;
      co_return outcome;
    }
    outcome.values = json::object{{"run", request.run_id}};
    co_return outcome;
  }

  void OpenGate() { gate_.Set(); }
  std::atomic<bool> gate_open_{false};
  std::vector<std::string> starts() {
    std::lock_guard lock(mu_);
    return starts_;
  }
  int max_concurrency() {
    std::lock_guard lock(mu_);
    return max_concurrency_;
  }

 private:
  storage::CheckpointStore& checkpoints_;
  OneShot gate_;
  std::mutex mu_;
  std::vector<std::string> starts_;
  std::map<std::string, int> running_;
  int max_concurrency_ = 0;
};

config::Config EchoConfig() {
  config::Config c;
  config::GraphSpec echo;
  echo.graph_id = "echo";
  echo.kind = "echo";
  c.graphs.push_back(echo);
  return c;
}

class RunManagerTest : public ::testing::Test {
 protected:
  RunManagerTest()
      : storage_(storage::MakeMemoryStorage()),
        graphs_(runtime::GraphRegistry::FromConfig(EchoConfig()).value()),
        bus_(bus::inproc::MakeInprocEventBus()),
        executor_(storage_->checkpoints()) {
    for (int i = 0; i < 2; ++i) {
      loops_.push_back(std::make_unique<asio::io_context>());
      guards_.emplace_back(loops_.back()->get_executor());
    }
    for (auto& loop : loops_) threads_.emplace_back([l = loop.get()] { l->run(); });
    manager_ = std::make_unique<RunManager>(
        *storage_, graphs_, *bus_, executor_, nullptr,
        [this] { return asio::any_io_executor(loops_[next_++ % 2]->get_executor()); });
    model::Assistant a;
    a.assistant_id = SystemAssistantId("echo");
    a.graph_id = "echo";
    Block(storage_->assistants().Create(a, storage::IfExists::kDoNothing)).value();
    model::Thread t;
    t.thread_id = NewUuid4();
    thread_id_ = Block(storage_->threads().Create(t, storage::IfExists::kRaise)).value().thread_id;
  }

  ~RunManagerTest() override {
    executor_.OpenGate();
    manager_->Stop(5s);
    guards_.clear();
    for (auto& loop : loops_) loop->stop();
    for (auto& t : threads_) t.join();
  }

  template <class T>
  T Block(asio::awaitable<T> task, int loop = 0) {
    auto f = asio::co_spawn(*loops_[loop], std::move(task), asio::use_future);
    if (f.wait_for(30s) != std::future_status::ready) throw std::runtime_error("timed out");
    return f.get();
  }

  RunSpec Spec(MultitaskStrategy strategy) {
    RunSpec spec;
    spec.assistant_id = "echo";
    spec.multitask_strategy = strategy;
    return spec;
  }

  // `n` Create calls at once, alternating between the two loops.
  std::vector<Result<StartedRun>> CreateConcurrently(int n, MultitaskStrategy strategy) {
    std::vector<std::future<Result<StartedRun>>> futures;
    for (int i = 0; i < n; ++i) {
      futures.push_back(asio::co_spawn(*loops_[i % 2],
                                       manager_->Create("", thread_id_, Spec(strategy)),
                                       asio::use_future));
    }
    std::vector<Result<StartedRun>> out;
    for (auto& f : futures) {
      EXPECT_EQ(f.wait_for(30s), std::future_status::ready);
      out.push_back(f.get());
    }
    return out;
  }

  void WaitAll(const std::vector<Result<StartedRun>>& runs) {
    for (const auto& r : runs) {
      if (!r) continue;
      ASSERT_TRUE(Block(r->handle->WaitDone(20s))) << r->run.run_id;
    }
  }

  model::RunStatus StoredStatus(const std::string& run_id) {
    return Block(storage_->runs().Get("", run_id)).value().status;
  }

  std::unique_ptr<storage::Storage> storage_;
  runtime::GraphRegistry graphs_;
  std::unique_ptr<bus::EventBus> bus_;
  FakeExecutor executor_;
  std::vector<std::unique_ptr<asio::io_context>> loops_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
  std::vector<std::thread> threads_;
  std::atomic<int> next_{0};
  std::unique_ptr<RunManager> manager_;
  std::string thread_id_;
};

TEST_F(RunManagerTest, RejectAcceptsExactlyOneRunWhileTheThreadIsActive) {
  auto runs = CreateConcurrently(100, MultitaskStrategy::kReject);
  int accepted = 0;
  for (const auto& r : runs) {
    if (r) {
      ++accepted;
    } else {
      EXPECT_EQ(r.error().code, Errc::kUnprocessable);
      EXPECT_EQ(r.error().message, kThreadBusyText);
    }
  }
  EXPECT_EQ(accepted, 1);
  executor_.OpenGate();
  WaitAll(runs);
  auto thread = Block(storage_->threads().Get("", thread_id_)).value();
  EXPECT_EQ(thread.status, model::ThreadStatus::kIdle);
  EXPECT_FALSE(manager_->IsThreadActive(thread_id_));
  // Finishing released the thread before the run reported done: a reject run is accepted now.
  auto again = Block(manager_->Create("", thread_id_, Spec(MultitaskStrategy::kReject)));
  ASSERT_TRUE(again);
  WaitAll({again});
}

TEST_F(RunManagerTest, EnqueueRunsEveryRunOneAtATimeInCreationOrder) {
  executor_.gate_open_ = true;
  auto runs = CreateConcurrently(100, MultitaskStrategy::kEnqueue);
  std::vector<std::string> ids;
  for (const auto& r : runs) {
    ASSERT_TRUE(r) << r.error().message;
    ids.push_back(r->run.run_id);
  }
  WaitAll(runs);
  std::sort(ids.begin(), ids.end());  // uuid7 drawn at admission: id order is creation order
  EXPECT_EQ(executor_.starts(), ids);
  EXPECT_EQ(executor_.max_concurrency(), 1);
  for (const auto& id : ids) EXPECT_EQ(StoredStatus(id), model::RunStatus::kSuccess);
  auto thread = Block(storage_->threads().Get("", thread_id_)).value();
  EXPECT_EQ(thread.status, model::ThreadStatus::kIdle);
  EXPECT_EQ(thread.values.at("run").as_string(), ids.back());
}

TEST_F(RunManagerTest, InterruptStrategyLeavesOnlyTheNewestRunSucceeding) {
  auto runs = CreateConcurrently(100, MultitaskStrategy::kInterrupt);
  std::vector<std::string> ids;
  for (const auto& r : runs) {
    ASSERT_TRUE(r) << r.error().message;
    ids.push_back(r->run.run_id);
  }
  std::sort(ids.begin(), ids.end());
  // Everything but the newest run is cancelled; let the newest finish.
  for (const auto& r : runs) {
    if (r->run.run_id != ids.back()) {
      ASSERT_TRUE(Block(r->handle->WaitDone(20s)));
    }
  }
  executor_.OpenGate();
  WaitAll(runs);
  EXPECT_EQ(executor_.max_concurrency(), 1);
  for (const auto& id : ids) {
    EXPECT_EQ(StoredStatus(id), id == ids.back() ? model::RunStatus::kSuccess
                                                 : model::RunStatus::kInterrupted);
  }
  EXPECT_EQ(Block(storage_->threads().Get("", thread_id_)).value().status,
            model::ThreadStatus::kIdle);
}

TEST_F(RunManagerTest, RollbackStrategyDeletesCancelledRunsAndTheirCheckpoints) {
  auto runs = CreateConcurrently(100, MultitaskStrategy::kRollback);
  std::vector<std::string> ids;
  for (const auto& r : runs) {
    ASSERT_TRUE(r) << r.error().message;
    ids.push_back(r->run.run_id);
  }
  std::sort(ids.begin(), ids.end());
  for (const auto& r : runs) {
    if (r->run.run_id != ids.back()) {
      ASSERT_TRUE(Block(r->handle->WaitDone(20s)));
    }
  }
  executor_.OpenGate();
  WaitAll(runs);
  EXPECT_EQ(executor_.max_concurrency(), 1);
  for (const auto& id : ids) {
    auto run = Block(storage_->runs().Get("", id));
    if (id == ids.back()) {
      ASSERT_TRUE(run);
      EXPECT_EQ(run->status, model::RunStatus::kSuccess);
    } else {
      EXPECT_FALSE(run) << "rolled back run still stored: " << id;
    }
  }
  storage::HistoryQuery q;
  q.thread_id = thread_id_;
  q.limit = 1000;
  auto history = Block(storage_->checkpoints().List(q)).value();
  ASSERT_EQ(history.size(), 1u);  // only the surviving run's checkpoint
  EXPECT_EQ(history[0].run_id, ids.back());
}

TEST_F(RunManagerTest, CancelInEveryState) {
  auto running = Block(manager_->Create("", thread_id_, Spec(MultitaskStrategy::kEnqueue))).value();
  auto pending = Block(manager_->Create("", thread_id_, Spec(MultitaskStrategy::kEnqueue))).value();
  // Pending: ends interrupted without ever starting.
  ASSERT_NE(manager_->RequestCancel(pending.run.run_id, CancelAction::kInterrupt), nullptr);
  ASSERT_TRUE(Block(pending.handle->WaitDone(10s)));
  EXPECT_EQ(StoredStatus(pending.run.run_id), model::RunStatus::kInterrupted);
  // Running: stopped promptly; its checkpoint stays (interrupt keeps history).
  ASSERT_NE(manager_->RequestCancel(running.run.run_id, CancelAction::kInterrupt), nullptr);
  ASSERT_TRUE(Block(running.handle->WaitDone(10s)));
  EXPECT_EQ(StoredStatus(running.run.run_id), model::RunStatus::kInterrupted);
  EXPECT_EQ(executor_.starts(), std::vector<std::string>{running.run.run_id});
  storage::HistoryQuery q;
  q.thread_id = thread_id_;
  EXPECT_EQ(Block(storage_->checkpoints().List(q)).value().size(), 1u);
  EXPECT_EQ(Block(storage_->threads().Get("", thread_id_)).value().status,
            model::ThreadStatus::kIdle);
  // Finished: nothing to cancel.
  EXPECT_EQ(manager_->RequestCancel(running.run.run_id, CancelAction::kInterrupt), nullptr);
  // Rollback of a running run removes the run and its checkpoint.
  auto rolled = Block(manager_->Create("", thread_id_, Spec(MultitaskStrategy::kReject))).value();
  for (auto deadline = std::chrono::steady_clock::now() + 10s;
       executor_.starts().size() < 2 && std::chrono::steady_clock::now() < deadline;) {
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_GE(executor_.starts().size(), 2u);
  ASSERT_NE(manager_->RequestCancel(rolled.run.run_id, CancelAction::kRollback), nullptr);
  ASSERT_TRUE(Block(rolled.handle->WaitDone(10s)));
  EXPECT_FALSE(Block(storage_->runs().Get("", rolled.run.run_id)));
  EXPECT_EQ(Block(storage_->checkpoints().List(q)).value().size(), 1u);
}

TEST_F(RunManagerTest, StreamLogStartsWithMetadataAndClosesAfterFinish) {
  executor_.gate_open_ = true;
  auto run = Block(manager_->Create("", thread_id_, Spec(MultitaskStrategy::kReject))).value();
  auto sub = run.handle->log()->Subscribe(bus::StartAt{});
  std::string all;
  for (;;) {
    auto frames = Block(sub->Next()).value();
    if (frames.empty()) break;
    for (auto& f : frames) all += *f;
  }
  EXPECT_EQ(all, "event: metadata\ndata: {\"run_id\":\"" + run.run.run_id +
                     "\",\"attempt\":1}\nid: 0\n\nevent: values\ndata: {\"run\":\"" +
                     run.run.run_id + "\"}\nid: 1\n\n");
  EXPECT_TRUE(run.handle->done());
  EXPECT_EQ(ToJson(run.handle->final_body()), "{\"run\":\"" + run.run.run_id + "\"}");
}

TEST_F(RunManagerTest, UnknownAssistantAndMissingThreadAreRefusedWithProtocolText) {
  RunSpec spec = Spec(MultitaskStrategy::kReject);
  spec.assistant_id = "nope";
  auto r = Block(manager_->Create("", thread_id_, spec));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kNotFound);
  EXPECT_EQ(r.error().message,
            "No assistant found for \"nope\". Make sure the assistant ID is for a valid assistant "
            "or a valid graph ID.");
  std::string missing = NewUuid4();
  auto m = Block(manager_->Create("", missing, Spec(MultitaskStrategy::kReject)));
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, Errc::kUnprocessable);
  EXPECT_EQ(m.error().message, "Thread " + missing + " not found");
  executor_.gate_open_ = true;
  RunSpec create = Spec(MultitaskStrategy::kReject);
  create.create_thread_if_missing = true;
  auto c = Block(manager_->Create("", missing, create));
  ASSERT_TRUE(c);
  ASSERT_TRUE(Block(c->handle->WaitDone(10s)));
  auto thread = Block(storage_->threads().Get("", missing)).value();
  EXPECT_EQ(thread.metadata.at("graph_id"), "echo");
}

TEST_F(RunManagerTest, StatelessRunDeletesItsThreadWhenDone) {
  executor_.gate_open_ = true;
  auto run = Block(manager_->Create("", std::nullopt, Spec(MultitaskStrategy::kReject))).value();
  ASSERT_TRUE(Block(run.handle->WaitDone(10s)));
  EXPECT_NE(run.run.thread_id, thread_id_);
  EXPECT_FALSE(Block(storage_->threads().Get("", run.run.thread_id)));
}

}  // namespace
}  // namespace agentd::scheduler
