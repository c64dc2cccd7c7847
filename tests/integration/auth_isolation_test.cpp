// Auth, tenant isolation and rate limits over loopback: the whole server in-process (as
// `agentd serve` builds it) with two API-key tenants. For every endpoint, tenant B gets 404 or
// an empty list for tenant A's objects; nobody but the system modifies system assistants.

#include "agentd/application.hpp"

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "config/access.hpp"
#include "config/loader.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"

namespace agentd {
namespace {

namespace json = boost::json;
using testing::HttpClient;
using testing::HttpResult;
using Headers = std::vector<std::pair<std::string, std::string>>;

class AuthServerTest : public ::testing::Test {
 protected:
  void StartWith(const std::string& limits_json) {
    const std::string path = (dir_.path() / "agentd.json").string();
    std::ofstream(path) << R"({"server": {"storage": "memory"}, "limits": )" << limits_json
                        << R"(, "auth": {"mode": "required", "api_keys": [
          {"sha256": ")" << config::Sha256Hex("key-a") << R"(", "tenant": "a", "user_id": "ua"},
          {"sha256": ")" << config::Sha256Hex("key-b") << R"(", "tenant": "b", "user_id": "ub"}]}})";
    config::Environment env;
    env.cores = 2;
    env.fd_limit = 4096;
    auto loaded = config::LoadConfig(
        std::vector<std::string>{"--config", path, "--port", "0", "--threads", "2"}, env);
    ASSERT_TRUE(loaded) << loaded.error().message;
    config_ = *loaded;
    app_ = std::make_unique<app::Application>(config_);
    auto port = app_->Start();
    ASSERT_TRUE(port.has_value()) << port.error().message;
    port_ = *port;
  }
  void TearDown() override {
    if (app_) app_->Stop();
  }

  HttpResult As(const std::string& key, std::string_view method, std::string_view target,
                std::string_view body = {}) {
    HttpClient& c = key == "key-a" ? *a_ : *b_;
    Headers h{{"x-api-key", key}};
    if (!body.empty()) h.emplace_back("content-type", "application/json");
    return c.Send(method, target, body, h);
  }

  testing::TempDir dir_;
  config::Config config_;
  std::unique_ptr<app::Application> app_;
  std::uint16_t port_ = 0;
  std::unique_ptr<HttpClient> a_, b_;
};

