// Admission over the whole server (Application in-process, port 0, loopback): far more
// concurrent streaming runs than the budget; queue timeout; run deadline.

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "agentd/application.hpp"
#include "config/loader.hpp"
#include "support/http_client.hpp"

namespace agentd {
namespace {

namespace json = boost::json;
using testing::HttpClient;
using testing::HttpResult;
using namespace std::chrono_literals;

config::Config MakeConfig(std::vector<std::string> extra) {
  config::Environment env;
  env.cores = 2;
  env.fd_limit = 4096;
  std::vector<std::string> args{"--storage", "memory", "--port", "0", "--threads", "2"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto loaded = config::LoadConfig(args, env);
  if (!loaded) throw std::runtime_error(loaded.error().message);
  return *loaded;
}

std::string RunBody(const std::string& content) {
  return R"({"assistant_id":"agent","input":{"messages":[{"role":"user","content":")" + content +
         R"("}]}})";
}

class Server {
 public:
  explicit Server(std::vector<std::string> extra) : config_(MakeConfig(std::move(extra))), app_(config_) {
    auto port = app_.Start();
    if (!port) throw std::runtime_error(port.error().message);
    port_ = *port;
  }
  ~Server() { app_.Stop(); }
  std::uint16_t port() const { return port_; }

 private:
  config::Config config_;
  app::Application app_;
  std::uint16_t port_ = 0;
};

// Sum of a Prometheus family's samples whose line contains `match`.
double MetricSum(const std::string& text, const std::string& family, const std::string& match = "") {
  double sum = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.rfind(family, 0) != 0 || line.find(match) == std::string::npos) continue;
    if (line.size() > family.size() && line[family.size()] != '{' && line[family.size()] != ' ') continue;
    sum += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return sum;
}

