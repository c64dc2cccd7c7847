#pragma once
// Verifies a compact JWS (JWT) with OpenSSL EVP: HS256 (HMAC-SHA256), RS256 (RSA PKCS#1 v1.5
// SHA-256) and ES256 (ECDSA P-256; the JOSE r||s signature is converted to DER). Only the
// algorithms configured are accepted: HS256 when a secret is set, RS256 or ES256 by the type
// of the configured public key. `alg: none` and everything else are refused, and so is any
// token whose header has a `crit` member (RFC 7515 4.1.11: agentd processes no JWS extension).
// Then exp (required unless JwtSettings::require_exp is off) and nbf (with leeway), aud (string
// or array) and iss are checked.
//
// Refusals carry a short reason (a metric label) and a description safe to send to the client;
// neither ever contains the token.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "common/error.hpp"
#include "config/config.hpp"

namespace agentd::api {

struct JwtRefusal {
  // malformed, crit_unsupported, alg_not_allowed, bad_signature, missing_exp, expired,
  // not_yet_valid, wrong_audience, wrong_issuer
  std::string reason;
  std::string description;  // for error_description
};

struct JwtOutcome {
  bool ok = false;
  boost::json::object claims;  // when ok
  JwtRefusal refusal;          // when !ok
};

class JwtVerifier {
 public:
  // Loads the PEM public key named by settings (kInvalidArgument when unreadable).
  static Result<std::unique_ptr<JwtVerifier>> Make(const config::JwtSettings& settings);
  ~JwtVerifier();
  JwtVerifier(const JwtVerifier&) = delete;
  JwtVerifier& operator=(const JwtVerifier&) = delete;

  // `now`: seconds since the epoch.
  JwtOutcome Verify(std::string_view token, std::int64_t now) const;
  bool enabled() const;  // some algorithm is configured

 private:
  explicit JwtVerifier(const config::JwtSettings& settings);
  struct Key;
  config::JwtSettings settings_;
  std::unique_ptr<Key> key_;  // RS256/ES256 public key; null when none
};

// base64url without padding (RFC 7515 section 2); false on bad input.
bool Base64UrlDecode(std::string_view in, std::string* out);
std::string Base64UrlEncode(std::string_view in);

}  // namespace agentd::api
