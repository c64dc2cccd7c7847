// Configuration reload on SIGHUP through the real binary (docs/operations.md "Reload"):
// `agentd serve --config <file>` runs as a child; the test rewrites the file, sends SIGHUP to
// that pid and observes the new behaviour over HTTP (a new API key, a tier's new rate, a tool
// that changed kind), that a run already under way finishes with what it started with, the
// log lines and the metric; then a broken file: refused, every problem logged, the running
// configuration kept. Every wait is bounded (the log line or the behaviour, polled).
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <thread>

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "agentd_child.hpp"
#include "api/jwt.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"

namespace agentd {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using testing::AgentdChild;
using testing::HttpClient;
using testing::HttpResult;

// printf %s KEY | sha256sum
constexpr const char* kAcme = "sk-acme-reload";
constexpr const char* kAcmeHash = "4d20e6b45e004186cb6ec8103ba3b56d2b3ded7f3985e0c86f75134bead807ff";
constexpr const char* kInitech = "sk-initech-reload";
constexpr const char* kInitechHash = "18b6e54666e35a3ed84af3da0a82273e045df508fa0131ad53e6af621280b9dd";
constexpr const char* kGlobex = "sk-globex-reload";
constexpr const char* kGlobexHash = "2a41f4737213511636b5cdff6a5685e5f6d3131c7895c4c893ea7af2ce55cf64";

struct Version {
  std::string free_rpm = "2";
  bool globex = false;
  std::string weather_tool = R"({"name": "get_weather", "kind": "demo"})";
  std::string server = "{}";
  std::string extra_model;
  std::string jwt = R"({"hs256_secret_env": "AGENTD_RELOAD_TEST_JWT_SECRET"})";
};

constexpr const char* kJwtSecret = "reload-test-secret";

// An HS256 token with kJwtSecret.
std::string Token(const json::object& header, const json::object& claims) {
  const std::string input =
      api::Base64UrlEncode(json::serialize(header)) + "." +
      api::Base64UrlEncode(json::serialize(claims));
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), kJwtSecret, static_cast<int>(std::strlen(kJwtSecret)),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  return input + "." + api::Base64UrlEncode(std::string(reinterpret_cast<char*>(mac), len));
}

std::string ConfigText(const Version& v) {
  std::string keys = std::string(R"({"sha256": ")") + kAcmeHash + R"(", "tenant": "acme", "tier": "pro"},
      {"sha256": ")" + kInitechHash + R"(", "tenant": "initech", "tier": "free"})";
  if (v.globex) keys += std::string(R"(, {"sha256": ")") + kGlobexHash + R"(", "tenant": "globex"})";
  return R"({
  "server": )" + v.server + R"(,
  "limits": {"tiers": [{"name": "default"}, {"name": "pro"},
                       {"name": "free", "requests_per_minute": )" + v.free_rpm + R"(}]},
  "auth": {"mode": "required", "api_keys": [)" + keys + R"(], "jwt": )" + v.jwt + R"(},
  "models": [{"name": "m", "provider": "mock"})" + v.extra_model + R"(],
  "tools": [)" + v.weather_tool + R"(],
  "graphs": [{"graph_id": "agent", "kind": "react", "model": "m", "tools": ["get_weather"]}]
})";
}

HttpResult Call(std::uint16_t port, const std::string& key, const std::string& method,
                const std::string& target, const std::string& body = "") {
  HttpClient c(port, "127.0.0.1", 30s);
  return c.Send(method, target, body, {{"x-api-key", key}, {"content-type", "application/json"}});
}

// The content of the tool message of a finished weather run's state values.
std::string ToolMessage(const std::string& values_json) {
  auto v = json::parse(values_json);
  const json::value* values = v.as_object().if_contains("values");
  const auto& messages = (values ? *values : v).at("messages").as_array();
  for (const auto& m : messages) {
    if (m.at("type") == "tool") return json::value_to<std::string>(m.at("content"));
  }
  return "(no tool message in " + values_json + ")";
}

