// RunManager with admission limits, deadlines and crash recovery (scripted executor, memory
// storage). Shares nothing with run_manager_test.cpp but the idea of its fixture.
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include "bus/inproc/inproc_event_bus.hpp"
#include "common/uuid.hpp"
#include "scheduler/refusal.hpp"
#include "scheduler/run_manager.hpp"
#include "storage/memory/memory_storage.hpp"

namespace agentd::scheduler {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;

// Runs until its gate opens or it is cancelled; records what it was asked to run.
class GateExecutor final : public RunExecutor {
 public:
  asio::awaitable<runtime::RunOutcome> Execute(const runtime::GraphInfo&, runtime::RunRequest request,
                                               runtime::RunEventSink&) override {
    co_await asio::this_coro::throw_if_cancelled(false);
    {
      std::lock_guard lock(mu_);
      inputs_.push_back(request.input);
    }
    bool released = co_await gate_.WaitFor(20s);
    auto state = co_await asio::this_coro::cancellation_state;
    runtime::RunOutcome outcome;
    if (state.cancelled() != asio::cancellation_type::none || !released) {
      outcome.kind = runtime::RunOutcome::Kind::kCancelled;
      co_return outcome;
    }
    outcome.values = json::object{{"done", true}};
    co_return outcome;
  }
  void Open() { gate_.Set(); }
  std::vector<json::value> inputs() {
    std::lock_guard lock(mu_);
    return inputs_;
  }

 private:
  OneShot gate_;
  std::mutex mu_;
  std::vector<json::value> inputs_;
};

config::Config EchoConfig() {
  config::Config c;
  config::GraphSpec echo;
  echo.graph_id = "echo";
  echo.kind = "echo";
  c.graphs.push_back(echo);
  return c;
}

class RunManagerLimitsTest : public ::testing::Test {
 protected:
  RunManagerLimitsTest()
      : storage_(storage::MakeMemoryStorage()),
        graphs_(runtime::GraphRegistry::FromConfig(EchoConfig()).value()),
        bus_(bus::inproc::MakeInprocEventBus()) {
    guard_.emplace(loop_.get_executor());
    thread_ = std::thread([this] { loop_.run(); });
    model::Assistant a;
    a.assistant_id = SystemAssistantId("echo");
    a.graph_id = "echo";
    Block(storage_->assistants().Create(a, storage::IfExists::kDoNothing)).value();
  }
  ~RunManagerLimitsTest() override {
    executor_.Open();
    if (manager_) manager_->Stop(5s);
    guard_.reset();
    loop_.stop();
    thread_.join();
  }
  void Use(RunManagerOptions options) {
    manager_ = std::make_unique<RunManager>(
        *storage_, graphs_, *bus_, executor_, nullptr,
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
    return Block(storage_->threads().Create(t, storage::IfExists::kRaise)).value().thread_id;
  }
  Result<StartedRun> Create(model::Principal who = {}) {
    RunSpec spec;
    spec.assistant_id = "echo";
    spec.input = json::object{{"n", 1}};
    return Block(manager_->Create(who, NewThread(), std::move(spec)));
  }
  model::RunStatus StoredStatus(const std::string& run_id) {
    return Block(storage_->runs().Get("", run_id)).value().status;
  }

  std::unique_ptr<storage::Storage> storage_;
  runtime::GraphRegistry graphs_;
  std::unique_ptr<bus::EventBus> bus_;
  GateExecutor executor_;
  asio::io_context loop_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard_;
  std::thread thread_;
  std::unique_ptr<RunManager> manager_;
};

TEST_F(RunManagerLimitsTest, RunPastItsDeadlineEndsTimeout) {
  RunManagerOptions o;
  o.limits.run_timeout = 100ms;
  Use(o);
  auto run = Create().value();
  ASSERT_TRUE(Block(run.handle->WaitDone(10s)));
  EXPECT_EQ(run.handle->final_status(), model::RunStatus::kTimeout);
  EXPECT_EQ(StoredStatus(run.run.run_id), model::RunStatus::kTimeout);
}

TEST_F(RunManagerLimitsTest, RunQueuedPastQueueTimeoutEndsErrorWithoutExecuting) {
  RunManagerOptions o;
  o.limits.max_active_runs = 1;
  o.limits.queue_timeout = 100ms;
  Use(o);
  auto first = Create().value();
  auto second = Create().value();
  ASSERT_TRUE(Block(second.handle->WaitDone(10s)));
  EXPECT_EQ(StoredStatus(second.run.run_id), model::RunStatus::kError);
  EXPECT_FALSE(first.handle->done());
  EXPECT_EQ(executor_.inputs().size(), 1u);  // the second never executed
  EXPECT_EQ(manager_->admission_stats().executing, 1u);
}

TEST_F(RunManagerLimitsTest, TenantOverItsTierIsRefused429AndNothingIsWritten) {
  RunManagerOptions o;
  o.limits.max_active_runs = 10;
  o.limits.tiers = {config::TierLimits{.name = "default"},
                    config::TierLimits{.name = "free", .max_concurrent_runs = 1, .max_queued_runs = 1}};
  Use(o);
  model::Principal who{"", "u", "free"};
  ASSERT_TRUE(Create(who));
  ASSERT_TRUE(Create(who));
  auto refused = Create(who);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::kResourceExhausted);
  EXPECT_EQ(ParseRefusal(refused.error())->limit, "max_concurrent_runs");
  // The default tier is unlimited.
  EXPECT_TRUE(Create());
}

TEST_F(RunManagerLimitsTest, RecoverResumesStoredRunsWithTheNextAttempt) {
  Use({});
  // A run a previous process accepted and never finished.
  std::string thread_id = NewThread();
  model::Run run;
  run.run_id = NewUuid7();
  run.thread_id = thread_id;
  run.assistant_id = SystemAssistantId("echo");
  run.kwargs = json::object{{"input", json::object{{"n", 7}}}, {"stream_mode", json::array{"values"}}};
  Block(storage_->runs().Create(run)).value();
  EXPECT_EQ(Block(manager_->Recover()).value(), 1u);
  auto h = manager_->Find(run.run_id);
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->attempt(), 2);
  executor_.Open();
  ASSERT_TRUE(Block(h->WaitDone(10s)));
  EXPECT_EQ(StoredStatus(run.run_id), model::RunStatus::kSuccess);
  ASSERT_EQ(executor_.inputs().size(), 1u);
  EXPECT_EQ(executor_.inputs()[0], (json::object{{"n", 7}}));  // no checkpoint: original input
}

