// The whole server as `agentd serve` builds it (Application), on port 0, driven over real
// loopback sockets: the endpoints and error cases of the foundation, keep-alive, liveness
// with a deliberately blocked event loop, graceful shutdown, and SQLite durability.

#include "agentd/application.hpp"

#include <chrono>
#include <latch>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/post.hpp>
#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "config/loader.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"

namespace agentd {
namespace {

namespace json = boost::json;
using testing::HttpClient;
using testing::HttpResult;

config::Config MakeConfig(std::vector<std::string> args) {
  config::Environment env;
  env.cores = 2;
  env.fd_limit = 4096;
  args.insert(args.end(), {"--port", "0", "--threads", "2"});
  auto loaded = config::LoadConfig(args, env);
  if (!loaded) throw std::runtime_error(loaded.error().message);
  return *loaded;
}

json::value Json(const HttpResult& r) { return json::parse(r.body); }

class ServerTest : public ::testing::Test {
 protected:
  void StartWith(std::vector<std::string> args) {
    config_ = MakeConfig(std::move(args));
    app_ = std::make_unique<app::Application>(config_);
    auto port = app_->Start();
    ASSERT_TRUE(port.has_value()) << port.error().message;
    port_ = *port;
  }
  void TearDown() override {
    if (app_) app_->Stop();
  }

