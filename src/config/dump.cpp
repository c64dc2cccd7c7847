#include "config/dump.hpp"

#include <algorithm>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include "config/access.hpp"
#include "config/settings.hpp"

namespace agentd::config {
namespace {

namespace json = boost::json;

std::string Pad(int indent) { return std::string(static_cast<std::size_t>(indent) * 2, ' '); }

bool IsScalar(const json::value& v) { return !v.is_object() && !v.is_array(); }

}  // namespace

json::object ModelJson(const ModelSpec& m) {
  json::object o;
  o["name"] = m.name;
  o["provider"] = m.provider;
  o["model"] = m.model;
  if (m.provider == "mock") {
    o["latency_ms"] = m.mock_latency.count();
    o["slow_ms"] = m.mock_slow_latency.count();
    o["chunks"] = m.mock_chunks;
  } else {
    o["base_url"] = m.base_url;
    o["api_key_env"] = m.api_key_env;
  }
  o["max_concurrency"] = m.max_concurrency;
  o["timeout_ms"] = m.timeout.count();
  if (m.provider != "mock") {
    o["connect_timeout_ms"] = m.connect_timeout.count();
    o["first_byte_timeout_ms"] = m.first_byte_timeout.count();
    o["idle_timeout_ms"] = m.idle_timeout.count();
  }
  if (m.temperature) o["temperature"] = *m.temperature;
  if (m.top_p) o["top_p"] = *m.top_p;
  if (m.max_tokens) o["max_tokens"] = *m.max_tokens;
  if (!m.stop.empty()) {
    json::array stop;
    for (const auto& s : m.stop) stop.emplace_back(s);
    o["stop"] = std::move(stop);
  }
  if (!m.headers.empty()) {
    // A value read from a variable may be a secret: show where it comes from, not what it is.
    json::object headers;
    for (const auto& h : m.headers) {
      headers[h.name] = h.env.empty() ? json::value(h.value) : json::value(json::object{{"env", h.env}});
    }
    o["headers"] = std::move(headers);
  }
  if (!m.params.empty()) o["params"] = m.params;
  return o;
}

json::object ToolJson(const ToolSpec& t) {
  json::object o;
  o["name"] = t.name;
  o["kind"] = t.kind;
  if (!t.description.empty()) o["description"] = t.description;
  if (t.kind == "http") {
    o["url"] = t.url;
    o["timeout_ms"] = t.timeout.count();
    o["retries"] = t.retries;
  }
  o["parameters"] = t.parameters;
  return o;
}

json::object GraphJson(const GraphSpec& g) {
  json::object o;
  o["graph_id"] = g.graph_id;
  o["kind"] = g.kind;
  if (g.kind == "react") {
    o["model"] = g.model;
    json::array tools;
    for (const auto& t : g.tools) tools.emplace_back(t);
    o["tools"] = std::move(tools);
    o["system_prompt"] = g.system_prompt;
  }
  o["recursion_limit"] = g.recursion_limit;
  if (!g.description.empty()) o["description"] = g.description;
  if (!g.config.empty()) o["config"] = g.config;
  if (!g.context.empty()) o["context"] = g.context;
  if (!g.channels.empty()) {
    json::object channels;
    for (const auto& [name, reducer] : g.channels) channels[name] = reducer;
    o["channels"] = std::move(channels);
  }
  return o;
}

namespace {

// `extra`: lines (already indented, no trailing comma) appended after the settings.
void AppendSection(std::string& out, const Config& config, std::string_view section, bool last,
                   const std::string& extra = {}) {
  out += fmt::format("  \"{}\": {{\n", section);
  std::vector<const Setting*> rows;
  for (const auto& s : Settings()) {
    if (s.section == section) rows.push_back(&s);
  }
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Setting& s = *rows[i];
    auto it = config.setting_sources.find(std::string(s.name));
    const std::string source = it == config.setting_sources.end() ? "default" : it->second;
    std::string note = source;
    if (source == "env") note = fmt::format("env {}", EnvName(s));
    if (source == "flag") note = fmt::format("flag {}", FlagName(s));
    out += fmt::format("    \"{}\": {}{}  // {}\n", s.name, json::serialize(s.show(config)),
                       i + 1 < rows.size() || !extra.empty() ? "," : "", note);
  }
  out += extra;
  out += last ? "  }\n" : "  },\n";
}

}  // namespace

std::string MaskSecret(std::string_view secret) { return secret.empty() ? "" : "****"; }