TEST_F(RunManagerLimitsTest, RecoverWithResumeOffEndsRunsError) {
  RunManagerOptions o;
  o.resume_on_start = false;
  Use(o);
  std::string thread_id = NewThread();
  model::Run run;
  run.run_id = NewUuid7();
  run.thread_id = thread_id;
  run.assistant_id = SystemAssistantId("echo");
  run.status = model::RunStatus::kRunning;
  Block(storage_->runs().Create(run)).value();
  EXPECT_EQ(Block(manager_->Recover()).value(), 1u);
  EXPECT_EQ(StoredStatus(run.run_id), model::RunStatus::kError);
  EXPECT_EQ(manager_->Find(run.run_id), nullptr);
}

TEST_F(RunManagerLimitsTest, DrainLeavesUnfinishedRunsPendingOrRunning) {
  RunManagerOptions o;
  o.limits.max_active_runs = 1;
  o.drain_on_stop = true;
  Use(o);
  auto running = Create().value();
  auto queued = Create().value();
  // Wait until the first one executes.
  for (int i = 0; i < 200 && executor_.inputs().empty(); ++i) std::this_thread::sleep_for(10ms);
  manager_->Stop(200ms);
  EXPECT_EQ(StoredStatus(running.run.run_id), model::RunStatus::kRunning);
  EXPECT_EQ(StoredStatus(queued.run.run_id), model::RunStatus::kPending);
  auto refused = Create();
  ASSERT_FALSE(refused);
  EXPECT_EQ(ParseRefusal(refused.error())->error, "shutting_down");
}

}  // namespace
}  // namespace agentd::scheduler
