// The API's surface as a client meets it, through the whole server (`agentd serve`'s
// Application) on port 0 over loopback: one JSON error shape for every refusal, numbers outside
// a double refused at every entry point (nothing written), the JSON nesting limit and its
// setting, store search with a `query`, consistent Retry-After / RateLimit-* headers for every
// rate-limit kind, and `command: {goto: "__end__"}`.

#include "agentd/application.hpp"

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

constexpr std::string_view kMissing = "00000000-0000-4000-8000-000000000000";

class ApiSurfaceTest : public ::testing::Test {
 protected:
  // `file` is the config file's JSON (storage memory unless it says otherwise); `args` go after.
  void StartWith(const std::string& file, std::vector<std::string> args = {}) {
    const std::string path = (dir_.path() / "agentd.json").string();
    std::ofstream(path) << file;
    config::Environment env;
    env.cores = 2;
    env.fd_limit = 4096;
    std::vector<std::string> all{"--config", path, "--port", "0", "--threads", "2"};
    all.insert(all.end(), args.begin(), args.end());
    auto loaded = config::LoadConfig(all, env);
    ASSERT_TRUE(loaded) << loaded.error().message;
    config_ = *loaded;
    app_ = std::make_unique<app::Application>(config_);
    auto port = app_->Start();
    ASSERT_TRUE(port.has_value()) << port.error().message;
    port_ = *port;
    client_ = std::make_unique<HttpClient>(port_);
  }
  void StartMemory(std::vector<std::string> args = {}) {
    StartWith(R"({"server": {"storage": "memory"}})", std::move(args));
  }
  void TearDown() override {
    client_.reset();
    if (app_) app_->Stop();
  }

  HttpResult Send(std::string_view method, std::string_view target, std::string_view body = {},
                  Headers headers = {}) {
    if (!body.empty()) headers.emplace_back("content-type", "application/json");
    return client_->Send(method, target, body, headers);
  }

  testing::TempDir dir_;
  config::Config config_;
  std::unique_ptr<app::Application> app_;
  std::uint16_t port_ = 0;
  std::unique_ptr<HttpClient> client_;
};

// The body as an error body: JSON with a string "error" code and a string "detail" (fails the
// test otherwise). Returns the parsed object.
json::object ErrorBody(const HttpResult& r) {
  EXPECT_EQ(r.Header("content-type"), "application/json") << r.status << " " << r.body;
  boost::system::error_code ec;
  json::value v = json::parse(r.body, ec);
  EXPECT_FALSE(ec) << "not JSON: " << r.body;
  if (ec || !v.is_object()) return {};
  const json::object& o = v.as_object();
  EXPECT_TRUE(o.contains("error") && o.at("error").is_string()) << r.body;
  EXPECT_TRUE(o.contains("detail") && o.at("detail").is_string()) << r.body;
  return o;
}

std::string Detail(const HttpResult& r) {
  auto o = ErrorBody(r);
  return o.contains("detail") && o.at("detail").is_string()
             ? std::string(o.at("detail").as_string())
             : std::string();
}

