#include "api/errors.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include "common/json.hpp"
#include "scheduler/refusal.hpp"
#include "storage/query.hpp"

namespace agentd::api {

int HttpStatus(Errc code) {
  switch (code) {
    case Errc::kInvalidArgument: return 400;
    case Errc::kNotFound: return 404;
    case Errc::kConflict: return 409;
    case Errc::kUnprocessable: return 422;
    case Errc::kUnsupported: return 422;
    case Errc::kResourceExhausted: return 429;
    case Errc::kUnavailable: return 503;
    case Errc::kTimeout: return 504;
    case Errc::kCancelled: return 503;
    case Errc::kInternal: return 500;
  }
  return 500;
}

std::string_view ErrorCode(Errc code) { return ErrcName(code); }

http::Response ErrorReply(int status, std::string_view code, std::string_view detail,
                          json::object extra) {
  json::object body{{"error", code}, {"detail", detail}};
  for (auto& [key, value] : extra) body[key] = std::move(value);
  return http::Response::Json(status, ToJson(body));
}

http::Response ErrorResponse(const Error& error) {
  int status = HttpStatus(error.code);
  // Over-limit refusals (scheduler/refusal.hpp): a body naming the limit, and when to retry.
  if (error.code == Errc::kResourceExhausted || error.code == Errc::kUnavailable) {
    if (auto refusal = scheduler::ParseRefusal(error)) {
      const std::int64_t retry = std::max<std::int64_t>(1, refusal->retry_after.count());
      json::object extra{{"retry_after", retry}};
      if (!refusal->limit.empty()) extra["limit"] = refusal->limit;
      auto response = ErrorReply(status, refusal->error, refusal->message, std::move(extra));
      response.SetHeader("Retry-After", std::to_string(retry));
      return response;
    }
  }
  if (status == 500) {
    spdlog::error("api: internal error: {}", error.message);
    return ErrorReply(status, ErrorCode(error.code), "Internal server error");
  }
  if (status >= 500) {
    spdlog::warn("api: {} ({}): {}", status, ErrcName(error.code), error.message);
  }
  auto response = ErrorReply(status, ErrorCode(error.code), error.message);
  // A dependency refuses (storage full or its database file deleted, a pool exhausted): say
  // when to ask again, as the over-limit refusals above do.
  if (error.code == Errc::kUnavailable) response.SetHeader("Retry-After", "5");
  return response;
}

http::Response ValidationResponse(const json::array& issues) {
  std::string parts;
  for (const auto& issue : issues) {
    const auto& o = issue.as_object();
    const auto* message = o.if_contains("message");
    const auto* path = o.if_contains("path");
    if (!parts.empty()) parts += "; ";
    parts += path && path->is_array() ? JsonPathText(path->get_array()) : std::string();
    parts += ": ";
    if (message && message->is_string()) parts += message->get_string();
  }
  std::string detail = "Invalid request: " + parts;
  json::object body{
      {"success", false},
      {"error", json::object{{"name", "ZodError"}, {"issues", issues}}},
      {"detail", detail},
  };
  return http::Response::Json(400, ToJson(body));
}

Error Reword(Error error, Errc code, std::string message) {
  if (error.code == code && !storage::IsExpiredError(error)) error.message = std::move(message);
  return error;
}

namespace text {
std::string ThreadWithIdNotFound(std::string_view thread_id) {
  return fmt::format("Thread with ID {} not found", thread_id);
}
std::string AssistantIdNotFound(std::string_view assistant_id) {
  return fmt::format("Assistant \"{}\" not found.", assistant_id);
}
std::string GraphNotFound(std::string_view graph_id) {
  return fmt::format("Graph \"{}\" not found", graph_id);
}
std::string ThreadHasNoGraph(std::string_view thread_id) {
  return fmt::format("Thread {} has no graph ID", thread_id);
}
std::string BadNamespaceLabel(std::string_view joined) {
  return fmt::format("Namespace labels cannot be empty or contain periods. Received: {}", joined);
}
}  // namespace text

}  // namespace agentd::api