constexpr const char* kWeatherRun =
    R"({"assistant_id": "agent", "input": {"messages": [{"role": "user", "content": "what is the weather in paris"}]}})";

class ReloadBinary : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("AGENTD_RELOAD_TEST_JWT_SECRET", kJwtSecret, 1);  // the child inherits it
    config_path_ = (dir_.path() / "agentd.json").string();
    Write(Version{});
    child_ = std::make_unique<AgentdChild>(
        std::vector<std::string>{AGENTD_BINARY, "serve", "--config", config_path_, "--port",
                                 "0", "--storage", "memory", "--threads", "2"},
        testing::EnvOverrides{}, (dir_.path() / "agentd.log").string());
    port_ = child_->WaitListening(20s).value_or(0);
    ASSERT_NE(port_, 0) << child_->Log();
  }
  void TearDown() override {
    if (child_) EXPECT_EQ(child_->Stop(SIGTERM, 20s), 0) << child_->Log();
  }
  void Write(const Version& v) {
    const std::string tmp = config_path_ + ".tmp";
    std::ofstream(tmp) << ConfigText(v);
    std::filesystem::rename(tmp, config_path_);  // the reader never sees half a file
  }
  // Sends SIGHUP and waits for the reload's verdict line; returns the log from the signal on.
  std::string Reload(const std::string& verdict) {
    const std::size_t from = child_->Log().size();
    child_->Signal(SIGHUP);
    const auto end = child_->WaitForLog(verdict, from, 20s);
    EXPECT_NE(end, std::string::npos) << "no \"" << verdict << "\" after SIGHUP:\n"
                                      << child_->Log().substr(from);
    return child_->Log().substr(from);
  }

  agentd::testing::TempDir dir_;
  std::string config_path_;
  std::unique_ptr<AgentdChild> child_;
  std::uint16_t port_ = 0;
};

