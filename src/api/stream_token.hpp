#pragma once
// Stream tokens: how a browser follows an SSE or WebSocket route with auth on, since
// EventSource and WebSocket cannot send x-api-key or Authorization (docs/console.md, "Stream
// tokens"). POST /auth/stream-token, sent with the normal credential, answers a token that
// stands for that principal (tenant, user, tier) for console.stream_token_ttl seconds. The
// token is accepted, instead of a header, as `?access_token=<token>` or the cookie
// `agentd_stream_token`, and only on GET requests whose path ends in /stream or /ws (run and
// thread streams, broadcast channels, the operations stream): it can open a stream, never
// write, and it cannot mint another token (that route is a POST).
//
//   token = "ast1." base64url(claims JSON) "." base64url(HMAC-SHA256(key, "ast1." claims64))
//   claims = {"t": tenant, "u": user_id, "r": tier, "exp": <epoch seconds>}
//
// The key is console.stream_token_secret: from stream_token_secret_env (set the same on every
// instance of a cluster) or random per start. Verification is constant-time; refusals name a
// reason for agentd_auth_failures_total (stream_token_malformed, _bad_signature, _expired)
// and never echo the token. Tests: tests/unit/api/stream_token_test.cpp.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "http/message.hpp"
#include "model/principal.hpp"

namespace agentd::api {

inline constexpr std::string_view kStreamTokenCookie = "agentd_stream_token";

std::string MintStreamToken(std::string_view key, const model::Principal& principal,
                            std::int64_t expires_at);

struct StreamTokenCheck {
  bool ok = false;
  model::Principal principal;  // when ok
  std::string reason;          // when not: the metric label
  std::string description;     // when not: safe to send
};
// `now`: seconds since the epoch. A key shorter than 32 bytes accepts nothing.
StreamTokenCheck VerifyStreamToken(std::string_view key, std::string_view token, std::int64_t now);

// The stream token `request` carries, if it is a route that accepts one (GET, path ending in
// /stream or /ws): the access_token query parameter first, else the cookie.
std::optional<std::string_view> StreamTokenOf(const http::Request& request);

}  // namespace agentd::api
