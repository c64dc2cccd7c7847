#pragma once
// The request-framing rules agentd enforces after Beast has parsed a request head and before
// it reads any body (RFC 9112 sections 3.2 and 6). Beast accepts some heads whose body length
// a proxy in front of us may read differently, the shape of request smuggling:
//
//   Transfer-Encoding with a coding other than chunked ("gzip, chunked" is read as plain
//     chunked; "chunked, gzip" as no body at all)       -> 501 (we implement chunked only)
//   chunked more than once, an empty Transfer-Encoding,
//     or Transfer-Encoding on an HTTP/1.0 request        -> 400
//   both Transfer-Encoding and Content-Length             -> 400 (Beast refuses only some orders)
//   HTTP/1.1 without Host, or more than one Host line     -> 400 (HTTP/1.0 may omit it)
//
// Every refusal closes the connection after the answer: the body's length is unknown. Plain
// function over message.hpp types (no Beast), shared by the session and the fuzz target
// (tests/fuzz/fuzz_http_request.cpp). Test: tests/unit/http/framing_test.cpp.

#include <optional>

#include "http/message.hpp"

namespace agentd::http::detail {

// The refusal for `request`'s head (headers in arrival order; `version` 10 or 11), or nullopt
// when its framing is acceptable. The body is JSON {"error": "<code>", "detail": "<message>"}.
std::optional<Response> CheckFraming(const Request& request, unsigned version);

}  // namespace agentd::http::detail
