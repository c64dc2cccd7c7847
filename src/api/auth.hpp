#pragma once
// Resolves who a request acts for (model::Principal) from its credentials:
//   x-api-key: <key>             SHA-256 of the key, compared in constant time with every
//                                configured auth.api_keys[].sha256;
//   Authorization: Bearer <jwt>  verified by JwtVerifier (jwt.hpp); tenant, user and tier from
//                                the configured claims (tenant required, tier must be known).
// With auth.mode "none" every request is the empty tenant on limits.default_tier.
//
// A refusal names a reason (the agentd_auth_failures_total label) and, for a bad token, a
// short description for the WWW-Authenticate error_description. Keys and tokens are never
// logged or echoed.

#include <array>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "api/jwt.hpp"
#include "common/error.hpp"
#include "config/config.hpp"
#include "http/message.hpp"
#include "model/principal.hpp"

namespace agentd::api {

struct AuthOutcome {
  bool ok = false;
  model::Principal principal;
  std::string credential;  // identifies the credential for per-key limits (never the secret)
  // Refused: missing, invalid_key, or the JwtRefusal reason.
  std::string reason;
  bool bad_token = false;  // a credential was presented but is not valid (error="invalid_token")
  std::string description;
};

class Authenticator {
 public:
  static Result<std::unique_ptr<Authenticator>> Make(const config::AuthSettings& auth,
                                                     const config::Limits& limits);
  bool required() const { return required_; }
  // `now`: seconds since the epoch (JWT exp/nbf).
  AuthOutcome Authenticate(const http::Request& request, std::int64_t now) const;
  // Also accept stream tokens signed with `key` (stream_token.hpp) on stream routes, after the
  // headers; an empty key accepts none.
  void AcceptStreamTokens(std::string key) { stream_key_ = std::move(key); }

 private:
  struct Key {
    std::array<unsigned char, 32> digest;
    model::Principal principal;
    std::string credential;
  };
  AuthOutcome ByApiKey(std::string_view key) const;
  AuthOutcome ByJwt(std::string_view token, std::int64_t now) const;
  AuthOutcome ByStreamToken(std::string_view token, std::int64_t now) const;  // stream_token.cpp

  bool required_ = false;
  std::string default_tier_;
  std::set<std::string, std::less<>> tiers_;
  std::vector<Key> keys_;
  config::JwtSettings jwt_settings_;
  std::unique_ptr<JwtVerifier> jwt_;
  std::string stream_key_;
};

}  // namespace agentd::api
