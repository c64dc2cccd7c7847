#pragma once
// One coroutine per connection: read a request, answer it, repeat while keep-alive holds.
// The next request is read only after the current one is answered, which is exactly what
// HTTP/1.1 pipelining needs (answers leave in request order; early bytes wait in the buffer).

#include <memory>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "http/detail/server_state.hpp"

namespace agentd::http::detail {

boost::asio::awaitable<void> RunSession(std::shared_ptr<ServerState> state,
                                        std::shared_ptr<Connection> conn,
                                        boost::asio::ip::tcp::socket socket);

// Over max_connections: answer 503 with Retry-After and close, without reading the request.
boost::asio::awaitable<void> RejectConnection(std::shared_ptr<ServerState> state,
                                              boost::asio::ip::tcp::socket socket);

}  // namespace agentd::http::detail
