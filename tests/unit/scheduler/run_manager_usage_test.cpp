// RunManager records each finished run's token usage on the run and charges it to the
// tenant's token budget (scripted executor, memory storage).
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
#include "scheduler/run_manager.hpp"
#include "storage/memory/memory_storage.hpp"

namespace agentd::scheduler {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;

// Ends every run at once with the scripted kind and token usage.
class UsageExecutor final : public RunExecutor {
 public:
  asio::awaitable<runtime::RunOutcome> Execute(const runtime::GraphInfo&, runtime::RunRequest,
                                               runtime::RunEventSink&) override {
    runtime::RunOutcome outcome;
    outcome.kind = kind;
    if (kind == runtime::RunOutcome::Kind::kError) {
      outcome.error = Error(Errc::kInternal, "model failed");
    } else {
      outcome.values = json::object{{"done", true}};
    }
    outcome.usage = usage;
    co_return outcome;
  }
  runtime::RunOutcome::Kind kind = runtime::RunOutcome::Kind::kSuccess;
  runtime::TokenUsage usage;
};

struct Charge {
  std::string tenant;
  std::string tier;
  std::int64_t tokens = 0;
};

config::Config EchoConfig() {
  config::Config c;
  config::GraphSpec echo;
  echo.graph_id = "echo";
  echo.kind = "echo";
  c.graphs.push_back(echo);
  return c;
}

class RunManagerUsageTest : public ::testing::Test {
 protected:
  RunManagerUsageTest()
      : storage_(storage::MakeMemoryStorage()),
        graphs_(runtime::GraphRegistry::FromConfig(EchoConfig()).value()),
        bus_(bus::inproc::MakeInprocEventBus()) {
    guard_.emplace(loop_.get_executor());
    thread_ = std::thread([this] { loop_.run(); });
    model::Assistant a;
    a.tenant = "acme";  // every run here is acme's (no system-assistant sharing in this fixture)
    a.assistant_id = SystemAssistantId("echo");
    a.graph_id = "echo";
    Block(storage_->assistants().Create(a, storage::IfExists::kDoNothing)).value();
    RunManagerOptions options;
    options.charge_tokens = [this](const std::string& tenant, const std::string& tier,
                                   std::int64_t tokens) {
      std::lock_guard lock(mu_);
      charges_.push_back(Charge{tenant, tier, tokens});
    };
    manager_ = std::make_unique<RunManager>(
        *storage_, graphs_, *bus_, executor_, nullptr,
        [this] { return asio::any_io_executor(loop_.get_executor()); }, std::move(options));
  }
  ~RunManagerUsageTest() override {
    manager_->Stop(5s);
    guard_.reset();
    loop_.stop();
    thread_.join();
  }
  template <class T>
  T Block(asio::awaitable<T> task) {
    auto f = asio::co_spawn(loop_, std::move(task), asio::use_future);
    if (f.wait_for(30s) != std::future_status::ready) throw std::runtime_error("timed out");
    return f.get();
  }
  // Runs one run of `who` to its end and returns the stored record.
  model::Run RunToEnd(const model::Principal& who) {
    model::Thread t;
    t.tenant = who.tenant;
    t.thread_id = NewUuid4();
    Block(storage_->threads().Create(t, storage::IfExists::kRaise)).value();
    RunSpec spec;
    spec.assistant_id = "echo";
    auto started = Block(manager_->Create(who, t.thread_id, std::move(spec))).value();
    EXPECT_TRUE(Block(started.handle->WaitDone(10s)));
    return Block(storage_->runs().Get(who.tenant, started.run.run_id)).value();
  }
  std::vector<Charge> charges() {
    std::lock_guard lock(mu_);
    return charges_;
  }

  std::unique_ptr<storage::Storage> storage_;
  runtime::GraphRegistry graphs_;
  std::unique_ptr<bus::EventBus> bus_;
  UsageExecutor executor_;
  asio::io_context loop_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard_;
  std::thread thread_;
  std::unique_ptr<RunManager> manager_;
  std::mutex mu_;
  std::vector<Charge> charges_;
};

TEST_F(RunManagerUsageTest, FinishedRunStoresTheExecutorsUsageAndChargesItsTenantAndTier) {
  executor_.usage = runtime::TokenUsage{12, 30};
  model::Run run = RunToEnd(model::Principal{"acme", "u1", "pro"});

  EXPECT_EQ(run.status, model::RunStatus::kSuccess);
  EXPECT_EQ(run.usage,
            (json::object{{"input_tokens", 12}, {"output_tokens", 30}, {"total_tokens", 42}}));
  auto charged = charges();
  ASSERT_EQ(charged.size(), 1u);
  EXPECT_EQ(charged[0].tenant, "acme");
  EXPECT_EQ(charged[0].tier, "pro");
  EXPECT_EQ(charged[0].tokens, 42);
}

TEST_F(RunManagerUsageTest, FailedRunStillRecordsAndChargesWhatItSpent) {
  executor_.kind = runtime::RunOutcome::Kind::kError;
  executor_.usage = runtime::TokenUsage{5, 0};
  model::Run run = RunToEnd(model::Principal{"acme", "u1", "pro"});

  EXPECT_EQ(run.status, model::RunStatus::kError);
  EXPECT_EQ(run.usage.at("total_tokens").as_int64(), 5);
  auto charged = charges();
  ASSERT_EQ(charged.size(), 1u);
  EXPECT_EQ(charged[0].tokens, 5);
}

TEST_F(RunManagerUsageTest, RunWithoutTokensStoresZerosAndChargesNothing) {
  model::Run run = RunToEnd(model::Principal{"acme", "u1", "pro"});

  EXPECT_EQ(run.usage,
            (json::object{{"input_tokens", 0}, {"output_tokens", 0}, {"total_tokens", 0}}));
  EXPECT_TRUE(charges().empty());
}

}  // namespace
}  // namespace agentd::scheduler