TEST(AdmissionIntegration, FarMoreStreamsThanTheBudgetEachSucceedOrAreRefusedFast) {
  Server server({"--max-active-runs", "5", "--max-queued-runs", "20", "--queue-timeout-ms", "20000"});
  constexpr int kRuns = 100;
  struct Outcome {
    int status = 0;
    bool queued = false;
    bool success = false;
    bool retry_after = false;
    std::string error;
    std::chrono::milliseconds took{};
  };
  std::vector<Outcome> outcomes(kRuns);
  std::atomic<bool> stop_health{false};
  std::atomic<int> health_failures{0};
  std::thread health([&] {
    HttpClient c(server.port(), "127.0.0.1", 5s);
    while (!stop_health) {
      if (c.Get("/health").status != 200) ++health_failures;
      std::this_thread::sleep_for(50ms);
    }
  });
  std::vector<std::thread> clients;
  for (int i = 0; i < kRuns; ++i) {
    clients.emplace_back([&, i] {
      HttpClient c(server.port(), "127.0.0.1", 30s);
      auto start = std::chrono::steady_clock::now();
      HttpResult r = c.Post("/runs/stream", RunBody("delay=200 n" + std::to_string(i)));
      Outcome& o = outcomes[i];
      o.took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
      o.status = r.status;
      o.retry_after = r.Header("retry-after").has_value();
      if (r.status == 200) {
        o.queued = r.body.find("event: queue\n") != std::string::npos;
        o.success = r.body.find("echo: delay=200 n" + std::to_string(i)) != std::string::npos &&
                    r.body.find("event: error") == std::string::npos;
      } else {
        boost::system::error_code ec;
        auto body = json::parse(r.body, ec);
        if (!ec && body.is_object() && body.as_object().contains("error")) {
          o.error = std::string(body.at("error").as_string());
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  stop_health = true;
  health.join();

  int succeeded = 0, queued = 0, refused = 0;
  for (int i = 0; i < kRuns; ++i) {
    const Outcome& o = outcomes[i];
    if (o.status == 200) {
      EXPECT_TRUE(o.success) << "run " << i;
      ++succeeded;
      if (o.queued) ++queued;
      EXPECT_LT(o.took, 25s) << "run " << i << " waited past its deadline";
    } else {
      EXPECT_TRUE(o.status == 503 || o.status == 429) << "run " << i << " status " << o.status;
      EXPECT_TRUE(o.retry_after) << "run " << i;
      EXPECT_TRUE(o.error == "server_saturated" || o.error == "tenant_limit") << o.error;
      EXPECT_LT(o.took, 2s) << "refusal " << i << " was not fast";
      ++refused;
    }
  }
  EXPECT_EQ(succeeded + refused, kRuns);
  EXPECT_GE(succeeded, 5);
  EXPECT_GT(queued, 0) << "no client was told it was queued";
  EXPECT_GT(refused, 0) << "the queue bound never refused anything";
  EXPECT_EQ(health_failures.load(), 0);

  HttpClient c(server.port());
  auto metrics = c.Get("/metrics").body;
  EXPECT_EQ(MetricSum(metrics, "agentd_runs_total", "status=\"success\""), succeeded);
  EXPECT_EQ(MetricSum(metrics, "agentd_admission_rejections_total"), refused);
  EXPECT_EQ(MetricSum(metrics, "agentd_runs_active"), 0);
  EXPECT_EQ(MetricSum(metrics, "agentd_runs_queued"), 0);
  EXPECT_GE(MetricSum(metrics, "agentd_run_queue_wait_seconds_count"), succeeded);
  EXPECT_EQ(c.Get("/ready").status, 200);
}

TEST(AdmissionIntegration, ReadyFailsWhileTheQueueIsFull) {
  Server server({"--max-active-runs", "1", "--max-queued-runs", "1", "--queue-timeout-ms", "20000"});
  HttpClient c(server.port());
  ASSERT_EQ(c.Post("/runs", RunBody("delay=1500 a")).status, 200);
  ASSERT_EQ(c.Post("/runs", RunBody("delay=1500 b")).status, 200);
  auto refused = c.Post("/runs", RunBody("c"));
  EXPECT_EQ(refused.status, 503);
  EXPECT_TRUE(refused.Header("retry-after").has_value());
  EXPECT_NE(refused.body.find("\"limit\":\"max_queued_runs\""), std::string::npos) << refused.body;
  EXPECT_EQ(c.Get("/ready").status, 503);
  EXPECT_EQ(c.Get("/health").status, 200);
}

TEST(AdmissionIntegration, ARunQueuedPastQueueTimeoutEndsWithAnErrorEvent) {
  Server server({"--max-active-runs", "1", "--queue-timeout-ms", "300"});
  HttpClient c(server.port());
  ASSERT_EQ(c.Post("/runs", RunBody("delay=3000 long")).status, 200);
  auto start = std::chrono::steady_clock::now();
  auto r = c.Post("/runs/stream", RunBody("short"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2500ms);
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("event: queue\ndata: {\"position\":1,"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("event: error"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("QueueTimeoutError"), std::string::npos) << r.body;
}

TEST(AdmissionIntegration, AJoinedStreamOfAQueuedRunShowsItsQueuePosition) {
  Server server({"--max-active-runs", "1", "--queue-timeout-ms", "20000"});
  HttpClient c(server.port());
  ASSERT_EQ(c.Post("/runs", RunBody("delay=1500 holds the only slot")).status, 200);
  auto thread = json::parse(c.Post("/threads", "{}").body);
  std::string thread_id(thread.at("thread_id").as_string());
  auto created = c.Post("/threads/" + thread_id + "/runs", RunBody("waits"));
  ASSERT_EQ(created.status, 200) << created.body;
  std::string run_id(json::parse(created.body).at("run_id").as_string());
  // Joined by id while it waits: the joiner is told where it stands, then gets the run.
  auto joined = c.Get("/threads/" + thread_id + "/runs/" + run_id + "/stream");
  ASSERT_EQ(joined.status, 200);
  auto queue = joined.body.find("event: queue\ndata: {\"position\":1,");
  auto metadata = joined.body.find("event: metadata");
  ASSERT_NE(queue, std::string::npos) << joined.body;
  ASSERT_NE(metadata, std::string::npos) << joined.body;
  EXPECT_LT(queue, metadata) << joined.body;
  EXPECT_NE(joined.body.find("echo: waits"), std::string::npos) << joined.body;
}

TEST(AdmissionIntegration, ARunPastRunTimeoutEndsTimeoutWithAnErrorEvent) {
  Server server({"--run-timeout-ms", "300"});
  HttpClient c(server.port());
  auto thread = json::parse(c.Post("/threads", "{}").body);
  std::string thread_id(thread.at("thread_id").as_string());
  auto start = std::chrono::steady_clock::now();
  auto r = c.Post("/threads/" + thread_id + "/runs/stream", RunBody("delay=5000 slow"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3000ms);
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("event: error"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("TimeoutError"), std::string::npos) << r.body;
  auto runs = json::parse(c.Get("/threads/" + thread_id + "/runs").body);
  ASSERT_EQ(runs.as_array().size(), 1u);
  EXPECT_EQ(runs.as_array()[0].at("status"), "timeout");
}

}  // namespace
}  // namespace agentd