TEST_F(ApiSurfaceTest, EveryErrorBodyIsJsonWithErrorAndDetailKeepingTheProtocolTexts) {
  StartMemory({"--body-limit", "2048"});
  auto thread = Send("GET", "/threads/" + std::string(kMissing));
  EXPECT_EQ(thread.status, 404);
  EXPECT_EQ(ErrorBody(thread), (json::object{{"error", "not_found"},
                                             {"detail", "Thread with ID " + std::string(kMissing) +
                                                            " not found"}}));
  auto graph = Send("POST", "/assistants", R"({"graph_id":"nope"})");
  EXPECT_EQ(graph.status, 404);
  EXPECT_EQ(Detail(graph), R"(Graph "nope" not found)");
  auto exists = Send("POST", "/threads", R"({"thread_id":"11111111-1111-4111-8111-111111111111"})");
  ASSERT_EQ(exists.status, 200);
  auto again = Send("POST", "/threads", R"({"thread_id":"11111111-1111-4111-8111-111111111111"})");
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(ErrorBody(again), (json::object{{"error", "conflict"},
                                            {"detail", "Thread already exists"}}));
  auto label = Send("PUT", "/store/items", R"({"namespace":["a.b"],"key":"k","value":{}})");
  EXPECT_EQ(label.status, 422);
  EXPECT_EQ(ErrorBody(label).at("error"), "unprocessable");

  // The router's own answers (http/): unknown route and wrong method.
  auto route = Send("GET", "/no/such/route");
  EXPECT_EQ(route.status, 404);
  EXPECT_EQ(ErrorBody(route), (json::object{{"error", "not_found"}, {"detail", "404 Not Found"}}));
  auto method = Send("PUT", "/threads/search", "{}");
  EXPECT_EQ(method.status, 405);
  EXPECT_EQ(ErrorBody(method), (json::object{{"error", "method_not_allowed"},
                                             {"detail", "405 Method Not Allowed"}}));
  EXPECT_NE(method.Header("allow").value_or("").find("POST"), std::string::npos);

  // The server's own: malformed JSON, a body over the limit.
  auto malformed = Send("POST", "/threads", "{not json");
  EXPECT_EQ(malformed.status, 400);
  EXPECT_EQ(ErrorBody(malformed), (json::object{{"error", "invalid_json"},
                                                {"detail", "Malformed JSON in request body"}}));
  HttpClient once(port_);
  auto big = once.Post("/threads", std::string(4096, ' '));
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(ErrorBody(big).at("error"), "payload_too_large");

  // A validation refusal keeps the protocol's Zod layout, with a detail.
  auto invalid = Send("POST", "/threads", R"({"metadata":"x"})");
  EXPECT_EQ(invalid.status, 400);
  auto zod = json::parse(invalid.body);
  EXPECT_EQ(zod.at("error").at("issues").at(0).at("path"), json::array{"metadata"});
  EXPECT_TRUE(zod.at("detail").is_string());
}

TEST_F(ApiSurfaceTest, AuthRefusalsAndTheHiddenInternalRouteAreErrorBodies) {
  StartWith(R"({"server": {"storage": "memory"}, "auth": {"mode": "required", "api_keys": [
      {"sha256": ")" + config::Sha256Hex("key-a") + R"(", "tenant": "a"}]}})");
  auto anonymous = Send("POST", "/threads/search", "{}");
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(ErrorBody(anonymous).at("error"), "unauthorized");
  // /internal/* answers as if it did not exist when auth is required.
  auto internal = Send("POST", "/internal/truncate", "{}", {{"x-api-key", "key-a"}});
  EXPECT_EQ(internal.status, 404);
  EXPECT_EQ(ErrorBody(internal), (json::object{{"error", "not_found"}, {"detail", "404 Not Found"}}));
}

// ---------------------------------------------------------------- numbers outside a double

