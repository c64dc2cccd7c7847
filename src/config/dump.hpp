#pragma once
// Human-facing renderings of the settings table and of an effective Config: the settings part
// of --help, `agentd config` (itself a loadable config file, secrets masked) and the Markdown
// table of docs/configuration.md (`agentd config --markdown`).

#include <string>
#include <string_view>

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

// JSON with two-space indentation; `indent` is the current depth.
std::string PrettyJson(const boost::json::value& v, int indent = 0);

}  // namespace agentd::config
