#include "mcp/mcp_tools.hpp"

#include <map>
#include <thread>

#include <boost/asio/strand.hpp>
#include <fmt/format.h>

#include "observe/log.hpp"

namespace agentd::mcp {

namespace asio = boost::asio;

McpTools::McpTools(std::vector<config::McpServerSpec> specs, asio::any_io_executor executor,
                   runtime::HttpTransport& http, observe::Metrics* metrics)
    : tools_(std::make_shared<const std::vector<config::ToolSpec>>()) {
  if (metrics != nullptr) {
    collisions_ = &metrics->GetCounter("agentd_mcp_tool_collisions_total",
                                       "MCP tools refused because an earlier server offers the name");
  }
  owner_->tools = this;
  for (auto& spec : specs) {
    auto on_change = [owner = owner_] {
      std::lock_guard lock(owner->mu);
      if (owner->tools != nullptr) owner->tools->Rebuild();
    };
    servers_.push_back(std::make_shared<McpServer>(std::move(spec), asio::make_strand(executor), http,
                                                   metrics, std::move(on_change)));
  }
}

McpTools::~McpTools() { Stop(); }

void McpTools::Start() {
  for (auto& s : servers_) s->Start();
}

bool McpTools::WaitFirstAttempts(std::chrono::milliseconds bound) const {
  // Start-up only, on the main thread: a short poll keeps this free of loop machinery.
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (std::chrono::steady_clock::now() < deadline) {
    bool all = true;
    for (const auto& s : servers_) all = all && s->attempted();
    if (all) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

void McpTools::Stop() {
  {
    std::lock_guard lock(owner_->mu);
    owner_->tools = nullptr;
  }
  for (auto& s : servers_) s->Stop();
}

void McpTools::Rebuild() {
  auto merged = std::make_shared<std::vector<config::ToolSpec>>();
  std::map<std::string, std::string> owner;
  // A server that is down keeps its last list: the model still sees its tools, and a call
  // waits for the restart (up to its timeout) or fails naming the server.
  for (const auto& s : servers_) {
    for (const auto& t : *s->tools()) {
      if (auto [it, fresh] = owner.emplace(t.name, s->spec().name); !fresh) {
        if (collisions_) collisions_->Inc();
        observe::Logger("mcp")->warn(
            "mcp tool refused: the name collides: tool={} server={} also_offered_by={}", t.name,
            s->spec().name, it->second);
        continue;
      }
      merged->push_back(t);
    }
  }
  std::lock_guard lock(mu_);
  tools_ = std::move(merged);
}

std::shared_ptr<const std::vector<config::ToolSpec>> McpTools::Tools() const {
  std::lock_guard lock(mu_);
  return tools_;
}

asio::awaitable<runtime::ToolOutcome> McpTools::Call(const config::ToolSpec& spec,
                                                     boost::json::value args) {
  McpServer* s = server(spec.server);
  if (s == nullptr) {
    co_return runtime::ToolOutcome{
        fmt::format("Error: tool {} names MCP server {}, which is not configured", spec.name,
                    spec.server),
        false};
  }
  co_return co_await s->Call(spec, std::move(args));
}

bool McpTools::RequiredUp(std::string* why) const {
  std::string down;
  for (const auto& s : servers_) {
    if (!s->spec().required || s->up()) continue;
    if (!down.empty()) down += "; ";
    down += fmt::format("mcp server {} is down: {}", s->spec().name, s->last_error());
  }
  if (down.empty()) return true;
  if (why != nullptr) *why = std::move(down);
  return false;
}

McpServer* McpTools::server(std::string_view name) const {
  for (const auto& s : servers_) {
    if (s->spec().name == name) return s.get();
  }
  return nullptr;
}

}  // namespace agentd::mcp
