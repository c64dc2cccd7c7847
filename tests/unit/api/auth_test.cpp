// JWT (HS256/RS256/ES256) and API-key authentication, with keys generated in-test.

#include "api/auth.hpp"

#include <cstdio>

#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "config/access.hpp"
#include "support/temp_dir.hpp"

namespace agentd::api {
namespace {

namespace json = boost::json;
constexpr std::int64_t kNow = 1'700'000'000;

std::string B64(std::string_view s) { return Base64UrlEncode(s); }

std::string SigningInput(const json::object& header, const json::object& claims) {
  return B64(json::serialize(header)) + "." + B64(json::serialize(claims));
}

std::string Hs256(const std::string& secret, const json::object& claims, std::string alg = "HS256",
                  json::object extra_header = {}) {
  json::object header{{"alg", alg}, {"typ", "JWT"}};
  for (const auto& kv : extra_header) header[kv.key()] = kv.value();
  const std::string input = SigningInput(header, claims);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  return input + "." + B64(std::string(reinterpret_cast<char*>(mac), len));
}

std::string EvpSign(EVP_PKEY* key, const std::string& input) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t len = 0;
  EXPECT_EQ(EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key), 1);
  EXPECT_EQ(EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size()), 1);
  std::string sig(len, '\0');
  EXPECT_EQ(EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                           reinterpret_cast<const unsigned char*>(input.data()), input.size()), 1);
  sig.resize(len);
  EVP_MD_CTX_free(ctx);
  return sig;
}

// DER ECDSA signature -> JOSE r||s.
std::string DerToJose(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig, &r, &s);
  std::string out(64, '\0');
  BN_bn2binpad(r, reinterpret_cast<unsigned char*>(out.data()), 32);
  BN_bn2binpad(s, reinterpret_cast<unsigned char*>(out.data()) + 32, 32);
  ECDSA_SIG_free(sig);
  return out;
}

std::string Signed(EVP_PKEY* key, const std::string& alg, const json::object& claims) {
  const std::string input = SigningInput({{"alg", alg}, {"typ", "JWT"}}, claims);
  std::string sig = EvpSign(key, input);
  if (alg == "ES256") sig = DerToJose(sig);
  return input + "." + B64(sig);
}

std::string WritePublicKey(EVP_PKEY* key, const std::filesystem::path& path) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  EXPECT_EQ(PEM_write_PUBKEY(f, key), 1);
  std::fclose(f);
  return path.string();
}

json::object Claims() {
  return {{"sub", "alice"}, {"tenant", "acme"}, {"aud", "agentd"}, {"iss", "idp"}, {"exp", kNow + 60},
          {"nbf", kNow - 60}};
}

config::Limits Tiers() {
  config::Limits l;
  l.tiers = {config::TierLimits{.name = "default"}, config::TierLimits{.name = "pro"}};
  return l;
}

std::unique_ptr<Authenticator> Make(config::JwtSettings jwt, std::vector<config::ApiKeySpec> keys = {}) {
  config::AuthSettings auth;
  auth.mode = "required";
  auth.jwt = std::move(jwt);
  auth.jwt.audience = "agentd";
  auth.jwt.issuer = "idp";
  auth.jwt.leeway = std::chrono::seconds(10);
  auth.api_keys = std::move(keys);
  auto a = Authenticator::Make(auth, Tiers());
  EXPECT_TRUE(a) << a.error().message;
  return std::move(*a);
}

http::Request Bearer(const std::string& token) {
  http::Request r;
  r.headers.emplace_back("Authorization", "Bearer " + token);
  return r;
}

class JwtAuth : public ::testing::Test {
 protected:
  std::unique_ptr<Authenticator> hs = Make({.hs256_secret = "top-secret"});
};

TEST_F(JwtAuth, ValidHs256YieldsThePrincipalFromTheClaims) {
  json::object c = Claims();
  c["tier"] = "pro";
  AuthOutcome out = hs->Authenticate(Bearer(Hs256("top-secret", c)), kNow);
  ASSERT_TRUE(out.ok) << out.reason;
  EXPECT_EQ(out.principal.tenant, "acme");
  EXPECT_EQ(out.principal.user_id, "alice");
  EXPECT_EQ(out.principal.tier, "pro");
}

