#pragma once
// Refusal: why a run (or any request) was turned away by a limit, in a form that survives the
// trip through an Error. An Error has only a code and a message, and the scheduler may not
// see api/, so an over-limit refusal is encoded in the message as "refusal:" + JSON; the one
// place that maps errors to HTTP (api/errors.cpp) decodes it into a JSON body
// {"error","detail","limit","retry_after"} and a Retry-After header. Logs see the JSON, which is readable.
//
// Codes: Errc::kResourceExhausted (429: the tenant's own limit), Errc::kUnavailable (503: the
// server's queue is full, or it is shutting down).

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.hpp"

namespace agentd::scheduler {

inline constexpr std::string_view kRefusalPrefix = "refusal:";

struct Refusal {
  std::string error;    // "server_saturated", "tenant_limit", "shutting_down"
  std::string limit;    // "max_queued_runs", "max_concurrent_runs"; empty when none applies
  std::string message;  // for people
  std::chrono::seconds retry_after{1};
};

Error RefusalError(Errc code, const Refusal& refusal);
// The refusal an Error carries, or nullopt for any other error.
std::optional<Refusal> ParseRefusal(const Error& error);

}  // namespace agentd::scheduler
