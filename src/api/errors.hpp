#pragma once
// The one place that turns failures into HTTP responses (agent-protocol.md 1.7).
//
// Every error body agentd sends is JSON with one shape, {"error": "<code>", "detail": "<message>"}
// (plus fields some errors add, such as a 429's "limit" and "retry_after"). Handler errors (not
// found, conflict, busy, bad namespace ...) are Errors whose message is the protocol's exact
// text, the "detail"; their code is ErrorCode(). Validation errors are Zod-style issue lists and
// go out as 400 {"success":false,"error":{"name":"ZodError","issues":[...]},"detail":...}, the
// protocol's layout. Server faults (5xx) are logged here and never carry backend details.
// http/ builds the few bodies it answers itself (404/405 of the router, 400, 413, 431, 503) in
// the same shape (http/detail/cors.hpp ErrorJson), without depending on this folder.

#include <string>
#include <string_view>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "common/error.hpp"
#include "http/message.hpp"

namespace agentd::api {

namespace json = boost::json;

// Status for each Errc: kInvalidArgument 400, kNotFound 404, kConflict 409,
// kUnprocessable 422, kUnsupported 422 (refused, not a fault: the SDK retries 5xx),
// kResourceExhausted 429, kUnavailable 503, kTimeout 504, kCancelled 503, kInternal 500.
int HttpStatus(Errc code);

// The "error" code of an Errc: its ErrcName ("not_found", "conflict", "invalid_argument",
// "unprocessable", "unsupported", "unavailable", "internal" ...).
std::string_view ErrorCode(Errc code);

// {"error": code, "detail": detail} plus every field of `extra`, as JSON with `status`.
http::Response ErrorReply(int status, std::string_view code, std::string_view detail,
                          json::object extra = {});

// ErrorReply(HttpStatus, ErrorCode, message); a generic detail for 500, whose message is logged.
// An over-limit refusal (scheduler/refusal.hpp, 429/503) goes out as
// {"error": <refusal code>, "detail", "limit", "retry_after"} with a Retry-After header (seconds).
http::Response ErrorResponse(const Error& error);

// 400 {"success":false,"error":{"name":"ZodError","issues":[...]},"detail":"<path>: <msg>"}.
http::Response ValidationResponse(const json::array& issues);

// `error` with its message replaced by `message` when its code is `code`: storage messages are
// for logs, the API owns the protocol's wording. The one exception is kept as it is: an expired
// thread's or assistant's kNotFound, whose text ("Thread <id> expired at <ISO time>",
// storage::ExpiredError) is the 404's reason.
Error Reword(Error error, Errc code, std::string message);

// The protocol's handler error texts, word for word.
namespace text {
inline constexpr std::string_view kAssistantNotFound = "Assistant not found";
inline constexpr std::string_view kAssistantExists = "Assistant already exists";
inline constexpr std::string_view kAssistantVersionNotFound = "Assistant version not found";
inline constexpr std::string_view kThreadNotFound = "Thread not found";
inline constexpr std::string_view kThreadExists = "Thread already exists";
inline constexpr std::string_view kThreadBusy = "Thread is busy";
inline constexpr std::string_view kMalformedJson = "Malformed JSON in request body";
inline constexpr std::string_view kSemanticSearchNotConfigured =
    "Semantic search is not configured: this server has no store index, so it cannot rank "
    "items by `query`. Search without `query` (namespace prefix and filter only).";
inline constexpr std::string_view kNamespaceRequired = "Namespace is required";
std::string ThreadWithIdNotFound(std::string_view thread_id);  // Thread with ID <id> not found
std::string AssistantIdNotFound(std::string_view assistant_id);  // Assistant "<id>" not found.
std::string GraphNotFound(std::string_view graph_id);            // Graph "<id>" not found
std::string ThreadHasNoGraph(std::string_view thread_id);        // Thread <id> has no graph ID
std::string BadNamespaceLabel(std::string_view joined);
}  // namespace text

// "error" codes that are not an Errc's name.
namespace code {
inline constexpr std::string_view kInvalidJson = "invalid_json";             // 400
inline constexpr std::string_view kNumberOutOfRange = "number_out_of_range"; // 422
inline constexpr std::string_view kInvalidBody = "invalid_body";             // 400, not an object
inline constexpr std::string_view kRateLimited = "rate_limited";             // 429
inline constexpr std::string_view kUnauthorized = "unauthorized";            // 401
inline constexpr std::string_view kSemanticSearchNotConfigured =
    "semantic_search_not_configured";  // 422: store search with a `query`
}  // namespace code

}  // namespace agentd::api
