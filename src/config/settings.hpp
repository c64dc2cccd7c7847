#pragma once
// THE settings table: every scalar setting once, with its type, default, description and
// validator. Flags (--name-with-dashes), environment variables (AGENTD_<NAME>), config-file
// keys (<section>.<name>), --help, `agentd config` and docs/configuration.md all come from it.
// Adding a setting = one row in settings.cpp (plus the field in config.hpp).

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/json/value.hpp>

#include "config/config.hpp"

namespace agentd::config {

enum class SettingType { kString, kInteger, kBool, kDuration, kList, kNumber };

// A parsed value, before the setting's own validation.
using SettingValue =
    std::variant<std::string, std::int64_t, bool, std::vector<std::string>, double>;

struct Setting {
  std::string_view name;     // snake_case; also the config-file key
  std::string_view section;  // config-file object holding it ("server", "limits", "auth"); "" = not in files
  SettingType type;
  std::string_view default_text;  // as shown in --help and docs
  std::string_view description;
  std::int64_t min = 0;  // integers, durations and numbers: inclusive range
  std::int64_t max = 0;
  // Validates and stores the value; returns the problem ("" when accepted).
  std::string (*apply)(Config&, const SettingValue&) = nullptr;
  // The current value, rendered as JSON (for the effective-config dump).
  boost::json::value (*show)(const Config&) = nullptr;
};

std::span<const Setting> Settings();
const Setting* FindSetting(std::string_view name);

std::string EnvName(const Setting& s);   // AGENTD_BODY_LIMIT
std::string FlagName(const Setting& s);  // --body-limit
std::string FileKey(const Setting& s);   // server.body_limit
std::string_view TypeName(SettingType t);

// Parses `text` (from a flag or the environment) for the setting's type and applies it.
// Returns the problem without the key ("" when accepted).
std::string ApplyText(Config& config, const Setting& s, std::string_view text);
// Same for a config-file value; wrong JSON types are rejected.
std::string ApplyJson(Config& config, const Setting& s, const boost::json::value& v);

}  // namespace agentd::config
