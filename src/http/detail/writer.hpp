#pragma once
// Writes one Response on a connection: whole bodies with Content-Length, streamed ones
// chunked through a BodyWriter, HEAD without a body. Private to http/.

#include <boost/asio/awaitable.hpp>

#include "http/detail/server_state.hpp"
#include "http/message.hpp"

namespace agentd::http::detail {

// True when the connection is still usable (every byte went out and, for a stream, the
// producer finished without the peer leaving). `resp.body` is moved from.
boost::asio::awaitable<bool> WriteResponse(beast::tcp_stream& stream, ServerState& state,
                                           Connection& conn, Response& resp, bool head_only,
                                           bool keep_alive, unsigned version,
                                           const std::string& request_id);

}  // namespace agentd::http::detail
