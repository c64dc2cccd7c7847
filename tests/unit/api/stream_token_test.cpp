// Stream tokens: minting and verifying, which requests may carry one, and the Authenticator
// accepting one only where headers cannot be sent.

#include "api/stream_token.hpp"

#include <gtest/gtest.h>

#include "api/auth.hpp"
#include "api/jwt.hpp"
#include "config/access.hpp"

namespace agentd::api {
namespace {

constexpr std::int64_t kNow = 1'700'000'000;
const std::string kKey(32, 's');

model::Principal Alice() { return {"acme", "alice", "default"}; }

http::Request Stream(std::string path, std::string token) {
  http::Request r;
  r.method = http::Method::kGet;
  r.path = std::move(path);
  r.target = r.path + "?access_token=" + token;
  r.query.emplace_back("access_token", std::move(token));
  return r;
}

TEST(StreamToken, RoundTripsThePrincipal) {
  const std::string token = MintStreamToken(kKey, Alice(), kNow + 60);
  EXPECT_EQ(token.rfind("ast1.", 0), 0u);
  StreamTokenCheck check = VerifyStreamToken(kKey, token, kNow);
  ASSERT_TRUE(check.ok) << check.reason;
  EXPECT_EQ(check.principal.tenant, "acme");
  EXPECT_EQ(check.principal.user_id, "alice");
  EXPECT_EQ(check.principal.tier, "default");
}

TEST(StreamToken, RefusesExpiredForgedAndMalformedTokens) {
  const std::string token = MintStreamToken(kKey, Alice(), kNow + 60);
  EXPECT_EQ(VerifyStreamToken(kKey, token, kNow + 60).reason, "stream_token_expired");
  EXPECT_EQ(VerifyStreamToken(std::string(32, 'x'), token, kNow).reason, "stream_token_bad_signature");
  // Claims of another tenant under the original signature.
  const auto dot = token.rfind('.');
  const std::string forged = "ast1." +
                             Base64UrlEncode(R"({"t":"evil","u":"alice","r":"default","exp":1800000000})") +
                             token.substr(dot);
  EXPECT_EQ(VerifyStreamToken(kKey, forged, kNow).reason, "stream_token_bad_signature");
  for (const char* bad : {"", "ast1.", "ast1.x", "jwt.a.b", "ast1.%%%.%%%"}) {
    StreamTokenCheck check = VerifyStreamToken(kKey, bad, kNow);
    EXPECT_FALSE(check.ok) << bad;
    EXPECT_FALSE(check.reason.empty()) << bad;
  }
  EXPECT_EQ(VerifyStreamToken("short", token, kNow).reason, "stream_token_disabled");
}

TEST(StreamToken, OnlyGetStreamRoutesCarryOne) {
  EXPECT_EQ(StreamTokenOf(Stream("/threads/t/runs/r/stream", "tok")).value_or(""), "tok");
  EXPECT_EQ(StreamTokenOf(Stream("/broadcast/board/ws", "tok")).value_or(""), "tok");
  EXPECT_EQ(StreamTokenOf(Stream("/console/api/ops/stream", "tok")).value_or(""), "tok");
  EXPECT_FALSE(StreamTokenOf(Stream("/threads", "tok")));
  EXPECT_FALSE(StreamTokenOf(Stream("/threads/t/state", "tok")));
  http::Request post = Stream("/threads/t/runs/stream", "tok");
  post.method = http::Method::kPost;
  EXPECT_FALSE(StreamTokenOf(post));

  http::Request cookie;
  cookie.method = http::Method::kGet;
  cookie.path = "/broadcast/board/stream";
  cookie.headers.emplace_back("Cookie", "theme=dark; agentd_stream_token=from-cookie; x=y");
  EXPECT_EQ(StreamTokenOf(cookie).value_or(""), "from-cookie");
}

class StreamTokenAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config::AuthSettings auth;
    auth.mode = "required";
    auth.api_keys.push_back({config::Sha256Hex("key-1"), "acme", "alice", ""});
    config::Limits limits;
    auto made = Authenticator::Make(auth, limits);
    ASSERT_TRUE(made) << made.error().message;
    auth_ = std::move(*made);
  }
  std::unique_ptr<Authenticator> auth_;
};

TEST_F(StreamTokenAuthTest, AcceptsATokenOnAStreamRouteOnceEnabled) {
  const std::string token = MintStreamToken(kKey, Alice(), kNow + 60);
  http::Request request = Stream("/threads/t/runs/r/stream", token);
  EXPECT_EQ(auth_->Authenticate(request, kNow).reason, "missing");  // not enabled yet
  auth_->AcceptStreamTokens(kKey);
  AuthOutcome out = auth_->Authenticate(request, kNow);
  ASSERT_TRUE(out.ok) << out.reason;
  EXPECT_EQ(out.principal.tenant, "acme");
  EXPECT_EQ(out.credential, "stream:acme/alice");

  EXPECT_EQ(auth_->Authenticate(request, kNow + 61).reason, "stream_token_expired");
  EXPECT_EQ(auth_->Authenticate(Stream("/threads", token), kNow).reason, "missing");
  // Headers win over a token.
  request.headers.emplace_back("x-api-key", "wrong");
  EXPECT_EQ(auth_->Authenticate(request, kNow).reason, "invalid_key");
}

TEST_F(StreamTokenAuthTest, RefusesATokenOfTheEmptyTenantOrAnUnknownTier) {
  auth_->AcceptStreamTokens(kKey);
  model::Principal nobody{"", "", "default"};
  EXPECT_EQ(auth_->Authenticate(Stream("/a/stream", MintStreamToken(kKey, nobody, kNow + 60)), kNow).reason,
            "stream_token_stale");
  model::Principal gold{"acme", "alice", "gold"};
  EXPECT_EQ(auth_->Authenticate(Stream("/a/stream", MintStreamToken(kKey, gold, kNow + 60)), kNow).reason,
            "stream_token_stale");
}

}  // namespace
}  // namespace agentd::api
