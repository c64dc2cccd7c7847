// Smoke run of the loadgen against a whole agentd in-process (port 0, loopback): exact counts
// and zero errors, never timings.

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "agentd/application.hpp"
#include "config/loader.hpp"
#include "loadgen/scenarios.hpp"

namespace agentd {
namespace {

class LoadgenSmokeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config::Environment env;
    env.cores = 2;
    env.fd_limit = 4096;
    std::vector<std::string> args{"--storage", "memory", "--port", "0", "--threads", "2"};
    auto loaded = config::LoadConfig(args, env);
    ASSERT_TRUE(loaded.has_value()) << loaded.error().message;
    config_ = *loaded;
    app_ = std::make_unique<app::Application>(config_);
    auto port = app_->Start();
    ASSERT_TRUE(port.has_value()) << port.error().message;
    options_.target.port = *port;
    options_.timeout = std::chrono::seconds(30);
    options_.max_seconds = 60;
  }
  void TearDown() override {
    if (app_) app_->Stop();
  }

  config::Config config_;
  std::unique_ptr<app::Application> app_;
  loadgen::Options options_;
};

TEST_F(LoadgenSmokeTest, WaitCompletesEveryRunWithoutErrors) {
  options_.scenario = "wait";
  options_.runs = 200;
  options_.concurrency = 8;
  auto r = loadgen::RunScenario(options_);
  EXPECT_EQ(r.Counter("started"), 200u);
  EXPECT_EQ(r.Counter("completed"), 200u);
  EXPECT_EQ(r.Counter("failed"), 0u) << r.FormatTable();
  EXPECT_TRUE(r.errors.empty()) << r.FormatTable();
  EXPECT_EQ(r.Latency("wait").count(), 200u);
  EXPECT_EQ(r.Latency("create_thread").count(), 200u);
}

TEST_F(LoadgenSmokeTest, StreamCompletesEveryRunAndSeesItsFirstTokens) {
  options_.scenario = "stream";
  options_.runs = 100;
  options_.concurrency = 100;
  options_.delay_ms = 20;
  auto r = loadgen::RunScenario(options_);
  EXPECT_EQ(r.Counter("completed"), 100u);
  EXPECT_EQ(r.Counter("failed"), 0u) << r.FormatTable();
  EXPECT_EQ(r.Latency("first_event").count(), 100u);
  EXPECT_EQ(r.Latency("first_token").count(), 100u);  // messages-tuple events arrived
  EXPECT_EQ(r.Latency("overhead").count(), 100u);
  // Every run's duration includes the model's delay, so none can be shorter than it.
  EXPECT_GE(r.Latency("duration").min(), 20'000u);
}

TEST_F(LoadgenSmokeTest, HistoryDrivesOneThreadThroughSequentialTurns) {
  options_.scenario = "history";
  options_.turns = 20;
  auto r = loadgen::RunScenario(options_);
  EXPECT_EQ(r.Counter("completed"), 20u);
  EXPECT_EQ(r.Counter("failed"), 0u) << r.FormatTable();
  // The thread grows, so the newest checkpoint's history entry grows too.
  EXPECT_GT(r.figures.at("last10_history_bytes"), r.figures.at("first10_history_bytes"));
}

}  // namespace
}  // namespace agentd
