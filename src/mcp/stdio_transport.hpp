#pragma once
// The stdio transport: the server is a child process (posix_spawnp) in its own process group,
// with exactly the environment its McpServerSpec resolved at load (PATH, HOME, env_allow,
// env). Newline-delimited JSON-RPC on its stdin/stdout through non-blocking pipes awaited with
// Asio (nothing blocks a loop); its stderr is agentd's. The child's exit is awaited through a
// pidfd, then reaped with waitpid(WNOHANG). Writes go through a bounded queue (1,024 messages).
// Close() kills the process group (SIGKILL): a stuck server cannot hold agentd up.

#include <memory>

#include <boost/asio/any_io_executor.hpp>

#include "config/config.hpp"
#include "mcp/transport.hpp"

namespace agentd::mcp {

// `strand`: where the pipes are read and written. `max_line_bytes` bounds one message.
std::shared_ptr<Transport> MakeStdioTransport(const config::McpServerSpec& spec,
                                              boost::asio::any_io_executor strand,
                                              std::size_t max_line_bytes);

}  // namespace agentd::mcp
