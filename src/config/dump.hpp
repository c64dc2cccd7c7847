#pragma once
// Human-facing renderings of the settings table and of an effective Config: the settings part
// of --help, `agentd config` (itself a loadable config file, secrets masked) and the Markdown
// table of docs/configuration.md (`agentd config --markdown`).

#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "config/config.hpp"

namespace agentd::config {

// One entry per setting: flag, value type, default, env var, description.
std::string SettingsHelp();

// The effective configuration as JSON with comments: every setting with where its value came
// from, then models, tools and graphs. API keys are never printed (only "****").
std::string DumpEffective(const Config& config);

// The settings table in Markdown (| setting | flag | env | default | description |).
std::string SettingsMarkdown();

// "****" for any non-empty secret ("" stays "").
std::string MaskSecret(std::string_view secret);

// One entry of the file's models, tools or graphs lists as the dump writes it (a model's API
// key is never in it); also what a reload compares (config/reload.hpp).
boost::json::object ModelJson(const ModelSpec& m);
boost::json::object ToolJson(const ToolSpec& t);
boost::json::object GraphJson(const GraphSpec& g);

// JSON with two-space indentation; `indent` is the current depth.
std::string PrettyJson(const boost::json::value& v, int indent = 0);

}  // namespace agentd::config
