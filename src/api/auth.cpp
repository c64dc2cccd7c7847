#include "api/auth.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "api/stream_token.hpp"

namespace agentd::api {
namespace {

namespace json = boost::json;

AuthOutcome Refused(std::string reason, bool bad_token, std::string description) {
  AuthOutcome out;
  out.reason = std::move(reason);
  out.bad_token = bad_token;
  out.description = std::move(description);
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string ClaimString(const json::object& claims, const std::string& name) {
  if (name.empty()) return {};
  const json::value* v = claims.if_contains(name);
  if (v == nullptr || !v->is_string()) return {};
  return std::string(v->get_string());
}

}  // namespace

Result<std::unique_ptr<Authenticator>> Authenticator::Make(const config::AuthSettings& auth,
                                                           const config::Limits& limits) {
  auto a = std::make_unique<Authenticator>();
  a->required_ = auth.mode == "required";
  a->default_tier_ = limits.default_tier;
  for (const auto& t : limits.tiers) a->tiers_.insert(t.name);
  for (const auto& spec : auth.api_keys) {
    Key key;
    if (spec.sha256.size() != 64) return MakeError(Errc::kInvalidArgument, "auth.api_keys: bad sha256");
    for (std::size_t i = 0; i < 32; ++i) {
      const int hi = HexValue(spec.sha256[2 * i]);
      const int lo = HexValue(spec.sha256[2 * i + 1]);
      if (hi < 0 || lo < 0) return MakeError(Errc::kInvalidArgument, "auth.api_keys: bad sha256");
      key.digest[i] = static_cast<unsigned char>(hi * 16 + lo);
    }
    key.principal = {spec.tenant, spec.user_id, spec.tier.empty() ? limits.default_tier : spec.tier};
    key.credential = "key:" + spec.sha256.substr(0, 16);
    a->keys_.push_back(std::move(key));
  }
  a->jwt_settings_ = auth.jwt;
  auto jwt = JwtVerifier::Make(auth.jwt);
  if (!jwt) return jwt.error();
  if ((*jwt)->enabled()) a->jwt_ = std::move(*jwt);
  return a;
}

AuthOutcome Authenticator::ByApiKey(std::string_view key) const {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest);
  // Every configured hash is compared, in constant time, so timing says nothing about which
  // (or whether one) matched early.
  const Key* found = nullptr;
  for (const auto& k : keys_) {
    if (CRYPTO_memcmp(k.digest.data(), digest, sizeof(digest)) == 0) found = &k;
  }
  if (found == nullptr) return Refused("invalid_key", true, "invalid API key");
  AuthOutcome out;
  out.ok = true;
  out.principal = found->principal;
  out.credential = found->credential;
  return out;
}

AuthOutcome Authenticator::ByJwt(std::string_view token, std::int64_t now) const {
  if (!jwt_) return Refused("alg_not_allowed", true, "bearer tokens are not accepted");
  JwtOutcome verified = jwt_->Verify(token, now);
  if (!verified.ok) return Refused(verified.refusal.reason, true, verified.refusal.description);
  AuthOutcome out;
  out.principal.tenant = ClaimString(verified.claims, jwt_settings_.tenant_claim);
  if (out.principal.tenant.empty()) {
    return Refused("missing_tenant", true, "token has no " + jwt_settings_.tenant_claim + " claim");
  }
  out.principal.user_id = ClaimString(verified.claims, jwt_settings_.user_claim);
  out.principal.tier = ClaimString(verified.claims, jwt_settings_.tier_claim);
  if (out.principal.tier.empty()) {
    out.principal.tier = default_tier_;
  } else if (!tiers_.contains(out.principal.tier)) {
    return Refused("unknown_tier", true, "unknown tier");
  }
  out.ok = true;
  out.credential = "jwt:" + out.principal.tenant + "/" + out.principal.user_id;
  return out;
}

AuthOutcome Authenticator::Authenticate(const http::Request& request, std::int64_t now) const {
  if (!required_) {
    AuthOutcome out;
    out.ok = true;
    out.principal.tier = default_tier_;
    return out;
  }
  if (auto key = request.Header("x-api-key")) return ByApiKey(*key);
  if (auto authorization = request.Header("authorization")) {
    std::string_view value = *authorization;
    constexpr std::string_view kBearer = "bearer ";
    if (value.size() > kBearer.size() && http::EqualsIgnoreCase(value.substr(0, kBearer.size()), kBearer)) {
      std::string_view token = value.substr(kBearer.size());
      while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
      while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
      return ByJwt(token, now);
    }
    return Refused("invalid_token", true, "expected Authorization: Bearer <token>");
  }
  if (auto token = StreamTokenOf(request); token && !stream_key_.empty()) {
    return ByStreamToken(*token, now);
  }
  return Refused("missing", false, "");
}

}  // namespace agentd::api
