#include "config/catalog.hpp"

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <limits>
#include <optional>
#include <set>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <fmt/format.h>

#include "mock/mock_model.hpp"

namespace agentd::config {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;

Error Fail(const std::string& key, std::string problem) {
  return Error(Errc::kInvalidArgument, fmt::format("{}: {}", key, std::move(problem)));
}

// One object of a list: checks its keys against the allowed set and reads typed fields,
// naming the full key path in every error.
class Fields {
 public:
  Fields(const json::object& obj, std::string path) : obj_(obj), path_(std::move(path)) {}

  Status Allow(std::initializer_list<std::string_view> allowed) const {
    for (const auto& kv : obj_) {
      if (std::find(allowed.begin(), allowed.end(), kv.key()) == allowed.end()) {
        return Fail(Key(kv.key()), "unknown key");
      }
    }
    return {};
  }
  std::string Key(std::string_view key) const { return fmt::format("{}.{}", path_, key); }
  bool Has(std::string_view key) const { return obj_.contains(key); }

  Status String(std::string_view key, std::string& out, bool required = false) const {
    const json::value* v = obj_.if_contains(key);
    if (v == nullptr) return required ? Status(Fail(Key(key), "required")) : Status();
    if (!v->is_string()) return Fail(Key(key), "expected a string");
    out = std::string(v->get_string());
    if (required && out.empty()) return Fail(Key(key), "must not be empty");
    return {};
  }

  template <class T>
  Status Integer(std::string_view key, T& out, std::int64_t min, std::int64_t max) const {
    const json::value* v = obj_.if_contains(key);
    if (v == nullptr) return {};
    if (!v->is_int64()) return Fail(Key(key), "expected an integer");
    const std::int64_t n = v->get_int64();
    if (n < min || n > max) return Fail(Key(key), fmt::format("must be between {} and {}, got {}", min, max, n));
    out = static_cast<T>(n);
    return {};
  }

  Status Millis(std::string_view key, milliseconds& out, std::int64_t min, std::int64_t max) const {
    std::int64_t n = out.count();
    if (auto st = Integer(key, n, min, max); !st) return st;
    out = milliseconds(n);
    return {};
  }

  // A JSON number (integer or not) in [min, max].
  Status Number(std::string_view key, std::optional<double>& out, double min, double max) const {
    const json::value* v = obj_.if_contains(key);
    if (v == nullptr) return {};
    if (!v->is_number()) return Fail(Key(key), "expected a number");
    const double n = v->to_number<double>();
    if (!(n >= min && n <= max)) {
      return Fail(Key(key), fmt::format("must be between {} and {}, got {}", min, max, n));
    }
    out = n;
    return {};
  }

  const json::value* Get(std::string_view key) const { return obj_.if_contains(key); }

  Status Object(std::string_view key, json::object& out) const {
    const json::value* v = obj_.if_contains(key);
    if (v == nullptr) return {};
    if (!v->is_object()) return Fail(Key(key), "expected an object");
    out = v->get_object();
    return {};
  }

  Status StringList(std::string_view key, std::vector<std::string>& out) const {
    const json::value* v = obj_.if_contains(key);
    if (v == nullptr) return {};
    if (!v->is_array()) return Fail(Key(key), "expected an array of strings");
    out.clear();
    for (std::size_t i = 0; i < v->get_array().size(); ++i) {
      const auto& e = v->get_array()[i];
      if (!e.is_string()) return Fail(fmt::format("{}[{}]", Key(key), i), "expected a string");
      out.emplace_back(e.get_string());
    }
    return {};
  }

