// Every validation failure is one line naming the key and the problem.

#include <gtest/gtest.h>

#include "config/loader.hpp"

namespace agentd::config {
namespace {

struct Case {
  std::string file;
  std::string message;
};

std::string FileError(std::string_view text) {
  Environment env;
  env.vars["SET_KEY"] = "sk-1";
  auto parsed = ParseConfigText(text, "agentd.json");
  if (!parsed) return parsed.error().message;
  Config config;
  auto st = ApplyConfigFile(*parsed, env, config);
  return st ? std::string("(accepted)") : st.error().message;
}

constexpr const char* kModel = R"({"name":"m","provider":"mock"})";

TEST(ConfigValidation, FileErrorsNameTheKey) {
  const std::string m = kModel;
  const std::vector<Case> cases = {
      {R"({"server": {"port": "80"}})", "server.port: expected an integer"},
      {R"({"server": {"port": 70000}})", "server.port: must be between 0 and 65535, got 70000"},
      {R"({"server": {"prot": 1}})", "server.prot: unknown setting"},
      {R"({"server": {"max_active_runs": 1}})", "server.max_active_runs: unknown setting"},
      {R"({"server": {"storage": "postgres"}})",
       R"(server.storage: must be "sqlite", "sqlite:<path>", "memory" or "postgres://...", got "postgres")"},
      {R"({"server": {"log_level": "loud"}})",
       R"(server.log_level: must be one of trace, debug, info, warn, error, off, got "loud")"},
      {R"({"server": {"dev_endpoints": "yes"}})", "server.dev_endpoints: expected true or false"},
      {R"({"server": {"cors_origins": ["example.com"]}})",
       R"(server.cors_origins: origin "example.com" must be "*" or start with http:// or https://)"},
      {R"({"server": 3})", "server: expected an object"},
      {R"({"serverr": {}})", "serverr: unknown key (expected server, limits, auth, models, tools, graphs)"},
      {R"({"models": {}})", "models: expected an array"},
      {R"({"models": [{"provider": "mock"}]})", "models[0].name: required"},
      {R"({"models": [{"name": "a", "provider": "gemini"}]})",
       R"(models[0].provider: unknown provider "gemini" (expected mock, openai or anthropic))"},
      {R"({"models": [{"name": "a", "provider": "mock", "temprature": 1}]})", "models[0].temprature: unknown key"},
      {R"({"models": [{"name": "a", "provider": "mock"}, {"name": "a", "provider": "mock"}]})",
       R"(models[1].name: duplicate model "a")"},
      {R"({"models": [{"name": "a", "provider": "mock", "api_key_env": "X"}]})",
       "models[0].api_key_env: not used by provider mock"},
      {R"({"models": [{"name": "a", "provider": "openai", "model": "gpt", "api_key_env": "UNSET_KEY"}]})",
       "models[0].api_key_env: environment variable UNSET_KEY is not set"},
      {R"({"models": [{"name": "a", "provider": "openai", "model": "gpt"}]})",
       "models[0].api_key_env: environment variable OPENAI_API_KEY is not set"},
      {R"({"models": [{"name": "a", "provider": "anthropic", "model": "c", "api_key_env": "SET_KEY", "base_url": "ftp://x"}]})",
       "models[0].base_url: must start with http:// or https://"},
      {R"({"models": [{"name": "a", "provider": "openai", "api_key_env": "SET_KEY"}]})",
       "models[0].model: required for provider openai"},
      {R"({"models": [{"name": "a", "provider": "mock", "chunks": 0}]})",
       "models[0].chunks: must be between 1 and 10000, got 0"},
      {R"({"tools": [{"name": "t", "kind": "http"}]})", "tools[0].url: required"},
      {R"({"tools": [{"name": "t", "kind": "http", "url": "localhost:1"}]})",
       "tools[0].url: must start with http:// or https://"},
      {R"({"tools": [{"name": "t t", "kind": "demo"}]})", "tools[0].name: must match [A-Za-z0-9_-]{1,64}"},
      {R"({"tools": [{"name": "get_time", "kind": "demo"}]})",
       R"(tools[0].name: unknown demo tool "get_time" (demo tools: get_weather))"},
      {R"({"tools": [{"name": "t", "kind": "python"}]})", R"(tools[0].kind: unknown kind "python" (expected http or demo))"},
      {R"({"tools": [{"name": "t", "kind": "http", "url": "http://x", "parameters": []}]})",
       "tools[0].parameters: expected an object"},
      {R"({"tools": [{"name": "t", "kind": "http", "url": "http://x", "retries": -1}]})",
       "tools[0].retries: must be between 0 and 10, got -1"},
      {R"({"models": [)" + m + R"(], "graphs": [{"graph_id": "a", "kind": "echo"}, {"graph_id": "b", "kind": "react", "model": "gpt5"}]})",
       R"(graphs[1].model: unknown model "gpt5")"},
      {R"({"models": [)" + m + R"(], "graphs": [{"graph_id": "b", "kind": "react", "model": "m", "tools": ["nope"]}]})",
       R"(graphs[0].tools[0]: unknown tool "nope")"},
      {R"({"graphs": [{"graph_id": "b", "kind": "react"}]})", "graphs[0].model: required for kind react"},
      {R"({"graphs": [{"graph_id": "b", "kind": "echo", "model": "m"}]})", "graphs[0].model: not used by kind echo"},
      {R"({"graphs": [{"graph_id": "b", "kind": "dag"}]})", R"(graphs[0].kind: unknown kind "dag" (expected react or echo))"},
      {R"({"graphs": [{"graph_id": "b", "kind": "echo"}, {"graph_id": "b", "kind": "echo"}]})",
       R"(graphs[1].graph_id: duplicate graph "b")"},
      {R"({"graphs": [{"graph_id": "b", "kind": "echo", "recursion_limit": 0}]})",
       "graphs[0].recursion_limit: must be between 1 and 10000, got 0"},
      {R"({"graphs": [{"graph_id": "b", "kind": "echo", "config": "x"}]})", "graphs[0].config: expected an object"},
      {R"({"graphs": [{"graph_id": "b", "kind": "echo", "channels": {"notes": "sum"}}]})",
       R"(graphs[0].channels.notes: expected "append" or "last_value")"},
      {R"({"graphs": [{"graph_id": "b", "kind": "echo", "channels": {"messages": "append"}}]})",
       "graphs[0].channels.messages: messages always uses the add-messages reducer"},
      {R"({"graphs": [{"kind": "echo"}]})", "graphs[0].graph_id: required"},
      {"{\n  \"server\": {\n    \"port\": 1,,\n  }\n}", "agentd.json:3:15: syntax error"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.file);
    const std::string error = FileError(c.file);
    EXPECT_EQ(error.substr(0, c.message.size()), c.message) << error;
    EXPECT_EQ(error.find('\n'), std::string::npos);
  }
}

TEST(ConfigValidation, FlagAndEnvironmentErrorsNameTheirSource) {
  Environment env;
  env.vars["AGENTD_PORT"] = "eighty";
  auto r = LoadConfig(std::vector<std::string>{}, env);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, R"(AGENTD_PORT: expected an integer, got "eighty")");

  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--threads", "5000"}, "--threads: must be between 0 and 1024, got 5000"},
      {{"--bogus", "1"}, "--bogus: unknown flag (see --help)"},
      {{"--port"}, "--port: missing value"},
      {{"serve"}, R"(unexpected argument "serve" (settings are --name value))"},
      {{"--dev-endpoints=maybe"}, R"(--dev-endpoints: expected true or false, got "maybe")"},
      {{"--config", "/nonexistent/agentd.json"}, "/nonexistent/agentd.json: cannot read: No such file or directory"},
  };
  for (const auto& [args, message] : cases) {
    auto result = LoadConfig(args, Environment{});
    ASSERT_FALSE(result) << message;
    EXPECT_EQ(result.error().message, message);
    EXPECT_EQ(result.error().code, Errc::kInvalidArgument);
  }
}

}  // namespace
}  // namespace agentd::config