TEST_F(ReloadBinary, SighupAppliesKeysTiersAndToolsAndKeepsTheOldFileWhenTheNewOneIsBroken) {
  // Before: globex's key is unknown; initech's tier allows 2 requests a minute; get_weather is
  // the built-in demo tool.
  EXPECT_EQ(Call(port_, kGlobex, "POST", "/threads/search", "{}").status, 401);
  EXPECT_EQ(Call(port_, kInitech, "POST", "/threads/search", "{}").status, 200);
  EXPECT_EQ(Call(port_, kInitech, "POST", "/threads/search", "{}").status, 200);
  HttpResult limited = Call(port_, kInitech, "POST", "/threads/search", "{}");
  EXPECT_EQ(limited.status, 429) << limited.body;
  EXPECT_NE(limited.body.find("tier_requests"), std::string::npos) << limited.body;
  HttpResult before = Call(port_, kAcme, "POST", "/runs/wait", kWeatherRun);
  ASSERT_EQ(before.status, 200) << before.body;
  const std::string demo_result = ToolMessage(before.body);
  EXPECT_EQ(demo_result.find("Error"), std::string::npos) << demo_result;

  // A run that is under way when the reload comes: its model call waits 3 s (delay=3000), so
  // its tool call comes after the reload; it must still use the tool it started with.
  HttpResult thread = Call(port_, kAcme, "POST", "/threads", "{}");
  ASSERT_EQ(thread.status, 200) << thread.body;
  const std::string thread_id(json::parse(thread.body).at("thread_id").as_string());
  HttpResult started = Call(
      port_, kAcme, "POST", "/threads/" + thread_id + "/runs",
      R"({"assistant_id": "agent", "input": {"messages": [{"role": "user", "content": "delay=3000 what is the weather in paris"}]}})");
  ASSERT_EQ(started.status, 200) << started.body;
  const std::string run_id(json::parse(started.body).at("run_id").as_string());
  // Executing once its input checkpoint is written (the run took its catalog before that).
  bool executing = false;
  for (auto deadline = std::chrono::steady_clock::now() + 20s;
       !executing && std::chrono::steady_clock::now() < deadline;) {
    HttpResult state = Call(port_, kAcme, "GET", "/threads/" + thread_id + "/state");
    executing = state.status == 200 && state.body.find("delay=3000") != std::string::npos;
    if (!executing) std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(executing);

  // The new file: globex's key, initech's tier at 100 a minute, get_weather now an HTTP tool
  // (POSTing to /ok, which answers 405), a new model, and a restart-only setting.
  Version v2;
  v2.free_rpm = "100";
  v2.globex = true;
  v2.weather_tool = R"({"name": "get_weather", "kind": "http", "retries": 0, "url": "http://127.0.0.1:)" +
                    std::to_string(port_) + R"(/ok"})";
  v2.server = R"({"body_limit": 1048576})";
  v2.extra_model = R"(, {"name": "m2", "provider": "mock"})";
  Write(v2);
  std::string log = Reload("config reload applied");
  EXPECT_NE(log.find("config reload: auth.api_keys: added sha256:2a41f473..."), std::string::npos) << log;
  EXPECT_NE(log.find("config reload: limits.tiers[free].requests_per_minute: 2 -> 100"), std::string::npos)
      << log;
  EXPECT_NE(log.find("config reload: tools[get_weather].kind: \"demo\" -> \"http\""), std::string::npos) << log;
  EXPECT_NE(log.find("config reload: models: added m2"), std::string::npos) << log;
  EXPECT_NE(log.find("needs a restart, keeping the running value: server.body_limit: 10485760 -> 1048576"),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find(kGlobexHash), std::string::npos) << "the whole key hash was logged";

  // After: the new key works, the changed tier starts from its new (full) budget, and new runs
  // call the HTTP tool.
  EXPECT_EQ(Call(port_, kGlobex, "POST", "/threads/search", "{}").status, 200);
  EXPECT_EQ(Call(port_, kInitech, "POST", "/threads/search", "{}").status, 200);
  HttpResult after = Call(port_, kAcme, "POST", "/runs/wait", kWeatherRun);
  ASSERT_EQ(after.status, 200) << after.body;
  EXPECT_NE(ToolMessage(after.body).find("Error: tool get_weather answered HTTP 405"), std::string::npos)
      << after.body;

  // The run that was under way finished with the demo tool it started with.
  HttpResult joined = Call(port_, kAcme, "GET", "/threads/" + thread_id + "/runs/" + run_id + "/join");
  ASSERT_EQ(joined.status, 200) << joined.body;
  EXPECT_EQ(ToolMessage(joined.body), demo_result) << joined.body;

  // A broken file: refused, every problem logged, the running configuration kept.
  Version broken = v2;
  broken.server = R"({"body_limit": "big"})";
  broken.extra_model = R"(, {"name": "m3", "provider": "gpt"})";
  broken.globex = false;
  Write(broken);
  log = Reload("config reload refused, keeping the running configuration: errors=2");
  EXPECT_NE(log.find("config reload refused: server.body_limit: expected an integer"), std::string::npos)
      << log;
  EXPECT_NE(log.find(R"(config reload refused: models[1].provider: unknown provider "gpt")"),
            std::string::npos)
      << log;
  EXPECT_EQ(Call(port_, kGlobex, "POST", "/threads/search", "{}").status, 200) << "old config kept";

  HttpClient metrics(port_, "127.0.0.1", 10s);
  const std::string text = metrics.Get("/metrics").body;
  EXPECT_NE(text.find(R"(agentd_config_reloads_total{outcome="applied"} 1)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"(agentd_config_reloads_total{outcome="refused"} 1)"), std::string::npos) << text;
}

HttpResult Bearer(std::uint16_t port, const std::string& token) {
  HttpClient c(port, "127.0.0.1", 30s);
  return c.Send("POST", "/threads/search", "{}",
                {{"authorization", "Bearer " + token}, {"content-type", "application/json"}});
}

TEST_F(ReloadBinary, JwtRulesHoldThroughTheBinaryAndReload) {
  const json::object header{{"alg", "HS256"}, {"typ", "JWT"}};
  const json::object no_exp{{"tenant", "acme"}, {"sub", "u1"}};
  json::object crit_header = header;
  crit_header["crit"] = json::array{"b64"};
  crit_header["b64"] = false;
  json::object with_exp = no_exp;
  with_exp["exp"] = std::time(nullptr) + 600;

  // Required by default: a token without exp never expires, so it is refused.
  HttpResult r = Bearer(port_, Token(header, no_exp));
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_NE(r.Header("www-authenticate").value_or("").find("token has no exp claim"), std::string::npos)
      << r.Header("www-authenticate").value_or("");
  EXPECT_EQ(Bearer(port_, Token(header, with_exp)).status, 200);
  // A crit extension agentd does not process: refused even with a valid signature and exp.
  r = Bearer(port_, Token(crit_header, with_exp));
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_NE(r.Header("www-authenticate").value_or("").find("crit"), std::string::npos);

  // auth.jwt.require_exp = false, by reload: tokens without exp pass from then on.
  Version relaxed;
  relaxed.jwt = R"({"hs256_secret_env": "AGENTD_RELOAD_TEST_JWT_SECRET", "require_exp": false})";
  Write(relaxed);
  const std::string log = Reload("config reload applied");
  EXPECT_NE(log.find("config reload: auth.jwt.require_exp: true -> false"), std::string::npos) << log;
  EXPECT_EQ(Bearer(port_, Token(header, no_exp)).status, 200);
  EXPECT_EQ(Bearer(port_, Token(crit_header, with_exp)).status, 401);
}

// Graph files are validated again on reload against the new models: a reload whose file drops
// a model one of them names is refused, naming the file, position and model.
TEST(ReloadBinaryGraphFiles, AReloadThatDropsWhatARunningGraphFileNamesIsRefused) {
  agentd::testing::TempDir dir;
  const auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir.path() / name) << text;
  };
  write("g.yaml", R"(graph_id: g
nodes:
  answer: {kind: llm, model: m2}
edges:
  - {from: __start__, to: answer}
  - {from: answer, to: __end__}
)");
  const std::string with_m2 =
      R"({"models": [{"name": "mock", "provider": "mock"}, {"name": "m2", "provider": "mock"}],
          "graphs": [{"file": "g.yaml"}]})";
  write("agentd.json", with_m2);
  AgentdChild child({AGENTD_BINARY, "serve", "--config", (dir.path() / "agentd.json").string(),
                     "--port", "0", "--storage", "memory", "--threads", "1"},
                    {}, (dir.path() / "agentd.log").string());
  ASSERT_TRUE(child.WaitListening(20s).has_value()) << child.Log();

  write("agentd.json", R"({"models": [{"name": "mock", "provider": "mock"}], "graphs": [{"file": "g.yaml"}]})");
  const std::size_t from = child.Log().size();
  child.Signal(SIGHUP);
  const std::size_t end = child.WaitForLog("config reload refused, keeping the running configuration", from, 20s);
  ASSERT_NE(end, std::string::npos) << child.Log();
  EXPECT_NE(child.Log().find(R"(g.yaml:3:30: nodes.answer.model: unknown model "m2" (configured: mock))", from),
            std::string::npos)
      << child.Log();

  // The same file with m2 back: applied.
  write("agentd.json", with_m2);
  const std::size_t again = child.Log().size();
  child.Signal(SIGHUP);
  EXPECT_NE(child.WaitForLog("config reload applied", again, 20s), std::string::npos) << child.Log();
  EXPECT_EQ(child.Stop(SIGTERM, 20s), 0) << child.Log();
}

}  // namespace
}  // namespace agentd