TEST_F(AuthServerTest, RefusesMissingAndBadCredentialsButNotPublicPaths) {
  StartWith("{}");
  HttpClient c(port_);
  EXPECT_EQ(c.Get("/ok").status, 200);
  EXPECT_EQ(c.Get("/health").status, 200);
  EXPECT_EQ(c.Get("/info").status, 200);
  auto missing = c.Post("/threads/search", "{}");
  EXPECT_EQ(missing.status, 401);
  EXPECT_EQ(missing.Header("www-authenticate"), R"(Bearer realm="agentd")");
  EXPECT_EQ(json::parse(missing.body).at("error"), "unauthorized");
  auto bad = c.Send("POST", "/threads/search", "{}", {{"x-api-key", "nope"}});
  EXPECT_EQ(bad.status, 401);
  EXPECT_NE(bad.Header("www-authenticate")->find(R"(error="invalid_token")"), std::string::npos);
  EXPECT_EQ(bad.body.find("nope"), std::string::npos);
  auto token = c.Send("GET", "/threads/search", "", {{"authorization", "Bearer a.b.c"}});
  EXPECT_EQ(token.status, 401);
  EXPECT_EQ(c.Send("POST", "/internal/truncate", "{}", {{"x-api-key", "key-a"}}).status, 404);
  auto metrics = c.Get("/metrics").body;
  EXPECT_NE(metrics.find(R"(agentd_auth_failures_total{reason="missing"} 1)"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find(R"(agentd_auth_failures_total{reason="invalid_key"} 1)"), std::string::npos);
}

TEST_F(AuthServerTest, TenantBNeverSeesOrChangesTenantAObjects) {
  StartWith("{}");
  a_ = std::make_unique<HttpClient>(port_);
  b_ = std::make_unique<HttpClient>(port_);
  const std::string A = "key-a", B = "key-b";

  // Tenant A's objects: a thread with a finished run, an assistant, a store item.
  auto thread = As(A, "POST", "/threads", R"({"metadata":{"owner":"a"}})");
  ASSERT_EQ(thread.status, 200) << thread.body;
  const std::string t = std::string(json::parse(thread.body).at("thread_id").as_string());
  auto run = As(A, "POST", "/threads/" + t + "/runs",
                R"({"assistant_id":"echo","input":{"messages":[{"role":"user","content":"hi"}]}})");
  ASSERT_EQ(run.status, 200) << run.body;
  const std::string r = std::string(json::parse(run.body).at("run_id").as_string());
  ASSERT_EQ(As(A, "GET", "/threads/" + t + "/runs/" + r + "/join").status, 200);
  auto assistant = As(A, "POST", "/assistants", R"({"graph_id":"echo","name":"mine"})");
  ASSERT_EQ(assistant.status, 200) << assistant.body;
  const std::string as = std::string(json::parse(assistant.body).at("assistant_id").as_string());
  ASSERT_EQ(As(A, "PUT", "/store/items", R"({"namespace":["n"],"key":"k","value":{"x":1}})").status, 204);

  const std::string tp = "/threads/" + t;
  const std::string rp = tp + "/runs/" + r;
  struct Probe {
    std::string method, target, body;
  };
  const std::vector<Probe> not_found = {
      {"GET", tp, ""},
      {"PATCH", tp, R"({"metadata":{"x":1}})"},
      {"DELETE", tp, ""},
      {"GET", tp + "/state", ""},
      {"POST", tp + "/state", R"({"values":{}})"},
      {"GET", tp + "/history", ""},
      {"POST", tp + "/history", "{}"},
      {"POST", tp + "/copy", ""},
      {"GET", rp, ""},
      {"GET", rp + "/join", ""},
      {"POST", rp + "/cancel", ""},
      {"DELETE", rp, ""},
      {"POST", tp + "/runs", R"({"assistant_id":"echo","if_not_exists":"reject"})"},
      {"GET", "/assistants/" + as, ""},
      {"PATCH", "/assistants/" + as, R"({"name":"stolen"})"},
      {"DELETE", "/assistants/" + as, ""},
      {"POST", "/assistants/" + as + "/versions", "{}"},
      {"POST", "/assistants/" + as + "/latest", R"({"version":1})"},
      {"GET", "/assistants/" + as + "/graph", ""},
  };
  for (const auto& p : not_found) {
    SCOPED_TRACE(p.method + " " + p.target);
    auto res = As(B, p.method, p.target, p.body);
    // 404 - exactly what a missing object gets (a copy of a missing thread is 409 "Thread not
    // found" by the protocol; creating a run on one under if_not_exists=reject is refused too).
    const bool as_missing = res.status == 404 ||
                            (p.target == tp + "/copy" && res.status == 409 &&
                             json::parse(res.body).at("detail") == "Thread not found") ||
                            (p.target == tp + "/runs" && res.status >= 400 && res.status < 500);
    EXPECT_TRUE(as_missing) << res.status << " " << res.body;
  }
  auto runs = As(B, "GET", tp + "/runs");
  EXPECT_TRUE(runs.status == 404 || runs.body == "[]") << runs.body;
  auto stream = As(B, "GET", rp + "/stream");
  EXPECT_TRUE(stream.status == 404 || stream.body.find("NotFoundError") != std::string::npos) << stream.body;

  // Searches and counts hold none of A's objects.
  auto threads = As(B, "POST", "/threads/search", "{}");
  EXPECT_EQ(threads.body, "[]");
  EXPECT_EQ(As(B, "POST", "/threads/count", "{}").body, "0");
  auto assistants = json::parse(As(B, "POST", "/assistants/search", R"({"limit":100})").body).as_array();
  for (const auto& x : assistants) EXPECT_NE(x.at("assistant_id").as_string(), as);
  EXPECT_EQ(assistants.size(), 2u);  // the system assistants (agent, echo)
  EXPECT_EQ(As(B, "POST", "/assistants/count", "{}").body, "2");
  auto item = As(B, "GET", "/store/items?namespace=n&key=k");
  EXPECT_TRUE(item.status == 404 || item.body == "null") << item.body;
  EXPECT_EQ(json::parse(As(B, "POST", "/store/items/search", R"({"namespace_prefix":["n"]})").body)
                .at("items").as_array().size(), 0u);
  EXPECT_EQ(json::parse(As(B, "POST", "/store/namespaces", "{}").body).at("namespaces").as_array().size(), 0u);

  // A still has everything (B's attempts changed nothing).
  EXPECT_EQ(As(A, "GET", tp).status, 200);
  EXPECT_EQ(As(A, "GET", rp).status, 200);
  EXPECT_EQ(json::parse(As(A, "GET", "/assistants/" + as).body).at("name"), "mine");
  EXPECT_NE(As(A, "GET", "/store/items?namespace=n&key=k").body, "null");
  EXPECT_EQ(As(A, "POST", "/assistants/count", "{}").body, "3");

  // System assistants: visible to both, runnable, but read-only for tenants (409).
  auto agent = As(B, "GET", "/assistants/agent");
  ASSERT_EQ(agent.status, 200);
  const std::string sys = std::string(json::parse(agent.body).at("assistant_id").as_string());
  EXPECT_EQ(As(B, "PATCH", "/assistants/" + sys, R"({"name":"mine now"})").status, 409);
  EXPECT_EQ(As(B, "DELETE", "/assistants/" + sys).status, 409);
  EXPECT_EQ(As(A, "DELETE", "/assistants/" + sys).status, 409);
  EXPECT_EQ(As(B, "GET", "/assistants/agent").status, 200);
  auto b_run = As(B, "POST", "/runs/wait", R"({"assistant_id":"echo","input":{"messages":[]}})");
  EXPECT_EQ(b_run.status, 200) << b_run.body;
}

TEST_F(AuthServerTest, RateLimitsAnswer429WithHeaders) {
  StartWith(R"({"per_key_requests_per_second": 0.001, "per_key_burst": 2})");
  a_ = std::make_unique<HttpClient>(port_);
  b_ = std::make_unique<HttpClient>(port_);
  auto first = As("key-a", "POST", "/threads/count", "{}");
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.Header("ratelimit-limit"), "2");
  EXPECT_EQ(first.Header("ratelimit-remaining"), "1");
  EXPECT_EQ(As("key-a", "POST", "/threads/count", "{}").status, 200);
  auto refused = As("key-a", "POST", "/threads/count", "{}");
  EXPECT_EQ(refused.status, 429);
  EXPECT_TRUE(refused.Header("retry-after").has_value());
  EXPECT_EQ(refused.Header("ratelimit-reset"), refused.Header("retry-after"));
  EXPECT_EQ(refused.Header("ratelimit-remaining"), "0");
  auto body = json::parse(refused.body);
  EXPECT_EQ(body.at("error"), "rate_limited");
  EXPECT_EQ(body.at("limit"), "per_key");
  EXPECT_EQ(As("key-b", "POST", "/threads/count", "{}").status, 200);  // other key unaffected
  HttpClient c(port_);
  EXPECT_EQ(c.Get("/ok").status, 200);  // public paths are never limited
  EXPECT_NE(c.Get("/metrics").body.find(R"(agentd_ratelimit_rejections_total{limit="per_key"} 1)"),
            std::string::npos);
}