  config::Config config_;
  std::unique_ptr<app::Application> app_;
  std::uint16_t port_ = 0;
};

TEST_F(ServerTest, ServesSystemEndpointsAndSystemAssistants) {
  StartWith({"--storage", "memory"});
  HttpClient client(port_);
  EXPECT_EQ(client.Get("/ok").body, R"({"ok":true})");
  auto info = Json(client.Get("/info"));
  EXPECT_EQ(info.at("flags").at("assistants"), true);
  EXPECT_EQ(info.at("flags").at("crons"), false);
  EXPECT_EQ(client.Get("/health").status, 200);
  EXPECT_EQ(client.Get("/ready").status, 200);
  auto metrics = client.Get("/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("agentd_http_requests_total"), std::string::npos);
  EXPECT_NE(metrics.body.find("agentd_event_loop_lag_seconds"), std::string::npos);

  auto agent = client.Get("/assistants/agent");
  ASSERT_EQ(agent.status, 200);
  EXPECT_EQ(Json(agent).at("assistant_id"), "fe096781-5601-53d2-b2f6-0d3403f7e9ca");
  auto found = client.Post("/assistants/search", R"({"graph_id":"echo"})");
  ASSERT_EQ(found.status, 200);
  EXPECT_EQ(Json(found).as_array().size(), 1u);
  EXPECT_EQ(found.Header("x-pagination-total"), "1");
  // Every request above reused one keep-alive connection.
  EXPECT_EQ(client.connections_opened(), 1);
}

TEST_F(ServerTest, AnswersBadInputWithClear4xxAndWritesNothing) {
  StartWith({"--storage", "memory", "--body-limit", "1024"});
  HttpClient client(port_);
  auto before = client.Post("/threads/count", "{}");
  ASSERT_EQ(before.body, "0");

  auto malformed = client.Post("/threads", "{not json");
  EXPECT_EQ(malformed.status, 400);
  EXPECT_EQ(Json(malformed),
            json::parse(R"({"error":"invalid_json","detail":"Malformed JSON in request body"})"));

  auto wrong_type = client.Post("/threads", R"({"metadata":"x"})");
  EXPECT_EQ(wrong_type.status, 400);
  EXPECT_NE(wrong_type.body.find(R"("path":["metadata"])"), std::string::npos) << wrong_type.body;

  auto missing = client.Post("/assistants", R"({"name":"no graph"})");
  EXPECT_EQ(missing.status, 400);
  EXPECT_NE(missing.body.find(R"("path":["graph_id"])"), std::string::npos) << missing.body;

  auto bad_id = client.Get("/threads/not-a-uuid");
  EXPECT_EQ(bad_id.status, 400);
  EXPECT_NE(bad_id.body.find(R"("path":["thread_id"])"), std::string::npos) << bad_id.body;

  auto missing_thread = client.Get("/threads/00000000-0000-4000-8000-000000000000");
  EXPECT_EQ(missing_thread.status, 404);
  EXPECT_EQ(Json(missing_thread).at("detail"),
            "Thread with ID 00000000-0000-4000-8000-000000000000 not found");

  EXPECT_EQ(client.Get("/no/such/route").status, 404);
  EXPECT_EQ(client.Send("PUT", "/threads/search").status, 405);

  auto oversize = client.Post("/threads", std::string(4096, ' '));
  EXPECT_EQ(oversize.status, 413);

  HttpClient fresh(port_);
  EXPECT_EQ(fresh.Post("/threads/count", "{}").body, "0") << "a refused request wrote something";
}

TEST_F(ServerTest, ThreadLifecycleOverSockets) {
  StartWith({"--storage", "memory"});
  HttpClient client(port_);
  auto created = client.Post("/threads", R"({"metadata":{"user":"ada"}})");
  ASSERT_EQ(created.status, 200);
  std::string id(Json(created).at("thread_id").as_string());
  EXPECT_EQ(Json(created).at("status"), "idle");

  auto state = Json(client.Get("/threads/" + id + "/state"));
  EXPECT_EQ(state.at("values"), json::object{});
  EXPECT_TRUE(state.at("checkpoint").is_null());
  EXPECT_EQ(client.Post("/threads/" + id + "/history", "{}").body, "[]");

  auto copy = client.Send("POST", "/threads/" + id + "/copy");
  ASSERT_EQ(copy.status, 200);
  EXPECT_EQ(Json(copy).at("metadata").at("user"), "ada");

  EXPECT_EQ(client.Post("/threads/search", R"({"metadata":{"user":"ada"}})").Header(
                "x-pagination-total"),
            "2");
  EXPECT_EQ(client.Send("DELETE", "/threads/" + id).status, 204);
  EXPECT_EQ(client.Get("/threads/" + id).status, 404);
}

TEST_F(ServerTest, HealthFailsWhileAnEventLoopIsBlockedAndRecoversAfter) {
  StartWith({"--storage", "memory", "--health-stall-threshold-ms", "200"});
  // Connections are handed to the loops round-robin from loop 0, so this client's connection
  // is served by loop 0 and stays there (keep-alive); loop 1 is the one we block.
  HttpClient client(port_);
  ASSERT_EQ(client.Get("/health").status, 200);

  std::latch release(1);
  std::latch blocked(1);
  boost::asio::post(app_->loops().loop(1), [&] {
    blocked.count_down();
    release.wait();  // deliberately block this event loop
  });
  blocked.wait();

  // Bounded: the probe threshold is 200 ms; give it up to 10 s of wall time.
  HttpResult health;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  do {
    health = client.Get("/health");
  } while (health.status == 200 && std::chrono::steady_clock::now() < deadline);
  release.count_down();
  ASSERT_EQ(health.status, 503) << health.body;
  EXPECT_NE(health.body.find("loop 1"), std::string::npos) << health.body;

  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  do {
    health = client.Get("/health");
  } while (health.status != 200 && std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(health.status, 200) << health.body;
}

TEST_F(ServerTest, ReadinessFailsWhileDraining) {
  StartWith({"--storage", "memory"});
  HttpClient client(port_);
  ASSERT_EQ(client.Get("/ready").status, 200);
  app_->health().SetDraining();
  EXPECT_EQ(client.Get("/ready").status, 503);
  EXPECT_EQ(client.Get("/health").status, 200) << "draining is not death";
}

TEST_F(ServerTest, SqliteStateSurvivesARestart) {
  testing::TempDir dir;
  StartWith({"--data-dir", dir.path().string()});
  std::string thread_id;
  {
    HttpClient client(port_);
    auto created = client.Post("/threads", R"({"metadata":{"keep":"me"}})");
    ASSERT_EQ(created.status, 200);
    thread_id = std::string(Json(created).at("thread_id").as_string());
    auto assistant = client.Post("/assistants", R"({"graph_id":"agent","name":"mine"})");
    ASSERT_EQ(assistant.status, 200);
    ASSERT_EQ(client.Send("PUT", "/store/items",
                          R"({"namespace":["a","b"],"key":"k","value":{"v":1}})",
                          {{"content-type", "application/json"}})
                  .status,
              204);
  }
  app_->Stop();
  app_.reset();

  StartWith({"--data-dir", dir.path().string()});
  HttpClient client(port_);
  auto thread = client.Get("/threads/" + thread_id);
  ASSERT_EQ(thread.status, 200);
  EXPECT_EQ(Json(thread).at("metadata").at("keep"), "me");
  // Two system assistants (not duplicated by the second start) plus ours.
  EXPECT_EQ(client.Post("/assistants/count", "{}").body, "3");
  auto item = Json(client.Get("/store/items?namespace=a.b&key=k"));
  EXPECT_EQ(item.at("value").at("v"), 1);
}

}  // namespace
}  // namespace agentd
