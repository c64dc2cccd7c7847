#pragma once
// CORS and the canned responses the server builds itself (preflight, 400, 404, 408, 413, 431,
// 500, 501, 503).
// Plain functions on message.hpp types, no Beast, so they are cheap to compile and to test.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.hpp"

namespace agentd::http::detail {

inline constexpr std::string_view kExposeHeaders =
    "content-location, location, x-pagination-total, x-pagination-next";
inline constexpr std::string_view kAllowMethods = "GET,HEAD,PUT,POST,DELETE,PATCH";

// Adds Access-Control-Allow-Origin ("*", or the request's Origin when it is configured; then
// also Vary: Origin) and Access-Control-Expose-Headers. Goes on every response, errors included.
void AddCorsHeaders(const std::vector<std::string>& allowed_origins,
                    std::optional<std::string_view> origin, HeaderList& headers);

// 204 for an OPTIONS request on any path: allowed methods, and the request's
// Access-Control-Request-Headers echoed back.
Response PreflightResponse(const Request& request);

// {"error":"<code>","detail":"<message>"} with JSON string escaping: the one error body shape
// of agentd (api/errors.hpp builds the same for handler errors; http/ may not depend on api/).
std::string ErrorJson(std::string_view code, std::string_view message);

// The client's x-request-id when it is short, printable ASCII; otherwise a fresh uuid4.
std::string ChooseRequestId(std::optional<std::string_view> client_value);

}  // namespace agentd::http::detail
