#include "config/loader.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/stream_parser.hpp>
#include <fmt/format.h>

#include "config/access.hpp"
#include "config/catalog.hpp"
#include "config/console.hpp"
#include "config/settings.hpp"

namespace agentd::config {
namespace {

namespace json = boost::json;

Error Fail(std::string message) { return Error(Errc::kInvalidArgument, std::move(message)); }

struct FlagValue {
  const Setting* setting;
  std::string text;
};

Result<std::vector<FlagValue>> ParseFlags(std::span<const std::string> args) {
  std::vector<FlagValue> out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg.rfind("--", 0) != 0 || arg.size() == 2) {
      return Fail(fmt::format("unexpected argument \"{}\" (settings are --name value)", arg));
    }
    std::string_view name = arg;
    std::optional<std::string> value;
    if (const auto eq = arg.find('='); eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = std::string(arg.substr(eq + 1));
    }
    const Setting* found = nullptr;
    for (const auto& s : Settings()) {
      if (FlagName(s) == name) found = &s;
    }
    if (found == nullptr) return Fail(fmt::format("{}: unknown flag (see --help)", name));
    if (!value) {
      if (found->type == SettingType::kBool) {
        value = "true";
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return Fail(fmt::format("{}: missing value", name));
      }
    }
    out.push_back({found, std::move(*value)});
  }
  return out;
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(fmt::format("{}: cannot read: {}", path, std::strerror(errno)));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Every bad key of the section goes to `problems`.
void ApplySection(const json::value& section, std::string_view name, Config& config,
                  std::vector<std::string>& problems) {
  if (!section.is_object()) {
    problems.push_back(fmt::format("{}: expected an object", name));
    return;
  }
  for (const auto& kv : section.get_object()) {
    if (name == "limits" && kv.key() == "tiers") continue;  // a list: ParseTiers
    const Setting* s = FindSetting(kv.key());
    const std::string key = fmt::format("{}.{}", name, std::string_view(kv.key()));
    if (s == nullptr || s->section != name) {
      problems.push_back(fmt::format("{}: unknown setting", key));
      continue;
    }
    if (auto problem = ApplyJson(config, *s, kv.value()); !problem.empty()) {
      problems.push_back(fmt::format("{}: {}", key, problem));
      continue;
    }
    config.setting_sources[std::string(s->name)] = "file";
  }
}

std::string Join(const std::vector<std::string>& problems) {
  std::string out;
  for (const auto& p : problems) {
    if (!out.empty()) out += kProblemSeparator;
    out += p;
  }
  return out;
}

}  // namespace

std::size_t AutoThreads(const Environment& env) { return std::max<std::size_t>(1, env.cores); }

std::size_t AutoMaxConnections(const Environment& env) {
  return static_cast<std::size_t>(std::max<std::uint64_t>(64, env.fd_limit * 9 / 10));
}

std::size_t AutoMaxActiveRuns(const Environment& env) {
  // A run costs little while it waits on a model (a coroutine frame and its state): budget
  // 4 MiB each, and no more than 1024 per core so CPU-bound graphs still get a fair share.
  const std::uint64_t by_cores = 1024ULL * std::max<std::size_t>(1, env.cores);
  const std::uint64_t by_memory = env.memory_bytes / (4ULL << 20);
  return static_cast<std::size_t>(std::max<std::uint64_t>(16, std::min(by_cores, by_memory)));
}

std::size_t AutoMaxQueuedRuns(std::size_t max_active_runs) { return 4 * max_active_runs; }

std::size_t AutoStreamRetainedBytes(const Environment& env) {
  // Ended runs' logs serve late joiners and reconnects: a recent window is enough, and on a
  // 512 MB box it must stay a small share of memory.
  return static_cast<std::size_t>(
      std::clamp<std::uint64_t>(env.memory_bytes / 1024, 8ULL << 20, 256ULL << 20));
}

Result<json::value> ParseConfigText(std::string_view text, std::string_view name) {
  json::parse_options options;
  options.allow_comments = true;
  options.allow_trailing_commas = true;
  json::stream_parser parser({}, options);
  boost::system::error_code ec;
  const std::size_t consumed = parser.write_some(text.data(), text.size(), ec);
  if (!ec && consumed < text.size()) ec = json::error::extra_data;
  if (!ec) parser.finish(ec);
  if (ec) {
    const std::string_view before = text.substr(0, std::min(consumed, text.size()));
    const auto line = 1 + std::count(before.begin(), before.end(), '\n');
    const auto last_newline = before.rfind('\n');
    const auto column = before.size() - (last_newline == std::string_view::npos ? 0 : last_newline + 1) + 1;
    return Fail(fmt::format("{}:{}:{}: syntax error: {}", name, line, column, ec.message()));
  }
  return parser.release();
}

