#include "api/stream_token.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/json/object.hpp>

#include "api/auth.hpp"
#include "api/jwt.hpp"
#include "common/json.hpp"

namespace agentd::api {
namespace {

namespace json = boost::json;

constexpr std::string_view kPrefix = "ast1.";
constexpr std::size_t kMinKey = 32;
constexpr std::size_t kMaxToken = 4096;

std::string Sign(std::string_view key, std::string_view signed_part) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size(), mac,
       &mac_len);
  return std::string(reinterpret_cast<const char*>(mac), mac_len);
}

std::string Claim(const json::object& claims, std::string_view name) {
  const json::value* v = claims.if_contains(name);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

StreamTokenCheck Refused(std::string reason, std::string description) {
  StreamTokenCheck out;
  out.reason = std::move(reason);
  out.description = std::move(description);
  return out;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// The value of cookie `name` in a Cookie header ("a=1; b=2").
std::optional<std::string_view> CookieValue(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const auto semi = header.find(';');
    std::string_view pair = header.substr(0, semi);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    const auto eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) return pair.substr(eq + 1);
    if (semi == std::string_view::npos) break;
    header.remove_prefix(semi + 1);
  }
  return std::nullopt;
}

}  // namespace

std::string MintStreamToken(std::string_view key, const model::Principal& principal,
                            std::int64_t expires_at) {
  json::object claims{{"t", principal.tenant},
                      {"u", principal.user_id},
                      {"r", principal.tier},
                      {"exp", expires_at}};
  std::string token(kPrefix);
  token += Base64UrlEncode(ToJson(claims));
  const std::string signature = Sign(key, token);
  token += '.';
  token += Base64UrlEncode(signature);
  return token;
}

StreamTokenCheck VerifyStreamToken(std::string_view key, std::string_view token,
                                   std::int64_t now) {
  if (key.size() < kMinKey) return Refused("stream_token_disabled", "stream tokens are not accepted");
  if (token.size() > kMaxToken || token.substr(0, kPrefix.size()) != kPrefix) {
    return Refused("stream_token_malformed", "malformed stream token");
  }
  const auto dot = token.rfind('.');
  if (dot == std::string_view::npos || dot < kPrefix.size()) {
    return Refused("stream_token_malformed", "malformed stream token");
  }
  const std::string_view signed_part = token.substr(0, dot);
  std::string signature;
  if (!Base64UrlDecode(token.substr(dot + 1), &signature)) {
    return Refused("stream_token_malformed", "malformed stream token");
  }
  const std::string expected = Sign(key, signed_part);
  if (signature.size() != expected.size() ||
      CRYPTO_memcmp(signature.data(), expected.data(), expected.size()) != 0) {
    return Refused("stream_token_bad_signature", "stream token signature does not match");
  }
  std::string text;
  if (!Base64UrlDecode(signed_part.substr(kPrefix.size()), &text)) {
    return Refused("stream_token_malformed", "malformed stream token");
  }
  auto parsed = ParseJson(text);
  if (!parsed || !parsed->is_object()) return Refused("stream_token_malformed", "malformed stream token");
  const json::object& claims = parsed->get_object();
  const json::value* exp = claims.if_contains("exp");
  if (exp == nullptr || !exp->is_int64()) return Refused("stream_token_malformed", "malformed stream token");
  if (exp->get_int64() <= now) return Refused("stream_token_expired", "stream token expired");
  StreamTokenCheck out;
  out.ok = true;
  out.principal.tenant = Claim(claims, "t");
  out.principal.user_id = Claim(claims, "u");
  out.principal.tier = Claim(claims, "r");
  return out;
}

std::optional<std::string_view> StreamTokenOf(const http::Request& request) {
  if (request.method != http::Method::kGet && request.method != http::Method::kHead) {
    return std::nullopt;
  }
  if (!EndsWith(request.path, "/stream") && !EndsWith(request.path, "/ws")) return std::nullopt;
  if (auto q = request.Query("access_token"); q && !q->empty()) return q;
  if (auto cookie = request.Header("cookie")) {
    if (auto v = CookieValue(*cookie, kStreamTokenCookie); v && !v->empty()) return v;
  }
  return std::nullopt;
}

}  // namespace agentd::api

namespace agentd::api {

// The Authenticator's hook (auth.cpp calls it for a request without credential headers).
AuthOutcome Authenticator::ByStreamToken(std::string_view token, std::int64_t now) const {
  StreamTokenCheck check = VerifyStreamToken(stream_key_, token, now);
  AuthOutcome out;
  if (!check.ok) {
    out.reason = std::move(check.reason);
    out.bad_token = true;
    out.description = std::move(check.description);
    return out;
  }
  // Minted with auth off (the empty tenant), or for a tier since removed: not a principal now.
  if (check.principal.tenant.empty() || !tiers_.contains(check.principal.tier)) {
    out.reason = "stream_token_stale";
    out.bad_token = true;
    out.description = "stream token no longer valid";
    return out;
  }
  out.ok = true;
  out.principal = std::move(check.principal);
  out.credential = "stream:" + out.principal.tenant + "/" + out.principal.user_id;
  return out;
}

}  // namespace agentd::api