std::string PrettyJson(const json::value& v, int indent) {
  if (v.is_object()) {
    const auto& o = v.get_object();
    if (o.empty()) return "{}";
    std::string out = "{\n";
    std::size_t i = 0;
    for (const auto& kv : o) {
      out += Pad(indent + 1) + json::serialize(json::string(kv.key())) + ": " + PrettyJson(kv.value(), indent + 1);
      out += ++i < o.size() ? ",\n" : "\n";
    }
    return out + Pad(indent) + "}";
  }
  if (v.is_array()) {
    const auto& a = v.get_array();
    if (a.empty()) return "[]";
    if (std::all_of(a.begin(), a.end(), IsScalar)) {
      std::string out = "[";
      for (std::size_t i = 0; i < a.size(); ++i) out += (i ? ", " : "") + json::serialize(a[i]);
      return out + "]";
    }
    std::string out = "[\n";
    for (std::size_t i = 0; i < a.size(); ++i) {
      out += Pad(indent + 1) + PrettyJson(a[i], indent + 1) + (i + 1 < a.size() ? ",\n" : "\n");
    }
    return out + Pad(indent) + "]";
  }
  return json::serialize(v);
}

std::string SettingsHelp() {
  std::string out = "Settings (precedence: default < config file < environment < flag):\n";
  for (const auto& s : Settings()) {
    const std::string value = s.type == SettingType::kBool ? "[=true|false]" : fmt::format(" <{}>", TypeName(s.type));
    out += fmt::format("  {}{}\n      {}\n      default: {}   env: {}{}\n", FlagName(s), value, s.description,
                       s.default_text.empty() ? "(none)" : s.default_text, EnvName(s),
                       s.section.empty() ? "" : fmt::format("   file: {}", FileKey(s)));
  }
  return out;
}

std::string DumpEffective(const Config& config) {
  std::string out;
  out += fmt::format("// agentd effective configuration (source: {})\n", config.source);
  out += "// Each setting notes where its value came from: default, file, env, flag, or auto\n";
  out += "// (0 sized from this machine at load). This output is itself a valid config file.\n";
  for (std::size_t i = 0; i < config.models.size(); ++i) {
    const auto& m = config.models[i];
    if (!m.api_key.empty()) {
      out += fmt::format("// models[{}] ({}): api key from {} = {}\n", i, m.name, m.api_key_env,
                         MaskSecret(m.api_key));
    }
  }
  if (!config.auth.jwt.hs256_secret.empty()) {
    out += fmt::format("// auth.jwt: HS256 secret from {} = {}\n", config.auth.jwt.hs256_secret_env,
                       MaskSecret(config.auth.jwt.hs256_secret));
  }
  out += "{\n";
  AppendSection(out, config, "server", false);
  AppendSection(out, config, "limits", false,
                "    \"tiers\": " + PrettyJson(TiersJson(config), 2) + "\n");
  auto auth_source = config.setting_sources.find("auth");
  out += fmt::format("  // auth.mode from: {}\n",
                     auth_source == config.setting_sources.end() ? "default" : auth_source->second);
  out += "  \"auth\": " + PrettyJson(AuthJson(config), 1) + ",\n";
  json::array models, tools, graphs;
  for (const auto& m : config.models) models.emplace_back(ModelJson(m));
  for (const auto& t : config.tools) tools.emplace_back(ToolJson(t));
  for (const auto& g : config.graphs) graphs.emplace_back(GraphJson(g));
  out += "  \"models\": " + PrettyJson(models, 1) + ",\n";
  out += "  \"tools\": " + PrettyJson(tools, 1) + ",\n";
  out += "  \"graphs\": " + PrettyJson(graphs, 1) + "\n";
  out += "}\n";
  return out;
}

std::string SettingsMarkdown() {
  std::string out =
      "| setting | flag | environment | file key | default | meaning |\n"
      "| --- | --- | --- | --- | --- | --- |\n";
  for (const auto& s : Settings()) {
    std::string description(s.description);
    for (std::size_t pos = 0; (pos = description.find('|', pos)) != std::string::npos; pos += 2) {
      description.replace(pos, 1, "\\|");
    }
    out += fmt::format("| `{}` | `{}` | `{}` | {} | {} | {} |\n", s.name, FlagName(s), EnvName(s),
                       s.section.empty() ? "(flag/env only)" : fmt::format("`{}`", FileKey(s)),
                       s.default_text.empty() ? "(none)" : fmt::format("`{}`", s.default_text), description);
  }
  return out;
}

}  // namespace agentd::config
