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
// Needs out.models and out.tools filled: graphs reference them by name.
Status ParseGraphs(const boost::json::value& graphs, Config& out);

// Model "mock" (provider mock), tool get_weather (kind demo), graphs "agent" (react) and "echo".
void AddDemoCatalog(Config& out);

}  // namespace agentd::config
