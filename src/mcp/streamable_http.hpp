#pragma once
// The Streamable HTTP transport (MCP 2025-11-25, "Transports"): every message is a POST to the
// server's one endpoint with `Accept: application/json, text/event-stream`; the answer to a
// request is either one JSON body or an SSE stream carrying server messages and then the
// response (the stream is left once the response arrived). The `Mcp-Session-Id` the server
// gives at initialize is sent on every later request, with `MCP-Protocol-Version`; a 404 for
// that session is kNotFound (the server forgot it: initialize again). Configured headers go on
// every request. Built on runtime::HttpTransport (http::ClientPool: pooled keep-alive, TLS).
// Not done: the optional GET stream for unsolicited server messages (list_changed arrives on
// the POST streams that carry it).

#include <memory>

#include "config/config.hpp"
#include "mcp/transport.hpp"
#include "runtime/http_transport.hpp"

namespace agentd::mcp {

// `max_message_bytes` bounds one JSON body or SSE event.
std::shared_ptr<Transport> MakeStreamableHttpTransport(const config::McpServerSpec& spec,
                                                       runtime::HttpTransport& http,
                                                       std::size_t max_message_bytes);

}  // namespace agentd::mcp