TEST_F(ApiSurfaceTest, NumbersOutsideADoubleAreRefusedWith422NamingThePathAndNothingIsWritten) {
  StartMemory();
  auto thread = Send("POST", "/threads", R"({"metadata":{"keep":1}})");
  ASSERT_EQ(thread.status, 200);
  const std::string id(json::parse(thread.body).at("thread_id").as_string());
  const std::string assistants = Send("POST", "/assistants/count", "{}").body;

  struct Case {
    std::string method, target, body;
    json::array path;
  };
  const std::vector<Case> cases = {
      {"PUT", "/store/items", R"({"namespace":["n"],"key":"k","value":{"a":1,"n":1e999}})",
       {"value", "n"}},
      {"POST", "/threads", R"({"metadata":{"x":-1e400}})", {"metadata", "x"}},
      {"PATCH", "/threads/" + id, R"({"metadata":{"deep":[1,2,{"z":1e309}]}})",
       {"metadata", "deep", 2, "z"}},
      {"POST", "/threads/" + id + "/runs/wait",
       R"({"assistant_id":"echo","input":{"messages":[{"role":"human","content":"hi","n":1e999}]}})",
       {"input", "messages", 0, "n"}},
      {"POST", "/runs/wait", R"({"assistant_id":"echo","input":{},"metadata":{"m":1E999}})",
       {"metadata", "m"}},
      {"POST", "/runs/batch", R"([{"assistant_id":"echo","input":{"v":1e999}}])",
       {0, "input", "v"}},
      {"POST", "/threads/" + id + "/state", R"({"values":{"n":1e999}})", {"values", "n"}},
      {"POST", "/assistants", R"({"graph_id":"echo","config":{"configurable":{"t":1e999}}})",
       {"config", "configurable", "t"}},
      {"POST", "/store/items/search", R"({"filter":{"n":1e999}})", {"filter", "n"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.method + " " + c.target + " " + c.body);
    auto r = Send(c.method, c.target, c.body);
    EXPECT_EQ(r.status, 422) << r.body;
    auto body = ErrorBody(r);
    EXPECT_EQ(body.at("error"), "number_out_of_range");
    EXPECT_EQ(body.at("path"), c.path);
    EXPECT_NE(Detail(r).find("Number out of range at "), std::string::npos) << r.body;
  }
  // Nothing was written: no item, still one thread with its metadata, no run, no checkpoint.
  EXPECT_EQ(Send("GET", "/store/items?namespace=n&key=k").body, "null");
  EXPECT_EQ(Send("POST", "/threads/count", "{}").body, "1");
  EXPECT_EQ(json::parse(Send("GET", "/threads/" + id).body).at("metadata"),
            (json::object{{"keep", 1}}));
  EXPECT_EQ(Send("GET", "/threads/" + id + "/runs").body, "[]");
  EXPECT_EQ(Send("POST", "/threads/" + id + "/history", "{}").body, "[]");
  EXPECT_EQ(Send("POST", "/assistants/count", "{}").body, assistants);
  // The largest double and an underflow to 0 are numbers like any other.
  auto fine = Send("PUT", "/store/items",
                   R"({"namespace":["n"],"key":"k","value":{"max":1.7976931348623157e308,"tiny":1e-400}})");
  EXPECT_EQ(fine.status, 204) << fine.body;
  auto item = json::parse(Send("GET", "/store/items?namespace=n&key=k").body);
  EXPECT_EQ(item.at("value").at("max").as_double(), 1.7976931348623157e308);
  EXPECT_EQ(item.at("value").at("tiny").as_double(), 0.0);
}

// ---------------------------------------------------------------------------- nesting depth

// json::parse with room for the deep values below (Boost's default stops at 32 levels).
json::value ParseDeep(std::string_view text) {
  json::parse_options options;
  options.max_depth = 1000;
  return json::parse(text, {}, options);
}

std::string Nested(int depth, std::string_view leaf = "1") {
  std::string out;
  for (int i = 0; i < depth; ++i) out += "{\"d\":";
  out += leaf;
  out += std::string(static_cast<std::size_t>(depth), '}');
  return out;
}

TEST_F(ApiSurfaceTest, NestingUpToTheLimitIsStoredAndReadBackAndDeeperSaysTheLimit) {
  // SQLite: what is accepted must also read back from the database at that depth.
  StartWith(R"({"server": {"storage": "sqlite", "data_dir": ")" + dir_.path().string() + R"("}})");
  // {"namespace":..,"value": <62 levels>} is 63 levels in all; the default limit is 64.
  const std::string deep = Nested(62);
  auto put = Send("PUT", "/store/items", R"({"namespace":["deep"],"key":"k","value":)" + deep + "}");
  ASSERT_EQ(put.status, 204) << put.body;
  auto got = Send("GET", "/store/items?namespace=deep&key=k");
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(ParseDeep(got.body).at("value"), ParseDeep(deep)) << got.body;

  auto thread = Send("POST", "/threads", R"({"metadata":)" + Nested(60) + "}");
  ASSERT_EQ(thread.status, 200) << thread.body;
  const std::string id(ParseDeep(thread.body).at("thread_id").as_string());
  EXPECT_EQ(ParseDeep(Send("GET", "/threads/" + id).body).at("metadata"),
            ParseDeep(Nested(60)));

  auto too_deep = Send("PUT", "/store/items",
                       R"({"namespace":["deep"],"key":"k2","value":)" + Nested(64) + "}");
  EXPECT_EQ(too_deep.status, 400);
  EXPECT_EQ(ErrorBody(too_deep), (json::object{
                                     {"error", "invalid_json"},
                                     {"detail", "Malformed JSON in request body: nesting deeper "
                                                "than 64 levels (server.json_max_depth)"}}));
  EXPECT_EQ(Send("GET", "/store/items?namespace=deep&key=k2").body, "null");
}

TEST_F(ApiSurfaceTest, TheNestingLimitIsASetting) {
  StartMemory({"--json-max-depth", "100"});
  auto put = Send("PUT", "/store/items", R"({"namespace":["deep"],"key":"k","value":)" +
                                             Nested(90) + "}");
  EXPECT_EQ(put.status, 204) << put.body;
  auto refused = Send("POST", "/threads", R"({"metadata":)" + Nested(100) + "}");
  EXPECT_EQ(refused.status, 400);
  EXPECT_NE(Detail(refused).find("nesting deeper than 100 levels"), std::string::npos);
}

// ------------------------------------------------------------------------------ store search

TEST_F(ApiSurfaceTest, StoreSearchWithAQuerySaysSemanticSearchIsNotConfigured) {
  StartMemory();
  ASSERT_EQ(Send("PUT", "/store/items", R"({"namespace":["s"],"key":"k","value":{"t":"x"}})").status,
            204);
  auto r = Send("POST", "/store/items/search", R"({"namespace_prefix":["s"],"query":"x"})");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(ErrorBody(r).at("error"), "semantic_search_not_configured");
  EXPECT_NE(Detail(r).find("Semantic search is not configured"), std::string::npos);
  // No query, an empty one, or null: a plain search.
  for (std::string q : {"", R"(,"query":"")", R"(,"query":null)"}) {
    auto plain = Send("POST", "/store/items/search", R"({"namespace_prefix":["s"])" + q + "}");
    EXPECT_EQ(plain.status, 200) << q << plain.body;
    EXPECT_EQ(json::parse(plain.body).at("items").as_array().size(), 1u) << q;
  }
}

// ----------------------------------------------------------------------- rate-limit headers

// A refusal's headers agree with each other and with the body, whichever limit refused.
void ExpectConsistentRefusal(const HttpResult& r, std::string_view limit) {
  SCOPED_TRACE(std::string(limit));
  ASSERT_EQ(r.status, 429) << r.body;
  auto body = ErrorBody(r);
  EXPECT_EQ(body.at("error"), "rate_limited");
  EXPECT_EQ(body.at("limit"), json::value(limit));
  auto retry = r.Header("retry-after");
  ASSERT_TRUE(retry.has_value());
  EXPECT_GE(std::stoll(*retry), 1);
  EXPECT_EQ(r.Header("ratelimit-reset"), retry) << "Retry-After and RateLimit-Reset disagree";
  EXPECT_EQ(r.Header("ratelimit-remaining"), "0");
  EXPECT_TRUE(r.Header("ratelimit-limit").has_value());
  EXPECT_EQ(body.at("retry_after"), json::value(std::stoll(*retry)));
}

TEST_F(ApiSurfaceTest, PerIpRefusalHeadersAgree) {
  StartWith(R"({"server": {"storage": "memory"},
                "limits": {"per_ip_requests_per_second": 0.05, "per_ip_burst": 2}})");
  EXPECT_EQ(Send("POST", "/threads/count", "{}").status, 200);
  EXPECT_EQ(Send("POST", "/threads/count", "{}").status, 200);
  auto refused = Send("POST", "/threads/count", "{}");
  ExpectConsistentRefusal(refused, "per_ip");
  EXPECT_EQ(refused.Header("retry-after"), "20");  // one request at 0.05/s
}

