#pragma once
// McpTools: the runtime::ToolSource of every configured MCP server (config.mcp_servers), one
// McpServer each. Merges their tool lists into one snapshot, rebuilt whenever a server's list
// changes or it goes down: a name two servers offer goes to the first in file order; the other
// is refused, logged and counted (agentd_mcp_tools_refused_total), as the config loader already
// refuses every collision it can see (tool_filter names). Graph tool names resolve against this
// snapshot when a run starts (runtime/executor.hpp RunCatalog::external).
//
// Lifetime: built and started by apps/agentd after the loops run; Stop() before they stop.
// Threading: everything may be called from any thread.

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "config/config.hpp"
#include "mcp/server.hpp"
#include "observe/metrics.hpp"
#include "runtime/http_transport.hpp"
#include "runtime/tools.hpp"

namespace agentd::mcp {

class McpTools final : public runtime::ToolSource {
 public:
  // `executor`: where the sessions run (each server gets its own strand of it).
  McpTools(std::vector<config::McpServerSpec> specs, boost::asio::any_io_executor executor,
           runtime::HttpTransport& http, observe::Metrics* metrics);
  ~McpTools() override;

  void Start();
  // Blocks the calling thread (never an event loop's) until every server's first connection
  // attempt ended, at most `bound`. Returns true when all did.
  bool WaitFirstAttempts(std::chrono::milliseconds bound) const;
  void Stop();

  std::shared_ptr<const std::vector<config::ToolSpec>> Tools() const override;
  boost::asio::awaitable<runtime::ToolOutcome> Call(const config::ToolSpec& spec,
                                                    boost::json::value args) override;

  // For /ready: false with `why` naming each `required` server that is down.
  bool RequiredUp(std::string* why) const;
  McpServer* server(std::string_view name) const;

 private:
  void Rebuild();

  // What the servers' callbacks reach: cleared by Stop() so a session outliving this object
  // (its coroutines hold it) never calls back into freed memory.
  struct Owner {
    std::mutex mu;
    McpTools* tools = nullptr;
  };
  std::shared_ptr<Owner> owner_ = std::make_shared<Owner>();
  std::vector<std::shared_ptr<McpServer>> servers_;
  observe::Counter* collisions_ = nullptr;
  mutable std::mutex mu_;
  std::shared_ptr<const std::vector<config::ToolSpec>> tools_;
};

}  // namespace agentd::mcp
