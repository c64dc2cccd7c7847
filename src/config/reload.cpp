#include "config/reload.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include "config/access.hpp"
#include "config/catalog.hpp"
#include "config/dump.hpp"
#include "config/settings.hpp"

namespace agentd::config {
namespace {

namespace json = boost::json;

// The table's settings a reload applies; every other one keeps its running value.
constexpr std::string_view kLiveSettings[] = {
    "log_level",   "default_tier",  "per_ip_requests_per_second", "per_ip_burst",
    "per_key_requests_per_second", "per_key_burst", "auth",
};

std::string KeyOf(const Setting& s) {
  if (s.name == "auth") return "auth.mode";
  return s.section.empty() ? std::string(s.name) : FileKey(s);
}

// A value as a log line shows it: long ones (schemas, prompts) only as "changed".
std::string Shown(const json::value& v) {
  std::string text = json::serialize(v);
  return text.size() <= 80 ? text : "<" + std::to_string(text.size()) + " bytes>";
}

// One line per key whose value differs: "<prefix>.<key>: <old> -> <new>".
void DiffFields(const std::string& prefix, const json::object& before, const json::object& after,
                std::vector<std::string>& out) {
  std::set<std::string> keys;
  for (const auto& kv : before) keys.emplace(kv.key());
  for (const auto& kv : after) keys.emplace(kv.key());
  for (const auto& key : keys) {
    const json::value* a = before.if_contains(key);
    const json::value* b = after.if_contains(key);
    if (a != nullptr && b != nullptr && *a == *b) continue;
    out.push_back(fmt::format("{}.{}: {} -> {}", prefix, key, a ? Shown(*a) : "(unset)",
                              b ? Shown(*b) : "(unset)"));
  }
}

// An entry of a named list (models, tools, graphs, tiers, API keys) as a reload compares it.
struct Entry {
  std::string name;
  json::object fields;  // what a line may show
  std::string secret;   // compared, never shown
  bool same_spec = true;  // the typed comparison (fields the JSON leaves out) found no change
};

// Added, removed and changed entries, by name.
void DiffEntries(const std::string& section, const std::vector<Entry>& before,
                 const std::vector<Entry>& after, std::vector<std::string>& out) {
  std::map<std::string, const Entry*> old_by_name;
  for (const auto& e : before) old_by_name[e.name] = &e;
  std::set<std::string> seen;
  for (const auto& e : after) {
    seen.insert(e.name);
    auto it = old_by_name.find(e.name);
    if (it == old_by_name.end()) {
      out.push_back(fmt::format("{}: added {}", section, e.name));
      continue;
    }
    const std::size_t lines = out.size();
    DiffFields(fmt::format("{}[{}]", section, e.name), it->second->fields, e.fields, out);
    if (it->second->secret != e.secret) {
      out.push_back(fmt::format("{}[{}]: secret changed (****)", section, e.name));
    } else if (lines == out.size() && !e.same_spec) {
      out.push_back(fmt::format("{}[{}]: changed", section, e.name));
    }
  }
  for (const auto& e : before) {
    if (!seen.contains(e.name)) out.push_back(fmt::format("{}: removed {}", section, e.name));
  }
}

// `other`: the configuration compared with, for the typed comparison.
std::vector<Entry> ModelEntries(const Config& c, const Config& other) {
  std::vector<Entry> out;
  for (const auto& m : c.models) {
    auto same = std::find_if(other.models.begin(), other.models.end(),
                             [&](const ModelSpec& o) { return o.name == m.name; });
    out.push_back({m.name, ModelJson(m), m.api_key, same == other.models.end() || *same == m});
  }
  return out;
}

std::vector<Entry> ToolEntries(const Config& c) {
  std::vector<Entry> out;
  for (const auto& t : c.tools) out.push_back({t.name, ToolJson(t), {}});
  return out;
}

std::vector<Entry> GraphEntries(const Config& c) {
  std::vector<Entry> out;
  for (const auto& g : c.graphs) out.push_back({g.graph_id, GraphJson(g), {}});
  return out;
}

std::vector<Entry> TierEntries(const Config& c) {
  std::vector<Entry> out;
  for (const auto& t : TiersJson(c)) {
    json::object o = t.as_object();
    std::string name(o.at("name").as_string());
    o.erase("name");
    out.push_back({std::move(name), std::move(o), {}});
  }
  return out;
}

// API keys are named by a prefix of their hash: enough to tell them apart in a log, useless
// to anyone reading it (and the hash of a random key reveals nothing anyway).
std::vector<Entry> KeyEntries(const Config& c) {
  std::vector<Entry> out;
  for (const auto& k : c.auth.api_keys) {
    json::object o{{"tenant", k.tenant}, {"user_id", k.user_id}, {"tier", k.tier}};
    out.push_back({"sha256:" + k.sha256.substr(0, 8) + "...", std::move(o), {}});
  }
  return out;
}

json::object JwtFields(const Config& c) { return AuthJson(c).at("jwt").as_object(); }

// A react graph of the running set that names a model or tool the new file no longer has.
void CheckGraphReferences(const Config& next, std::vector<std::string>& errors) {
  auto has_model = [&](const std::string& name) {
    return std::any_of(next.models.begin(), next.models.end(),
                       [&](const ModelSpec& m) { return m.name == name; });
  };
  auto has_tool = [&](const std::string& name) {
    return std::any_of(next.tools.begin(), next.tools.end(),
                       [&](const ToolSpec& t) { return t.name == name; }) ||
           McpClaims(next.mcp_servers, name) != nullptr;
  };
  for (const auto& g : next.graphs) {
    if (g.kind != "react") continue;
    if (!has_model(g.model)) {
      errors.push_back(fmt::format(
          "models: \"{}\" is used by the running graph \"{}\" (graphs change only at a restart)",
          g.model, g.graph_id));
    }
    for (const auto& tool : g.tools) {
      if (!has_tool(tool)) {
        errors.push_back(fmt::format(
            "tools: \"{}\" is used by the running graph \"{}\" (graphs change only at a restart)",
            tool, g.graph_id));
      }
    }
  }
}

}  // namespace

bool ReloadsLive(std::string_view setting_name) {
  return std::find(std::begin(kLiveSettings), std::end(kLiveSettings), setting_name) !=
         std::end(kLiveSettings);
}

ReloadPlan PlanReload(const Config& running, const Config& candidate) {
  ReloadPlan plan;
  // Start from what runs and copy in only the live parts: anything not named here keeps its
  // running value.
  Config& next = plan.next;
  next = running;
  next.server.log_level = candidate.server.log_level;
  next.limits.default_tier = candidate.limits.default_tier;
  next.limits.tiers = candidate.limits.tiers;
  next.limits.per_ip_requests_per_second = candidate.limits.per_ip_requests_per_second;
  next.limits.per_ip_burst = candidate.limits.per_ip_burst;
  next.limits.per_key_requests_per_second = candidate.limits.per_key_requests_per_second;
  next.limits.per_key_burst = candidate.limits.per_key_burst;
  next.auth = candidate.auth;
  next.models = candidate.models;
  next.tools = candidate.tools;
  // Graph files are read again on reload (the `{"file": ...}` entries of the new file; the
  // graphs_dir setting itself needs a restart); inline graphs[] need a restart.
  next.graph_files = candidate.graph_files;
  for (const auto& s : Settings()) {
    const std::string name(s.name);
    if (!ReloadsLive(name)) continue;
    if (auto it = candidate.setting_sources.find(name); it != candidate.setting_sources.end()) {
      next.setting_sources[name] = it->second;
    }
  }

  for (const auto& s : Settings()) {
    if (s.show == nullptr) continue;
    const json::value before = s.show(running);
    const json::value after = s.show(candidate);
    if (before == after) continue;
    const std::string line = fmt::format("{}: {} -> {}", KeyOf(s), Shown(before), Shown(after));
    (ReloadsLive(s.name) ? plan.applied : plan.restart).push_back(line);
  }
  DiffEntries("limits.tiers", TierEntries(running), TierEntries(candidate), plan.applied);
  DiffEntries("auth.api_keys", KeyEntries(running), KeyEntries(candidate), plan.applied);
  DiffFields("auth.jwt", JwtFields(running), JwtFields(candidate), plan.applied);
  if (running.auth.jwt.hs256_secret != candidate.auth.jwt.hs256_secret) {
    plan.applied.push_back("auth.jwt: HS256 secret changed (****)");
  }
  DiffEntries("models", ModelEntries(running, candidate), ModelEntries(candidate, running),
              plan.applied);
  DiffEntries("tools", ToolEntries(running), ToolEntries(candidate), plan.applied);
  DiffEntries("graphs", GraphEntries(running), GraphEntries(candidate), plan.restart);
  // MCP servers keep their sessions (and stdio processes) for the process's life.
  if (running.mcp_servers != candidate.mcp_servers) {
    plan.restart.push_back("mcp_servers: changed (MCP servers change only at a restart)");
  }

  CheckGraphReferences(next, plan.errors);
  return plan;
}

}  // namespace agentd::config
