// The console's routes through the Router (no sockets): its files from a temp directory (types,
// caching, gzip, 304, client-route fallback), the redirect from /, that no API route is
// shadowed, the session and operations endpoints, stream tokens and the trace endpoint.

#include <fstream>

#include <gtest/gtest.h>

#include "api/console_assets.hpp"
#include "api/ops_sampler.hpp"
#include "api/stream_token.hpp"
#include "api_fixture.hpp"
#include "support/run_co.hpp"
#include "support/temp_dir.hpp"

namespace agentd::api::testing {
namespace {

void Write(const std::filesystem::path& path, std::string_view bytes) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

constexpr std::string_view kIndex = "<!doctype html><title>agentd console</title>";
constexpr std::string_view kScript = "console.log('hi')";
constexpr std::string_view kGzipped = "\x1f\x8b pretend gzip";

class ConsoleTest : public ApiTest {
 protected:
  explicit ConsoleTest(bool enabled = true) {
    config_.console.enabled = enabled;
    config_.console.stream_token_secret = std::string(32, 'k');
  }
  void SetUp() override {
    ApiTest::SetUp();
    Write(dir_.path() / "index.html", kIndex);
    Write(dir_.path() / "assets" / "index-3f9a1c.js", kScript);
    Write(dir_.path() / "assets" / "index-3f9a1c.js.gz", kGzipped);
    Write(dir_.path() / "favicon.svg", "<svg/>");
    Write(dir_.path() / ".hidden", "secret");
    auto assets = ConsoleAssets::Load(dir_.path());
    ASSERT_TRUE(assets) << assets.error().message;
    ctx_->console_assets = *assets;
  }

  Reply With(http::Method method, std::string target, http::HeaderList headers) {
    http::Request req;
    req.method = method;
    req.target = target;
    auto q = target.find('?');
    req.path = target.substr(0, q);
    if (q != std::string::npos) {
      std::string query = target.substr(q + 1);
      auto eq = query.find('=');
      req.query.emplace_back(query.substr(0, eq), eq == std::string::npos ? "" : query.substr(eq + 1));
    }
    req.headers = std::move(headers);
    auto match = router_.Find(req);
    Reply reply;
    if (match.handler == nullptr) {
      reply.status = match.status;
      return reply;
    }
    http::Response response = agentd::testing::RunCo((*match.handler)(req));
    reply.status = response.status;
    reply.headers = std::move(response.headers);
    reply.body = std::move(response.body);
    return reply;
  }

  agentd::testing::TempDir dir_;
};

TEST_F(ConsoleTest, RootRedirectsToTheConsole) {
  for (const char* target : {"/", "/console"}) {
    Reply r = Get(target);
    EXPECT_EQ(r.status, 302) << target;
    EXPECT_EQ(r.Header("Location").value_or(""), "/console/") << target;
  }
}

TEST_F(ConsoleTest, ServesIndexUncachedWithAStrictPolicy) {
  Reply r = Get("/console/");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body, kIndex);
  EXPECT_EQ(r.ContentType(), "text/html; charset=utf-8");
  EXPECT_EQ(r.Header("Cache-Control").value_or(""), "no-cache");
  EXPECT_NE(r.Header("Content-Security-Policy").value_or("").find("default-src 'self'"), std::string::npos);
  EXPECT_EQ(r.Header("Referrer-Policy").value_or(""), "no-referrer");
  EXPECT_FALSE(r.Header("ETag").value_or("").empty());
}

TEST_F(ConsoleTest, ServesHashedAssetsForeverAndGzippedWhenAccepted) {
  Reply plain = Get("/console/assets/index-3f9a1c.js");
  ASSERT_EQ(plain.status, 200);
  EXPECT_EQ(plain.body, kScript);
  EXPECT_EQ(plain.ContentType(), "text/javascript; charset=utf-8");
  EXPECT_EQ(plain.Header("Cache-Control").value_or(""), "public, max-age=31536000, immutable");
  EXPECT_EQ(plain.Header("Vary").value_or(""), "Accept-Encoding");
  EXPECT_FALSE(plain.Header("Content-Encoding"));

  Reply gz = With(http::Method::kGet, "/console/assets/index-3f9a1c.js",
                  {{"Accept-Encoding", "gzip, deflate, br"}});
  ASSERT_EQ(gz.status, 200);
  EXPECT_EQ(gz.body, kGzipped);
  EXPECT_EQ(gz.Header("Content-Encoding").value_or(""), "gzip");
  EXPECT_EQ(gz.ContentType(), "text/javascript; charset=utf-8");
  // The .gz file itself is no URL of its own.
  EXPECT_EQ(Get("/console/assets/index-3f9a1c.js.gz").status, 404);
}

TEST_F(ConsoleTest, AnswersNotModifiedForAKnownEtag) {
  const std::string etag = Get("/console/favicon.svg").Header("ETag").value_or("?");
  Reply r = With(http::Method::kGet, "/console/favicon.svg", {{"If-None-Match", etag}});
  EXPECT_EQ(r.status, 304);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(r.Header("ETag").value_or(""), etag);
  EXPECT_EQ(With(http::Method::kGet, "/console/favicon.svg", {{"If-None-Match", "\"other\""}}).status, 200);
}

TEST_F(ConsoleTest, ClientRoutesGetTheAppAndMissingFilesA404) {
  for (const char* route : {"/console/ops", "/console/threads/abc",
                            "/console/threads/abc/runs/def"}) {
    Reply r = Get(route);
    EXPECT_EQ(r.status, 200) << route;
    EXPECT_EQ(r.body, kIndex) << route;
    EXPECT_EQ(r.Header("Cache-Control").value_or(""), "no-cache") << route;
  }
  for (const char* missing : {"/console/nope.js", "/console/assets/gone", "/console/.hidden",
                              "/console/api/nothing"}) {
    EXPECT_EQ(Get(missing).status, 404) << missing;
  }
}

TEST_F(ConsoleTest, ApiRoutesAreNotShadowed) {
  EXPECT_EQ(Get("/no/such/route").status, 404);
  Reply missing = Get(std::string("/threads/") + std::string(kMissingId));
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body.find("<!doctype"), std::string::npos);
  EXPECT_EQ(Get("/info").ContentType(), "application/json");
  EXPECT_EQ(Post("/console/", "{}").status, 405);
}

