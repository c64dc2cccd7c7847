#pragma once
// The one place that turns failures into HTTP responses (agent-protocol.md 1.7).
//
// Handler errors (not found, conflict, busy, bad namespace ...) are Errors whose message is
// the protocol's exact text; they go out as text/plain with the status their Errc maps to.
// Validation errors are Zod-style issue lists and go out as 400 JSON. Server faults (5xx) are
// logged here and never carry backend details to the client.

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

// text/plain body with the error's message (a generic text for 5xx, whose detail is logged).
// Exception: an over-limit refusal (scheduler/refusal.hpp, 429/503) goes out as JSON
// {"error","message","limit"} with a Retry-After header (seconds).
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
inline constexpr std::string_view kNamespaceRequired = "Namespace is required";
std::string ThreadWithIdNotFound(std::string_view thread_id);  // Thread with ID <id> not found
std::string AssistantIdNotFound(std::string_view assistant_id);  // Assistant "<id>" not found.
std::string GraphNotFound(std::string_view graph_id);            // Graph "<id>" not found
std::string ThreadHasNoGraph(std::string_view thread_id);        // Thread <id> has no graph ID
std::string BadNamespaceLabel(std::string_view joined);
}  // namespace text

}  // namespace agentd::api