 private:
  const json::object& obj_;
  std::string path_;
};

#define AGENTD_TRY(expr)                  \
  do {                                    \
    if (auto st_ = (expr); !st_) return st_; \
  } while (0)

// Runs `parse` on every element of the array `list` named `name`.
template <class F>
Status ForEachObject(const json::value& list, std::string_view name, F&& parse) {
  if (!list.is_array()) return Fail(std::string(name), "expected an array");
  const auto& arr = list.get_array();
  for (std::size_t i = 0; i < arr.size(); ++i) {
    const std::string path = fmt::format("{}[{}]", name, i);
    if (!arr[i].is_object()) return Fail(path, "expected an object");
    AGENTD_TRY(parse(Fields(arr[i].get_object(), path)));
  }
  return {};
}

bool ValidToolName(std::string_view name) {
  // What OpenAI accepts for function names: ^[a-zA-Z0-9_-]{1,64}$.
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

bool IsHttpUrl(std::string_view url) {
  return (url.rfind("http://", 0) == 0 && url.size() > 7) || (url.rfind("https://", 0) == 0 && url.size() > 8);
}

constexpr std::int64_t kHour = 3'600'000;

bool ValidEnvName(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// `${NAME}` and `${NAME:-default}` in a URL setting, replaced from the environment (as a shell
// does: the default also stands in for an empty variable). Lets one file serve several setups,
// e.g. examples/agentd.json's `${MOCK_LLM_URL:-http://127.0.0.1:18787}/v1`.
Status ExpandEnv(const std::string& key, std::string& text, const Environment& env) {
  std::string out;
  std::size_t pos = 0;
  while (true) {
    const std::size_t open = text.find("${", pos);
    if (open == std::string::npos) break;
    const std::size_t close = text.find('}', open);
    if (close == std::string::npos) return Fail(key, "unterminated ${ (expected ${NAME} or ${NAME:-default})");
    out.append(text, pos, open - pos);
    std::string_view ref(text.data() + open + 2, close - open - 2);
    std::optional<std::string_view> fallback;
    if (const std::size_t dash = ref.find(":-"); dash != std::string_view::npos) {
      fallback = ref.substr(dash + 2);
      ref = ref.substr(0, dash);
    }
    if (!ValidEnvName(ref)) {
      return Fail(key, fmt::format("\"${{{}}}\" does not name an environment variable", ref));
    }
    const auto value = env.Get(ref);
    if (value && !(value->empty() && fallback)) {
      out.append(*value);
    } else if (fallback) {
      out.append(*fallback);
    } else {
      return Fail(key, fmt::format("environment variable {} is not set (write ${{{}:-default}} for "
                                   "a default)", ref, ref));
    }
    pos = close + 1;
  }
  out.append(text, pos, std::string::npos);
  text = std::move(out);
  return {};
}

// Header names are HTTP tokens; values one line. The framing headers are agentd's business.
bool ValidHeaderName(std::string_view name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

Status ParseHeaders(const Fields& f, const Environment& env, ModelSpec& m) {
  const json::value* v = f.Get("headers");
  if (v == nullptr) return {};
  if (!v->is_object()) return Fail(f.Key("headers"), "expected an object of header name -> value");
  for (const auto& [name, value] : v->get_object()) {
    const std::string key = fmt::format("{}.{}", f.Key("headers"), std::string_view(name));
    if (!ValidHeaderName(name)) return Fail(key, "not a valid HTTP header name");
    for (std::string_view framing : {"host", "content-length", "transfer-encoding", "connection"}) {
      if (IEquals(name, framing)) return Fail(key, "set by agentd; cannot be configured");
    }
    ModelSpec::Header header{std::string(name), {}, {}};
    if (value.is_string()) {
      header.value = std::string(value.get_string());
    } else if (value.is_object() && value.get_object().size() == 1 &&
               value.get_object().contains("env") && value.get_object().at("env").is_string()) {
      header.env = std::string(value.get_object().at("env").get_string());
      if (!ValidEnvName(header.env)) {
        return Fail(key + ".env", fmt::format("\"{}\" is not an environment variable name", header.env));
      }
      const auto from_env = env.Get(header.env);
      if (!from_env) return Fail(key + ".env", fmt::format("environment variable {} is not set", header.env));
      header.value = std::string(*from_env);
    } else {
      return Fail(key, R"(expected a string or {"env": "VARIABLE"})");
    }
    if (header.value.find_first_of("\r\n") != std::string::npos || header.value.find('\0') != std::string::npos) {
      return Fail(key, "the value must be one line");
    }
    m.headers.push_back(std::move(header));
  }
  return {};
}

// `stop`: one string or an array of strings, none empty.
Status ParseStop(const Fields& f, ModelSpec& m) {
  const json::value* v = f.Get("stop");
  if (v == nullptr) return {};
  if (v->is_string()) {
    if (v->get_string().empty()) return Fail(f.Key("stop"), "must not be empty");
    m.stop = {std::string(v->get_string())};
    return {};
  }
  if (!v->is_array()) return Fail(f.Key("stop"), "expected a string or an array of strings");
  for (std::size_t i = 0; i < v->get_array().size(); ++i) {
    const json::value& e = v->get_array()[i];
    const std::string key = fmt::format("{}[{}]", f.Key("stop"), i);
    if (!e.is_string()) return Fail(key, "expected a string");
    if (e.get_string().empty()) return Fail(key, "must not be empty");
    m.stop.emplace_back(e.get_string());
  }
  return {};
}

// `params` may hold any option of the provider's API except what agentd builds itself or has
// a setting for (a silent override of those would be a trap).
Status ParseParams(const Fields& f, ModelSpec& m) {
  AGENTD_TRY(f.Object("params", m.params));
  for (const auto& kv : m.params) {
    const std::string_view name = kv.key();
    const std::string key = fmt::format("{}.{}", f.Key("params"), name);
    for (std::string_view own : {"model", "messages", "tools", "tool_choice", "stream",
                                 "stream_options", "system"}) {
      if (name == own) return Fail(key, "set by agentd; cannot be overridden");
    }
    for (std::string_view setting : {"temperature", "top_p", "max_tokens", "stop", "stop_sequences"}) {
      if (name == setting) {
        return Fail(key, fmt::format("use {} instead",
                                     f.Key(setting == "stop_sequences" ? "stop" : setting)));
      }
    }
  }
  return {};
}

}  // namespace

Status ParseModels(const json::value& models, const Environment& env, Config& out) {
  std::set<std::string> names;
  return ForEachObject(models, "models", [&](const Fields& f) -> Status {
    AGENTD_TRY(f.Allow({"name", "provider", "model", "base_url", "api_key_env", "max_concurrency",
                        "timeout_ms", "connect_timeout_ms", "first_byte_timeout_ms",
                        "idle_timeout_ms", "temperature", "top_p", "max_tokens", "stop", "headers",
                        "params", "latency_ms", "slow_ms", "chunks"}));
    ModelSpec m;
    AGENTD_TRY(f.String("name", m.name, true));
    if (!names.insert(m.name).second) return Fail(f.Key("name"), fmt::format("duplicate model \"{}\"", m.name));
    AGENTD_TRY(f.String("provider", m.provider, true));
    AGENTD_TRY(f.String("model", m.model));
    AGENTD_TRY(f.String("base_url", m.base_url));
    AGENTD_TRY(f.String("api_key_env", m.api_key_env));
    AGENTD_TRY(f.Integer("max_concurrency", m.max_concurrency, 1, 1'000'000));
    AGENTD_TRY(f.Millis("timeout_ms", m.timeout, 1, kHour));
    AGENTD_TRY(f.Millis("connect_timeout_ms", m.connect_timeout, 1, kHour));
    AGENTD_TRY(f.Millis("first_byte_timeout_ms", m.first_byte_timeout, 1, kHour));
    AGENTD_TRY(f.Millis("idle_timeout_ms", m.idle_timeout, 1, kHour));
    // Anthropic's range is 0..1, OpenAI's 0..2.
    AGENTD_TRY(f.Number("temperature", m.temperature, 0, m.provider == "anthropic" ? 1 : 2));
    AGENTD_TRY(f.Number("top_p", m.top_p, 0, 1));
    if (f.Has("max_tokens")) {
      std::int64_t max_tokens = 0;
      AGENTD_TRY(f.Integer("max_tokens", max_tokens, 1, 10'000'000));
      m.max_tokens = max_tokens;
    }
    AGENTD_TRY(ParseStop(f, m));
    AGENTD_TRY(ParseParams(f, m));
    if (m.provider == "mock") {
      for (std::string_view key : {"base_url", "api_key_env", "headers", "connect_timeout_ms",
                                   "first_byte_timeout_ms", "idle_timeout_ms"}) {
        if (f.Has(key)) return Fail(f.Key(key), "not used by provider mock");
      }
      if (m.model.empty()) m.model = "mock";
      AGENTD_TRY(f.Millis("latency_ms", m.mock_latency, 0, kHour));
      AGENTD_TRY(f.Millis("slow_ms", m.mock_slow_latency, 0, kHour));
      AGENTD_TRY(f.Integer("chunks", m.mock_chunks, 1, 10'000));
    } else if (m.provider == "openai" || m.provider == "anthropic") {
      for (std::string_view key : {"latency_ms", "slow_ms", "chunks"}) {
        if (f.Has(key)) return Fail(f.Key(key), "only used by provider mock");
      }
      const bool openai = m.provider == "openai";
      if (m.model.empty()) return Fail(f.Key("model"), fmt::format("required for provider {}", m.provider));
      AGENTD_TRY(ExpandEnv(f.Key("base_url"), m.base_url, env));
      if (m.base_url.empty()) m.base_url = openai ? "https://api.openai.com/v1" : "https://api.anthropic.com";
      if (!IsHttpUrl(m.base_url)) return Fail(f.Key("base_url"), "must start with http:// or https://");
      AGENTD_TRY(ParseHeaders(f, env, m));
      if (!f.Has("api_key_env")) m.api_key_env = openai ? "OPENAI_API_KEY" : "ANTHROPIC_API_KEY";
      if (m.api_key_env.empty()) return Fail(f.Key("api_key_env"), "must name an environment variable");
      const auto key = env.Get(m.api_key_env);
      if (!key || key->empty()) {
        return Fail(f.Key("api_key_env"), fmt::format("environment variable {} is not set", m.api_key_env));
      }
      m.api_key = std::string(*key);
    } else {
      return Fail(f.Key("provider"),
                  fmt::format("unknown provider \"{}\" (expected mock, openai or anthropic)", m.provider));
    }
    out.models.push_back(std::move(m));
    return {};
  });
}

Status ParseTools(const json::value& tools, const Environment& env, Config& out) {
  std::set<std::string> names;
  return ForEachObject(tools, "tools", [&](const Fields& f) -> Status {
    AGENTD_TRY(f.Allow({"name", "kind", "description", "parameters", "url", "timeout_ms", "retries"}));
    ToolSpec t;
    AGENTD_TRY(f.String("name", t.name, true));
    if (!ValidToolName(t.name)) return Fail(f.Key("name"), "must match [A-Za-z0-9_-]{1,64}");
    if (!names.insert(t.name).second) return Fail(f.Key("name"), fmt::format("duplicate tool \"{}\"", t.name));
    AGENTD_TRY(f.String("kind", t.kind, true));
    AGENTD_TRY(f.String("description", t.description));
    AGENTD_TRY(f.Object("parameters", t.parameters));
    AGENTD_TRY(f.Millis("timeout_ms", t.timeout, 1, kHour));
    AGENTD_TRY(f.Integer("retries", t.retries, 0, 10));
    if (t.kind == "http") {
      AGENTD_TRY(f.String("url", t.url, true));
      AGENTD_TRY(ExpandEnv(f.Key("url"), t.url, env));
      if (!IsHttpUrl(t.url)) return Fail(f.Key("url"), "must start with http:// or https://");
      if (!f.Has("parameters")) {
        t.parameters = json::object{{"type", "object"}, {"properties", json::object()}};
      }
    } else if (t.kind == "demo") {
      if (f.Has("url")) return Fail(f.Key("url"), "not used by kind demo");
      if (t.name != mock::kDemoToolName) {
        return Fail(f.Key("name"), fmt::format("unknown demo tool \"{}\" (demo tools: {})", t.name,
                                               mock::kDemoToolName));
      }
      if (!f.Has("parameters")) t.parameters = mock::GetWeatherSchema();
      if (t.description.empty()) t.description = "Get the current weather for a city.";
    } else {
      return Fail(f.Key("kind"), fmt::format("unknown kind \"{}\" (expected http or demo)", t.kind));
    }
    if (t.parameters.contains("type") && t.parameters.at("type") != "object") {
      return Fail(f.Key("parameters"), "must be a JSON Schema of type \"object\"");
    }
    out.tools.push_back(std::move(t));
    return {};
  });
}

Status ParseGraphs(const json::value& graphs, Config& out) {
  std::set<std::string> ids;
  auto has_model = [&](std::string_view name) {
    return std::any_of(out.models.begin(), out.models.end(), [&](const ModelSpec& m) { return m.name == name; });
  };
  auto has_tool = [&](std::string_view name) {
    return std::any_of(out.tools.begin(), out.tools.end(), [&](const ToolSpec& t) { return t.name == name; });
  };
  return ForEachObject(graphs, "graphs", [&](const Fields& f) -> Status {
    AGENTD_TRY(f.Allow({"graph_id", "kind", "model", "tools", "system_prompt", "recursion_limit",
                        "description", "config", "context", "channels"}));
    GraphSpec g;
    AGENTD_TRY(f.String("graph_id", g.graph_id, true));
    if (!ids.insert(g.graph_id).second) return Fail(f.Key("graph_id"), fmt::format("duplicate graph \"{}\"", g.graph_id));
    AGENTD_TRY(f.String("kind", g.kind, true));
    AGENTD_TRY(f.String("model", g.model));
    AGENTD_TRY(f.StringList("tools", g.tools));
    AGENTD_TRY(f.String("system_prompt", g.system_prompt));
    AGENTD_TRY(f.Integer("recursion_limit", g.recursion_limit, 1, 10'000));
    AGENTD_TRY(f.String("description", g.description));
    AGENTD_TRY(f.Object("config", g.config));
    AGENTD_TRY(f.Object("context", g.context));
    json::object channels;
    AGENTD_TRY(f.Object("channels", channels));
    for (const auto& [name, reducer] : channels) {
      const std::string key = fmt::format("{}.{}", f.Key("channels"), std::string_view(name));
      if (name == "messages") return Fail(key, "messages always uses the add-messages reducer");
      if (!reducer.is_string() || (reducer.as_string() != "append" && reducer.as_string() != "last_value")) {
        return Fail(key, "expected \"append\" or \"last_value\"");
      }
      g.channels[std::string(name)] = std::string(reducer.as_string());
    }
    if (g.kind == "react") {
      if (!f.Has("model")) return Fail(f.Key("model"), "required for kind react");
      if (!has_model(g.model)) return Fail(f.Key("model"), fmt::format("unknown model \"{}\"", g.model));
      for (std::size_t i = 0; i < g.tools.size(); ++i) {
        if (!has_tool(g.tools[i])) {
          return Fail(fmt::format("{}[{}]", f.Key("tools"), i), fmt::format("unknown tool \"{}\"", g.tools[i]));
        }
      }
    } else if (g.kind == "echo") {
      for (std::string_view key : {"model", "tools", "system_prompt"}) {
        if (f.Has(key)) return Fail(f.Key(key), "not used by kind echo");
      }
    } else {
      return Fail(f.Key("kind"), fmt::format("unknown kind \"{}\" (expected react or echo)", g.kind));
    }
    out.graphs.push_back(std::move(g));
    return {};
  });
}

void AddDemoCatalog(Config& out) {
  ModelSpec mock;
  mock.name = "mock";
  mock.provider = "mock";
  mock.model = "mock";
  // The in-process mock holds no connection and costs nothing to wait on, so its permit limit
  // must not be what caps the demo's concurrency (64 made 1,000 streams queue for 16 s):
  // run admission (limits.max_active_runs) is the real bound. docs/performance.md.
  mock.max_concurrency = 100'000;
  out.models.push_back(std::move(mock));

  ToolSpec weather;
  weather.name = std::string(mock::kDemoToolName);
  weather.kind = "demo";
  weather.description = "Get the current weather for a city.";
  weather.parameters = mock::GetWeatherSchema();
  out.tools.push_back(std::move(weather));

  GraphSpec agent;
  agent.graph_id = "agent";
  agent.kind = "react";
  agent.model = "mock";
  agent.tools = {std::string(mock::kDemoToolName)};
  agent.description = "ReAct agent: the mock model with the get_weather tool.";
  out.graphs.push_back(std::move(agent));

  GraphSpec echo;
  echo.graph_id = "echo";
  echo.kind = "echo";
  echo.description = "Replies \"echo: <last human message>\"; no model.";
  out.graphs.push_back(std::move(echo));
}

}  // namespace agentd::config