TEST_F(ConsoleTest, SaysHowToBuildTheConsoleWhenItIsNotInstalled) {
  ctx_->console_assets = nullptr;
  Reply r = Get("/console/");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("make build"), std::string::npos) << r.body;
}

TEST_F(ConsoleTest, SessionNamesThePrincipal) {
  Reply r = Get("/console/api/session");
  ASSERT_EQ(r.status, 200) << r.body;
  json::value body = r.Json();
  EXPECT_EQ(Str(body.at("auth")), "none");
  EXPECT_EQ(Str(body.at("tenant")), "");
  EXPECT_TRUE(body.at("admin").as_bool());
  EXPECT_EQ(body.at("graphs").as_array().size(), 2u);
}

TEST_F(ConsoleTest, OpsSnapshotNeedsTheSamplerAndReportsLoopsAndModels) {
  EXPECT_EQ(Get("/console/api/ops").status, 503);
  metrics_.GetCounter("agentd_llm_requests_total", "", {{"model", "mock"}, {"outcome", "success"}}).Inc(3);
  metrics_.GetHistogram("agentd_llm_latency_seconds", "", {{"model", "mock"}}).Observe(0.2);
  ctx_->ops = OpsSampler::Make(OpsSources{metrics_, health_, config_, nullptr, nullptr, nullptr, "t"},
                               std::chrono::milliseconds(1000));
  Reply r = Get("/console/api/ops");
  ASSERT_EQ(r.status, 200) << r.body;
  json::value body = r.Json();
  EXPECT_EQ(body.at("loops").as_array().size(), 1u);
  const auto& model = body.at("models").as_array().at(0).as_object();
  EXPECT_EQ(Str(model.at("model")), "mock");
  EXPECT_EQ(model.at("requests").at("success").to_number<int>(), 3);
  EXPECT_EQ(model.at("latency").at("count").to_number<int>(), 1);
}

TEST_F(ConsoleTest, MintsStreamTokensForThePrincipal) {
  Reply r = Post("/auth/stream-token", "{}");
  ASSERT_EQ(r.status, 200) << r.body;
  json::value body = r.Json();
  const std::string token = Str(body.at("token"));
  EXPECT_EQ(body.at("expires_in").to_number<int>(), 60);
  StreamTokenCheck check = VerifyStreamToken(config_.console.stream_token_secret, token, NowMs() / 1000);
  EXPECT_TRUE(check.ok) << check.reason;
  const std::string cookie = r.Header("Set-Cookie").value_or("");
  EXPECT_EQ(cookie.rfind("agentd_stream_token=" + token + ";", 0), 0u) << cookie;
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos);
}

TEST_F(ConsoleTest, TraceOfAnUnknownRunIs404AndIdsAreValidated) {
  const std::string thread = NewThread();
  EXPECT_EQ(Get("/threads/" + thread + "/runs/" + std::string(kMissingId) + "/trace").status, 404);
  EXPECT_EQ(Get("/threads/" + thread + "/runs/not-a-uuid/trace").status, 400);
}

class ConsoleOffTest : public ConsoleTest {
 protected:
  ConsoleOffTest() : ConsoleTest(false) {}
};

TEST_F(ConsoleOffTest, NothingIsServedWhenTheConsoleIsOff) {
  EXPECT_EQ(Get("/").status, 404);
  EXPECT_EQ(Get("/console/").status, 404);
  EXPECT_EQ(Get("/console/api/session").status, 404);
}

}  // namespace
}  // namespace agentd::api::testing