TEST_F(ApiSurfaceTest, PerKeyRefusalHeadersAgree) {
  StartWith(R"({"server": {"storage": "memory"},
                "limits": {"per_key_requests_per_second": 0.1, "per_key_burst": 3},
                "auth": {"mode": "required", "api_keys": [
                  {"sha256": ")" + config::Sha256Hex("key-a") + R"(", "tenant": "a"}]}})");
  Headers key{{"x-api-key", "key-a"}};
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Send("POST", "/threads/count", "{}", key).status, 200);
  auto refused = Send("POST", "/threads/count", "{}", key);
  ExpectConsistentRefusal(refused, "per_key");
  EXPECT_EQ(refused.Header("retry-after"), "10");
}

TEST_F(ApiSurfaceTest, TierRequestsRefusalHeadersAgree) {
  // 60 a minute: the issue's case (Retry-After 1 but RateLimit-Reset 59).
  StartWith(R"({"server": {"storage": "memory"},
                "limits": {"tiers": [{"name": "default", "requests_per_minute": 60}]}})");
  auto first = Send("POST", "/threads/count", "{}");
  ASSERT_EQ(first.status, 200);
  EXPECT_EQ(first.Header("ratelimit-limit"), "60");
  EXPECT_EQ(first.Header("ratelimit-remaining"), "59");
  HttpResult refused;
  for (int i = 0; i < 100 && refused.status != 429; ++i) refused = Send("POST", "/threads/count", "{}");
  ExpectConsistentRefusal(refused, "tier_requests");
  EXPECT_EQ(refused.Header("retry-after"), "1");
}