Status ApplyConfigFile(const json::value& file, const Environment& env, Config& config) {
  if (!file.is_object()) return Fail("(top level): expected an object");
  const auto& top = file.get_object();
  // Sections are independent, so every one is checked and all their problems reported at once
  // (within one section or list, the first problem ends it).
  std::vector<std::string> problems;
  auto note = [&](const Status& st) {
    if (!st) problems.push_back(st.error().message);
    return static_cast<bool>(st);
  };
  for (const auto& kv : top) {
    static constexpr std::string_view kKeys[] = {"server", "limits",      "auth",  "models",
                                                 "tools",  "mcp_servers", "graphs", "graphs_dir"};
    if (std::find(std::begin(kKeys), std::end(kKeys), kv.key()) == std::end(kKeys)) {
      problems.push_back(fmt::format(
          "{}: unknown key (expected server, limits, auth, models, tools, mcp_servers, graphs, "
          "graphs_dir)",
          std::string_view(kv.key())));
    }
  }
  // graphs.md names the graphs directory at the top level; it is the setting server.graphs_dir.
  if (const auto* dir = top.if_contains("graphs_dir")) {
    if (auto problem = ApplyJson(config, *FindSetting("graphs_dir"), *dir); !problem.empty()) {
      problems.push_back(fmt::format("graphs_dir: {}", problem));
    } else {
      config.setting_sources["graphs_dir"] = "file";
    }
  }
  for (std::string_view section : {"server", "limits"}) {
    if (const auto* v = top.if_contains(section)) ApplySection(*v, section, config, problems);
  }
  if (const auto* limits = top.if_contains("limits"); limits && limits->is_object()) {
    if (const auto* tiers = limits->get_object().if_contains("tiers")) note(ParseTiers(*tiers, config));
  }
  if (const auto* auth = top.if_contains("auth")) note(ParseAuth(*auth, config));
  const bool has_catalog = top.contains("models") || top.contains("tools") || top.contains("graphs");
  if (!has_catalog) {
    AddDemoCatalog(config);
    if (const auto* servers = top.if_contains("mcp_servers")) note(ParseMcpServers(*servers, env, config));
  } else {
    static const json::value kEmpty = json::array();
    auto list = [&](std::string_view key) -> const json::value& {
      const auto* v = top.if_contains(key);
      return v ? *v : kEmpty;
    };
    const bool models_ok = note(ParseModels(list("models"), env, config));
    const bool tools_ok = note(ParseTools(list("tools"), env, config));
    const bool mcp_ok = tools_ok && note(ParseMcpServers(list("mcp_servers"), env, config));
    // Graphs name models and tools: checked against lists that did not parse, they would only
    // add false "unknown model" problems.
    if (models_ok && tools_ok && mcp_ok) note(ParseGraphs(list("graphs"), config));
  }
  if (problems.empty()) return {};
  return Fail(Join(problems));
}

std::vector<std::string> SplitProblems(std::string_view message) {
  std::vector<std::string> out;
  while (true) {
    const auto at = message.find(kProblemSeparator);
    out.emplace_back(message.substr(0, at));
    if (at == std::string_view::npos) break;
    message.remove_prefix(at + kProblemSeparator.size());
  }
  return out;
}

Result<Config> LoadConfig(std::span<const std::string> args, const Environment& env) {
  auto flags = ParseFlags(args);
  if (!flags) return flags.error();

  Config config;
  for (const auto& s : Settings()) {
    if (auto problem = ApplyText(config, s, s.default_text); !problem.empty()) {
      return Fail(fmt::format("default of {}: {}", s.name, problem));  // a bug in the table
    }
    config.setting_sources[std::string(s.name)] = "default";
  }

  std::string path;
  if (auto v = env.Get("AGENTD_CONFIG")) path = std::string(*v);
  for (const auto& f : *flags) {
    if (f.setting->name == "config") path = f.text;
  }
  if (path.empty()) {
    AddDemoCatalog(config);
  } else {
    auto text = ReadFile(path);
    if (!text) return text.error();
    auto file = ParseConfigText(*text, path);
    if (!file) return file.error();
    if (auto st = ApplyConfigFile(*file, env, config); !st) return st.error();
    // Paths the file gives are relative to the file's directory.
    const std::filesystem::path base = std::filesystem::path(path).parent_path();
    auto resolve = [&](std::string& p) {
      if (!p.empty() && std::filesystem::path(p).is_relative()) p = (base / p).lexically_normal().string();
    };
    for (auto& ref : config.graph_files) resolve(ref.path);
    if (config.setting_sources["graphs_dir"] == "file") resolve(config.graphs_dir);
  }

  for (const auto& s : Settings()) {
    const std::string name = EnvName(s);
    if (auto v = env.Get(name)) {
      if (auto problem = ApplyText(config, s, *v); !problem.empty()) {
        return Fail(fmt::format("{}: {}", name, problem));
      }
      config.setting_sources[std::string(s.name)] = "env";
    }
  }
  for (const auto& f : *flags) {
    if (auto problem = ApplyText(config, *f.setting, f.text); !problem.empty()) {
      return Fail(fmt::format("{}: {}", FlagName(*f.setting), problem));
    }
    config.setting_sources[std::string(f.setting->name)] = "flag";
  }
  config.source = path.empty() ? "demo" : path;
  if (auto st = FinishAccess(env, config); !st) return st.error();
  if (auto st = FinishConsole(env, config); !st) return st.error();

  if (config.server.threads == 0) {
    config.server.threads = AutoThreads(env);
    config.setting_sources["threads"] = "auto";
  }
  if (config.server.max_connections == 0) {
    config.server.max_connections = AutoMaxConnections(env);
    config.setting_sources["max_connections"] = "auto";
  }
  if (config.limits.max_active_runs == 0) {
    config.limits.max_active_runs = AutoMaxActiveRuns(env);
    config.setting_sources["max_active_runs"] = "auto";
  }
  if (config.limits.max_queued_runs == 0) {
    config.limits.max_queued_runs = AutoMaxQueuedRuns(config.limits.max_active_runs);
    config.setting_sources["max_queued_runs"] = "auto";
  }
  if (config.limits.memory_limit_bytes == 0 && env.cgroup_memory_limit) {
    config.limits.memory_limit_bytes = static_cast<std::size_t>(*env.cgroup_memory_limit);
    config.setting_sources["memory_limit_bytes"] = "auto";
  }
  if (config.server.stream_retained_bytes == 0) {
    config.server.stream_retained_bytes = AutoStreamRetainedBytes(env);
    config.setting_sources["stream_retained_bytes"] = "auto";
  }
  return config;
}

}  // namespace agentd::config