TEST_F(JwtAuth, AudienceMayBeAnArray) {
  json::object c = Claims();
  c["aud"] = json::array{"other", "agentd"};
  EXPECT_TRUE(hs->Authenticate(Bearer(Hs256("top-secret", c)), kNow).ok);
}

TEST_F(JwtAuth, RefusesEveryBadTokenWithItsReason) {
  auto with = [](std::string_view key, json::value v) {
    json::object c = Claims();
    c[key] = std::move(v);
    return c;
  };
  json::object no_tenant = Claims();
  no_tenant.erase("tenant");
  const std::string good = Hs256("top-secret", Claims());
  const std::string unsigned_token =
      SigningInput({{"alg", "none"}}, Claims()) + ".";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {Hs256("top-secret", with("exp", kNow - 11)), "expired"},
      {Hs256("top-secret", with("nbf", kNow + 11)), "not_yet_valid"},
      {Hs256("wrong-secret", Claims()), "bad_signature"},
      {good.substr(0, good.size() - 2) + (good.substr(good.size() - 2) == "AA" ? "BB" : "AA"), "bad_signature"},
      {Hs256("top-secret", with("aud", "someone-else")), "wrong_audience"},
      {Hs256("top-secret", with("iss", "evil")), "wrong_issuer"},
      {unsigned_token, "alg_not_allowed"},
      {Hs256("top-secret", Claims(), "HS512"), "alg_not_allowed"},
      {Hs256("top-secret", Claims(), "RS256"), "alg_not_allowed"},  // no public key configured
      {Hs256("top-secret", no_tenant), "missing_tenant"},
      {Hs256("top-secret", with("tier", "gold")), "unknown_tier"},
      {"not.a.jwt", "malformed"},
      {"abc", "malformed"},
  };
  for (const auto& [token, reason] : cases) {
    SCOPED_TRACE(reason);
    AuthOutcome out = hs->Authenticate(Bearer(token), kNow);
    EXPECT_FALSE(out.ok);
    EXPECT_EQ(out.reason, reason);
    EXPECT_TRUE(out.bad_token);
    EXPECT_EQ(out.description.find(token), std::string::npos);
  }
  // Leeway: 10 s past exp still passes.
  EXPECT_TRUE(hs->Authenticate(Bearer(Hs256("top-secret", with("exp", kNow - 9))), kNow).ok);
}

TEST_F(JwtAuth, TokenWithoutExpIsRefusedUnlessRequireExpIsOff) {
  json::object no_exp = Claims();
  no_exp.erase("exp");
  const std::string token = Hs256("top-secret", no_exp);
  AuthOutcome out = hs->Authenticate(Bearer(token), kNow);
  EXPECT_FALSE(out.ok);
  EXPECT_EQ(out.reason, "missing_exp");
  EXPECT_TRUE(out.bad_token);
  EXPECT_EQ(out.description, "token has no exp claim");

  auto relaxed = Make({.hs256_secret = "top-secret", .require_exp = false});
  EXPECT_TRUE(relaxed->Authenticate(Bearer(token), kNow).ok);
  // Relaxed or not, an exp that is present is still enforced.
  json::object expired = Claims();
  expired["exp"] = kNow - 100;
  EXPECT_EQ(relaxed->Authenticate(Bearer(Hs256("top-secret", expired)), kNow).reason, "expired");
}

TEST_F(JwtAuth, TokenWithACritHeaderIsRefused) {
  // RFC 7515 4.1.11: agentd processes no JWS extension, so whatever crit names is refused,
  // even with a valid signature; a malformed crit too.
  for (const json::value& crit : {json::value(json::array{"exp"}), json::value(json::array{"b64"}),
                                  json::value(json::array{}), json::value("b64")}) {
    SCOPED_TRACE(json::serialize(crit));
    const std::string token =
        Hs256("top-secret", Claims(), "HS256", {{"crit", crit}, {"b64", false}, {"exp", 1}});
    AuthOutcome out = hs->Authenticate(Bearer(token), kNow);
    EXPECT_FALSE(out.ok);
    EXPECT_EQ(out.reason, "crit_unsupported");
    EXPECT_TRUE(out.bad_token);
    EXPECT_EQ(out.description.find("b64"), std::string::npos) << "crit names are not echoed";
  }
  // The same token without crit passes.
  EXPECT_TRUE(hs->Authenticate(Bearer(Hs256("top-secret", Claims(), "HS256", {{"kid", "k1"}})), kNow).ok);
}

