#pragma once
// The mock model served as an OpenAI-compatible HTTP API (what `agentd mock-llm` runs):
//   POST /v1/chat/completions (and /chat/completions)  streaming (SSE) and not
//   GET  /v1/models (and /models), GET /health
//   POST /tools/get_weather  {"city": "x"} -> text "sunny in x"
// Latency waits on steady_timers in the connection's coroutine, never on a thread, so
// thousands of slow completions cost only their coroutine frames.

#include "http/router.hpp"
#include "mock/mock_model.hpp"

namespace agentd::mock {

// Adds the routes above to `router`; the handlers copy `options`.
void RegisterMockRoutes(http::Router& router, const MockOptions& options);

}  // namespace agentd::mock
