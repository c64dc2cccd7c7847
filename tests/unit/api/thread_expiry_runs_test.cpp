// Thread TTL with a real RunManager (a gated fake executor): the sweeper leaves a thread with
// an active run alone until the run ends, and run creation on an expired thread answers 404
// with the reason although the gate no longer reads the thread for those routes.
#include <chrono>
#include <future>
#include <memory>
#include <stdexcept>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_future.hpp>

#include "api/thread_expiry.hpp"
#include "api_fixture.hpp"
#include "bus/inproc/inproc_event_bus.hpp"
#include "common/uuid.hpp"
#include "scheduler/one_shot.hpp"
#include "scheduler/run_manager.hpp"

namespace agentd::api::testing {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// Runs until the test opens the gate (or the run is cancelled).
class GatedExecutor final : public scheduler::RunExecutor {
 public:
  asio::awaitable<runtime::RunOutcome> Execute(const runtime::GraphInfo&, runtime::RunRequest,
                                               runtime::RunEventSink&) override {
    co_await asio::this_coro::throw_if_cancelled(false);
    started_.Set();
    runtime::RunOutcome outcome;
    if (!co_await gate_.WaitFor(20s)) outcome.kind = runtime::RunOutcome::Kind::kCancelled;
    co_return outcome;
  }
  scheduler::OneShot gate_;
  scheduler::OneShot started_;
};

class ThreadExpiryRunsTest : public ApiTest {
 protected:
  void SetUp() override {
    ApiTest::SetUp();
    bus_ = bus::inproc::MakeInprocEventBus();
    loop_thread_ = std::thread([this] { loop_.run(); });
    manager_ = std::make_unique<scheduler::RunManager>(
        *storage_, graphs_, *bus_, executor_, nullptr,
        [this] { return asio::any_io_executor(loop_.get_executor()); });
    ctx_->runs = manager_.get();
  }

  void TearDown() override {
    executor_.gate_.Set();
    manager_->Stop(5s);
    ctx_->runs = nullptr;
    guard_.reset();
    loop_.stop();
    loop_thread_.join();
  }

  template <class T>
  T Block(asio::awaitable<T> task) {
    auto f = asio::co_spawn(loop_, std::move(task), asio::use_future);
    if (f.wait_for(20s) != std::future_status::ready) throw std::runtime_error("timed out");
    return f.get();
  }

  // Moves the thread's expiry into the past (Update applies to expired threads).
  void Expire(const std::string& id) {
    storage::ThreadPatch patch;
    patch.expires_at = NowMs() - 60'000;
    ASSERT_TRUE(Block(storage_->threads().Update("", id, patch)));
  }

  bool Listed(const std::string& id) {
    auto expired = Block(storage_->threads().ListExpired(NowMs(), 100)).value();
    for (const auto& t : expired) {
      if (t.thread_id == id) return true;
    }
    return false;
  }

  std::uint64_t Swept() {
    return metrics_.GetCounter("agentd_threads_expired_total", "").value();
  }

  asio::io_context loop_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_{loop_.get_executor()};
  std::thread loop_thread_;
  std::unique_ptr<bus::EventBus> bus_;
  GatedExecutor executor_;
  std::unique_ptr<scheduler::RunManager> manager_;
};

TEST_F(ThreadExpiryRunsTest, SweeperSkipsAThreadWithAnActiveRunUntilTheRunEnds) {
  std::string id = NewThread(R"({"ttl":60})");
  scheduler::RunSpec spec;
  spec.assistant_id = "echo";
  auto run = Block(manager_->Create("", id, spec));
  ASSERT_TRUE(run) << run.error().message;
  ASSERT_TRUE(Block(executor_.started_.WaitFor(20s)));
  Expire(id);
  ASSERT_TRUE(manager_->IsThreadActive(id));

  ThreadSweeper sweeper(loop_.get_executor(), *storage_, manager_.get(), metrics_);
  EXPECT_EQ(Block(sweeper.SweepOnce()), 0);
  EXPECT_TRUE(Listed(id)) << "a thread with an active run must not be deleted";
  EXPECT_EQ(Swept(), 0u);

  executor_.gate_.Set();
  ASSERT_TRUE(Block(run->handle->WaitDone(20s)));
  // The slot is released before the handle reports done (run_manager.hpp).
  ASSERT_FALSE(manager_->IsThreadActive(id));
  EXPECT_EQ(Block(sweeper.SweepOnce()), 1);
  EXPECT_FALSE(Listed(id));
  EXPECT_EQ(Swept(), 1u);
}

TEST_F(ThreadExpiryRunsTest, RunCreationOnAnExpiredThreadAnswers404WithTheReason) {
  std::string id = NewThread(R"({"ttl":60})");
  Expire(id);
  auto stored = Block(storage_->threads().ListExpired(NowMs(), 100)).value();
  ASSERT_EQ(stored.size(), 1u);
  const std::string reason = "Thread " + id + " expired at " + FormatIso8601(stored[0].expires_at);
  for (std::string body : {R"({"assistant_id":"echo"})",
                           R"({"assistant_id":"echo","if_not_exists":"create"})"}) {
    Reply r = Post("/threads/" + id + "/runs", body);
    EXPECT_EQ(r.status, 404) << body << " " << r.body;
    EXPECT_EQ(r.Detail(), reason) << body;
  }
  EXPECT_FALSE(manager_->IsThreadActive(id));
  // A thread that never existed keeps its own answer.
  Reply missing = Post("/threads/" + std::string(kMissingId) + "/runs", R"({"assistant_id":"echo"})");
  EXPECT_EQ(missing.status, 422) << missing.body;
}

TEST_F(ThreadExpiryRunsTest, RunCreationOnAnExpiredAssistantAnswers404WithTheReason) {
  model::Assistant a;
  a.assistant_id = "eeeeeeee-0000-4000-8000-0000000000b2";
  a.graph_id = "echo";
  a.expires_at = NowMs() - 60'000;
  auto created = Block(storage_->assistants().Create(a, storage::IfExists::kRaise));
  ASSERT_TRUE(created) << created.error().message;
  const std::string reason =
      "Assistant " + a.assistant_id + " expired at " + FormatIso8601(created->expires_at);
  std::string thread = NewThread("{}");
  Reply r = Post("/threads/" + thread + "/runs", R"({"assistant_id":")" + a.assistant_id + "\"}");
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_EQ(r.Detail(), reason);
  EXPECT_FALSE(manager_->IsThreadActive(thread));
}

}  // namespace
}  // namespace agentd::api::testing