TEST_F(JwtAuth, MissingCredentialsAreNotABadToken) {
  AuthOutcome out = hs->Authenticate(http::Request{}, kNow);
  EXPECT_FALSE(out.ok);
  EXPECT_EQ(out.reason, "missing");
  EXPECT_FALSE(out.bad_token);
}

TEST(JwtAuthKeys, Rs256AndEs256VerifyWithThePublicKeyAndRefuseTheOtherAlg) {
  testing::TempDir dir;
  EVP_PKEY* rsa = EVP_RSA_gen(2048);
  EVP_PKEY* ec = EVP_EC_gen("P-256");
  ASSERT_NE(rsa, nullptr);
  ASSERT_NE(ec, nullptr);

  auto rs = Make({.public_key_file = WritePublicKey(rsa, dir.path() / "rsa.pem")});
  EXPECT_TRUE(rs->Authenticate(Bearer(Signed(rsa, "RS256", Claims())), kNow).ok);
  EXPECT_EQ(rs->Authenticate(Bearer(Signed(ec, "ES256", Claims())), kNow).reason, "alg_not_allowed");
  EXPECT_EQ(rs->Authenticate(Bearer(Hs256("x", Claims())), kNow).reason, "alg_not_allowed");

  auto es = Make({.public_key_file = WritePublicKey(ec, dir.path() / "ec.pem")});
  AuthOutcome ok = es->Authenticate(Bearer(Signed(ec, "ES256", Claims())), kNow);
  EXPECT_TRUE(ok.ok) << ok.reason;
  EXPECT_EQ(es->Authenticate(Bearer(Signed(rsa, "RS256", Claims())), kNow).reason, "alg_not_allowed");

  // A different key of the same kind: bad signature.
  EVP_PKEY* other_ec = EVP_EC_gen("P-256");
  EXPECT_EQ(es->Authenticate(Bearer(Signed(other_ec, "ES256", Claims())), kNow).reason, "bad_signature");
  json::object expired = Claims();
  expired["exp"] = kNow - 100;
  EXPECT_EQ(es->Authenticate(Bearer(Signed(ec, "ES256", expired)), kNow).reason, "expired");
  EVP_PKEY_free(other_ec);
  EVP_PKEY_free(rsa);
  EVP_PKEY_free(ec);
}

TEST(ApiKeyAuth, AcceptsConfiguredKeysOnly) {
  auto a = Make({}, {config::ApiKeySpec{config::Sha256Hex("key-a"), "acme", "svc", ""},
                     config::ApiKeySpec{config::Sha256Hex("key-b"), "globex", "", "pro"}});
  http::Request r;
  r.headers.emplace_back("X-Api-Key", "key-b");
  AuthOutcome out = a->Authenticate(r, kNow);
  ASSERT_TRUE(out.ok);
  EXPECT_EQ(out.principal.tenant, "globex");
  EXPECT_EQ(out.principal.tier, "pro");
  EXPECT_EQ(out.credential.find("key-b"), std::string::npos);

  r.headers[0].second = "key-a";
  out = a->Authenticate(r, kNow);
  ASSERT_TRUE(out.ok);
  EXPECT_EQ(out.principal.tenant, "acme");
  EXPECT_EQ(out.principal.tier, "default");

  r.headers[0].second = "key-c";
  out = a->Authenticate(r, kNow);
  EXPECT_FALSE(out.ok);
  EXPECT_EQ(out.reason, "invalid_key");
}

TEST(ApiKeyAuth, AuthOffIsTheEmptyTenantOnTheDefaultTier) {
  config::AuthSettings off;
  auto a = Authenticator::Make(off, Tiers());
  ASSERT_TRUE(a);
  AuthOutcome out = (*a)->Authenticate(http::Request{}, kNow);
  EXPECT_TRUE(out.ok);
  EXPECT_EQ(out.principal.tenant, "");
  EXPECT_EQ(out.principal.tier, "default");
}

}  // namespace
}  // namespace agentd::api