TEST_F(ApiSurfaceTest, TierTokensRefusalHeadersAgree) {
  StartWith(R"({"server": {"storage": "memory"},
                "limits": {"tiers": [{"name": "default", "tokens_per_minute": 6}]}})");
  const std::string run = R"({"assistant_id":"agent","input":{"messages":[{"role":"human","content":"hello"}]}})";
  ASSERT_EQ(Send("POST", "/runs/wait", run).status, 200);
  // The finished run's usage is charged after it ends: poll (bounded) until creation refuses.
  HttpResult refused;
  for (int i = 0; i < 200 && refused.status != 429; ++i) {
    refused = Send("POST", "/runs/wait", run);
    ASSERT_TRUE(refused.status == 200 || refused.status == 429) << refused.body;
  }
  ExpectConsistentRefusal(refused, "tier_tokens");
}

// ------------------------------------------------------------------------------ goto END

TEST_F(ApiSurfaceTest, CommandGotoEndAppliesTheUpdateAndEndsTheRun) {
  StartMemory();
  auto thread = Send("POST", "/threads", "{}");
  const std::string id(json::parse(thread.body).at("thread_id").as_string());
  auto first = Send("POST", "/threads/" + id + "/runs/wait",
                    R"({"assistant_id":"echo","input":{"messages":[{"role":"human","content":"one"}]}})");
  ASSERT_EQ(first.status, 200) << first.body;
  const auto before = json::parse(Send("POST", "/threads/" + id + "/history", R"({"limit":100})").body);

  auto ended = Send("POST", "/threads/" + id + "/runs/wait",
                    R"({"assistant_id":"echo","command":{"goto":"__end__",)"
                    R"("update":{"messages":[{"role":"human","content":"noted","id":"m-end"}]}}})");
  ASSERT_EQ(ended.status, 200) << ended.body;
  const auto values = json::parse(ended.body);
  ASSERT_TRUE(values.is_object() && values.as_object().contains("messages")) << ended.body;
  const auto& messages = values.at("messages").as_array();
  ASSERT_EQ(messages.size(), 3u) << ended.body;  // one, echo: one, noted; no node ran
  EXPECT_EQ(messages.back().at("content"), "noted");

  auto runs = json::parse(Send("GET", "/threads/" + id + "/runs").body).as_array();
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].at("status"), "success");  // newest first
  auto state = json::parse(Send("GET", "/threads/" + id + "/state").body);
  EXPECT_EQ(state.at("next"), json::array{});
  EXPECT_EQ(json::parse(Send("GET", "/threads/" + id).body).at("status"), "idle");
  // One `input` checkpoint holds the update, with nothing next.
  const auto after = json::parse(Send("POST", "/threads/" + id + "/history", R"({"limit":100})").body);
  ASSERT_EQ(after.as_array().size(), before.as_array().size() + 1);
  EXPECT_EQ(after.at(0).at("metadata").at("source"), "input");
  EXPECT_EQ(after.at(0).at("next"), json::array{});

  // goto END alone (no update) is accepted too and changes nothing but history.
  auto bare = Send("POST", "/threads/" + id + "/runs/wait",
                   R"({"assistant_id":"echo","command":{"goto":["__end__"]}})");
  EXPECT_EQ(bare.status, 200) << bare.body;
  EXPECT_EQ(json::parse(bare.body).at("messages").as_array().size(), 3u) << bare.body;
}

}  // namespace
}  // namespace agentd
