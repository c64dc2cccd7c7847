#pragma once
// The WebSocket upgrade hook (message.hpp Response::websocket): accepts the handshake on the
// session's stream, then runs the handler's coroutine with a WebSocket over it. Private to http/.

#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "http/detail/server_state.hpp"
#include "http/message.hpp"

namespace agentd::http::detail {

// True when `request` asks for a WebSocket upgrade (GET, Connection: upgrade, Upgrade: websocket).
bool IsWebSocketUpgrade(const beast::http::request<beast::http::string_body>& request);

// Answers 101 (carrying `resp.headers`) and runs `resp.websocket` until it returns, then closes
// the WebSocket (1000, or 1011 when the handler threw). Returns the status to count: 101, or
// 400 when the handshake failed. The connection is not reusable afterwards.
boost::asio::awaitable<int> RunWebSocket(beast::tcp_stream& stream, ServerState& state,
                                         Connection& conn,
                                         const beast::http::request<beast::http::string_body>& request,
                                         Response& resp, const std::string& request_id);

}  // namespace agentd::http::detail
