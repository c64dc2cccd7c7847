#pragma once
// The config file's lists: "models", "tools" and "graphs" (docs/configuration.md), parsed and
// cross-checked, and the built-in demo catalogue used when no file declares any of them.
// Every failure is kInvalidArgument with a message "<key path>: <problem>", for example
// `graphs[1].model: unknown model "gpt5"`.

#include <boost/json/value.hpp>

#include "common/error.hpp"
#include "config/config.hpp"
#include "config/environment.hpp"

namespace agentd::config {

// `models` must be an array; api keys and `{"env": NAME}` header values are resolved from
// `env` (a missing variable is an error naming it). In `models[].base_url` and `tools[].url`,
// `${NAME}` / `${NAME:-default}` are replaced from `env`.
Status ParseModels(const boost::json::value& models, const Environment& env, Config& out);
Status ParseTools(const boost::json::value& tools, const Environment& env, Config& out);
// `mcp_servers` (needs out.tools filled): names collide neither across servers nor with
// `tools` (the error names both). Stdio children's environments are resolved here.
Status ParseMcpServers(const boost::json::value& servers, const Environment& env, Config& out);
// The server that would offer tool `name` (its tool_filter lists it, or it has none and the
// name starts with its prefix), or null.
const McpServerSpec* McpClaims(const std::vector<McpServerSpec>& servers, std::string_view name);
// Needs out.models, out.tools and out.mcp_servers filled: graphs reference them by name.
Status ParseGraphs(const boost::json::value& graphs, Config& out);

// Model "mock" (provider mock), tool get_weather (kind demo), graphs "agent" (react) and "echo".
void AddDemoCatalog(Config& out);

}  // namespace agentd::config