// /mcp and /a2a (docs/interop.md) sit behind the same gate: no key, no answer; each tenant's
// tools are its own assistants (and the system ones); another tenant's tool, agent card or task
// is unknown.
TEST_F(AuthServerTest, McpAndA2aAreAuthenticatedAndTenantScoped) {
  StartWith("{}");
  a_ = std::make_unique<HttpClient>(port_);
  b_ = std::make_unique<HttpClient>(port_);
  const std::string A = "key-a", B = "key-b";
  HttpClient anonymous(port_);
  EXPECT_EQ(anonymous.Post("/mcp", R"({"jsonrpc":"2.0","id":1,"method":"ping"})").status, 401);
  EXPECT_EQ(anonymous.Get("/a2a/echo/.well-known/agent-card.json").status, 401);
  EXPECT_EQ(anonymous.Post("/a2a/echo", R"({"jsonrpc":"2.0","id":1,"method":"GetTask"})").status, 401);

  auto created = As(A, "POST", "/assistants", R"({"graph_id":"echo","name":"mine"})");
  ASSERT_EQ(created.status, 200) << created.body;
  const std::string id = std::string(json::parse(created.body).at("assistant_id").as_string());
  const std::string tool = "mine_" + id;
  auto tools_of = [&](const std::string& key) {
    auto r = As(key, "POST", "/mcp", R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})");
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<std::string> names;
    const json::value body = json::parse(r.body);
    for (const auto& t : body.at("result").at("tools").as_array()) {
      names.emplace_back(t.at("name").as_string());
    }
    return names;
  };
  auto a_tools = tools_of(A);
  auto b_tools = tools_of(B);
  EXPECT_NE(std::find(a_tools.begin(), a_tools.end(), tool), a_tools.end());
  EXPECT_EQ(std::find(b_tools.begin(), b_tools.end(), tool), b_tools.end());
  EXPECT_NE(std::find(b_tools.begin(), b_tools.end(), "echo"), b_tools.end());

  const std::string call = R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":")" +
                           tool + R"(","arguments":{"message":"hi"}}})";
  auto by_a = As(A, "POST", "/mcp", call);
  ASSERT_EQ(by_a.status, 200) << by_a.body;
  EXPECT_EQ(json::parse(by_a.body).at("result").at("content").at(0).at("text"), "echo: hi");
  auto by_b = As(B, "POST", "/mcp", call);
  EXPECT_EQ(json::parse(by_b.body).at("error").at("code"), -32602) << by_b.body;

  EXPECT_EQ(As(A, "GET", "/a2a/" + id + "/.well-known/agent-card.json").status, 200);
  EXPECT_EQ(As(B, "GET", "/a2a/" + id + "/.well-known/agent-card.json").status, 404);
  auto sent = As(A, "POST", "/a2a/echo",
                 R"({"jsonrpc":"2.0","id":3,"method":"SendMessage","params":{"message":{"messageId":"m","role":"ROLE_USER","parts":[{"text":"yo"}]}}})");
  ASSERT_EQ(sent.status, 200) << sent.body;
  const json::value task = json::parse(sent.body).at("result").at("task");
  EXPECT_EQ(task.at("status").at("state"), "TASK_STATE_COMPLETED") << sent.body;
  const std::string get = R"({"jsonrpc":"2.0","id":4,"method":"GetTask","params":{"id":")" +
                          std::string(task.at("id").as_string()) + R"("}})";
  EXPECT_EQ(json::parse(As(A, "POST", "/a2a/echo", get).body).at("result").at("id"), task.at("id"));
  EXPECT_EQ(json::parse(As(B, "POST", "/a2a/echo", get).body).at("error").at("code"), -32001);
}

}  // namespace
}  // namespace agentd
