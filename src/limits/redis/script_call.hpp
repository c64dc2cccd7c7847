#pragma once
// Private to limits/redis: calling a Lua script by its SHA-1 (EVALSHA) on a bus/redis
// Connection, shared by the token buckets (bucket_script.hpp) and the run permits
// (permit_script.hpp). EVALSHA sends 40 bytes instead of the script; a Redis that lost its
// script cache (restart, SCRIPT FLUSH) answers NOSCRIPT, and the script is loaded and the call
// retried once.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "bus/redis/detail/connection.hpp"
#include "common/error.hpp"

namespace agentd::limits::redis {

// `args` is a whole EVALSHA command of `script` (which must outlive the call: static text).
// `cb` runs on the connection's strand.
void SendScript(std::shared_ptr<bus::redis::detail::Connection> conn, std::string_view script,
                std::vector<std::string> args, std::chrono::milliseconds timeout,
                bus::redis::detail::Connection::Callback cb);

// SendScript (or, with an empty `script`, a plain command), awaited: completes on the
// awaiting coroutine's executor, which is kept from running out of work meanwhile.
boost::asio::awaitable<Result<bus::redis::detail::Reply>> AwaitCommand(
    std::shared_ptr<bus::redis::detail::Connection> conn, std::string_view script,
    std::vector<std::string> args, std::chrono::milliseconds timeout);

}  // namespace agentd::limits::redis
