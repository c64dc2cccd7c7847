#include <chrono>

#include <boost/json/parse.hpp>

#include "api_fixture.hpp"

namespace agentd::api::testing {
namespace {

using http::Method;

TEST_F(ApiTest, OkAnswersOkTrue) {
  Reply r = Get("/ok");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"ok":true})");
  EXPECT_EQ(r.ContentType(), "application/json");
}

TEST_F(ApiTest, InfoReportsVersionAndFlags) {
  Reply r = Get("/info");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body,
            R"({"version":"0.1.0-test","flags":{"assistants":true,"crons":false,)"
            R"("langsmith":false,"langsmith_tracing_replicas":true}})");
}

TEST_F(ApiTest, HealthIsOkWhileLoopsTick) {
  health_.RecordTick(0, std::chrono::steady_clock::now(), std::chrono::microseconds(7));
  Reply r = Get("/health");
  EXPECT_EQ(r.status, 200);
  auto body = r.Json();
  EXPECT_EQ(body.at("status"), "ok");
  ASSERT_EQ(body.at("loops").as_array().size(), 1u);
  EXPECT_EQ(body.at("loops").at(0).at("last_lag_us"), 7);
  EXPECT_EQ(body.at("loops").at(0).at("stalled"), false);
}

TEST_F(ApiTest, HealthFailsNamingTheStalledLoop) {
  health_.RecordTick(0, std::chrono::steady_clock::now() - std::chrono::hours(1),
                     std::chrono::microseconds(0));
  Reply r = Get("/health");
  EXPECT_EQ(r.status, 503);
  auto body = r.Json();
  EXPECT_EQ(body.at("status"), "stalled");
  EXPECT_NE(std::string(body.at("error").as_string()).find("loop 0"), std::string::npos)
      << r.body;
  EXPECT_EQ(body.at("loops").at(0).at("stalled"), true);
}

TEST_F(ApiTest, ReadyUntilDraining) {
  Reply ready = Get("/ready");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.body, R"({"status":"ready"})");
  health_.SetDraining();
  Reply draining = Get("/ready");
  EXPECT_EQ(draining.status, 503);
  EXPECT_EQ(draining.body, R"({"status":"draining"})");
}

TEST_F(ApiTest, MetricsArePrometheusText) {
  metrics_.GetCounter("agentd_test_things_total", "Things.").Inc(3);
  Reply r = Get("/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.ContentType(), "text/plain; version=0.0.4");
  EXPECT_NE(r.body.find("agentd_test_things_total 3"), std::string::npos) << r.body;
}

TEST_F(ApiTest, UnknownRouteIs404) { EXPECT_EQ(Get("/nope").status, 404); }

TEST_F(ApiTest, TruncateWipesThreadsButKeepsSystemAssistants) {
  std::string thread_id = NewThread();
  ASSERT_EQ(Post("/assistants", R"({"graph_id":"agent"})").status, 200);
  Reply r = Post("/internal/truncate", R"({"threads":true,"assistants":true})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"ok":true})");
  EXPECT_EQ(Get("/threads/" + thread_id).status, 404);
  EXPECT_EQ(Post("/assistants/count").body, "2");
}

TEST_F(ApiTest, TruncateValidatesFlags) {
  Reply r = Post("/internal/truncate", R"({"threads":"yes"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.Json().at("error").at("issues").at(0).at("path"), json::array{"threads"});
}

TEST_F(ApiTest, MalformedJsonIs400InvalidJson) {
  for (auto target : {"/threads", "/assistants", "/assistants/search", "/store/items/search"}) {
    Reply r = Post(target, "{\"graph_id\":");
    EXPECT_EQ(r.status, 400) << target;
    EXPECT_EQ(r.ContentType(), "application/json") << target;
    EXPECT_EQ(r.Json(), json::parse(R"({"error":"invalid_json",)"
                                    R"("detail":"Malformed JSON in request body"})"))
        << target;
  }
}

TEST_F(ApiTest, NonObjectBodyIs400) {
  Reply r = Post("/threads", "[1,2]");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.Detail(), "Request body must be a JSON object, received array");
}

class ApiTestNoDevEndpoints : public ApiTest {
 protected:
  ApiTestNoDevEndpoints() : ApiTest(/*dev_endpoints=*/false) {}
};

TEST_F(ApiTestNoDevEndpoints, TruncateIsNotMounted) {
  EXPECT_EQ(Post("/internal/truncate", "{}").status, 404);
}

}  // namespace
}  // namespace agentd::api::testing
