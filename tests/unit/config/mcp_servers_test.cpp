// mcp_servers in the config file: accepted shapes, the child's environment, and every refusal
// naming its key (collisions name both sources).

#include <gtest/gtest.h>

#include "config/catalog.hpp"
#include "config/dump.hpp"
#include "config/loader.hpp"

namespace agentd::config {
namespace {

Result<Config> Load(std::string_view text) {
  Environment env;
  env.vars["PATH"] = "/usr/bin";
  env.vars["HOME"] = "/home/agentd";
  env.vars["SECRET"] = "s3cret";
  env.vars["LANG"] = "C.UTF-8";
  env.vars["TOKEN"] = "tok";
  auto parsed = ParseConfigText(text, "agentd.json");
  if (!parsed) return parsed.error();
  Config config;
  if (auto st = ApplyConfigFile(*parsed, env, config); !st) return st.error();
  return config;
}

std::string ErrorOf(std::string_view text) {
  auto r = Load(text);
  return r ? std::string("(accepted)") : r.error().message;
}

TEST(McpServersConfig, ParsesBothTransportsAndBuildsTheChildEnvironment) {
  auto r = Load(R"({
    "models": [{"name": "m", "provider": "mock"}],
    "mcp_servers": [
      {"name": "local", "transport": "stdio", "command": "node", "args": ["${SERVER:-srv.js}", "stdio"],
       "env": {"MODE": "test", "KEY": {"env": "SECRET"}}, "env_allow": ["LANG"],
       "prefix": "l_", "tool_filter": ["echo"], "required": true},
      {"name": "remote", "transport": "streamable_http", "url": "http://127.0.0.1:9/mcp",
       "headers": {"Authorization": {"env": "TOKEN"}}, "timeout_ms": 500, "prefix": "r_"}
    ],
    "graphs": [{"graph_id": "a", "kind": "react", "model": "m", "tools": ["l_echo", "r_anything"]}]
  })");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->mcp_servers.size(), 2u);
  const auto& local = r->mcp_servers[0];
  EXPECT_EQ(local.args, (std::vector<std::string>{"srv.js", "stdio"}));
  // PATH, HOME, the allowlist, then env: nothing else of agentd's environment (SECRET, TOKEN).
  EXPECT_EQ(local.child_env, (std::vector<std::string>{"PATH=/usr/bin", "HOME=/home/agentd",
                                                       "LANG=C.UTF-8", "MODE=test", "KEY=s3cret"}));
  EXPECT_TRUE(local.required);
  const auto& remote = r->mcp_servers[1];
  ASSERT_EQ(remote.headers.size(), 1u);
  EXPECT_EQ(remote.headers[0].value, "tok");
  EXPECT_EQ(remote.timeout.count(), 500);
  EXPECT_EQ(McpClaims(r->mcp_servers, "l_echo"), &local);
  EXPECT_EQ(McpClaims(r->mcp_servers, "l_other"), nullptr);  // not in its tool_filter
  EXPECT_EQ(McpClaims(r->mcp_servers, "r_x"), &remote);

  // `agentd config` shows the servers, never the values of env or {"env"} headers.
  const std::string dump = DumpEffective(*r);
  EXPECT_NE(dump.find("\"mcp_servers\""), std::string::npos);
  EXPECT_NE(dump.find("\"KEY\": \"****\""), std::string::npos) << dump;
  EXPECT_NE(dump.find("\"env\": \"TOKEN\""), std::string::npos) << dump;
  EXPECT_EQ(dump.find("s3cret"), std::string::npos) << dump;
  EXPECT_EQ(dump.find("tok\""), std::string::npos) << dump;
}

TEST(McpServersConfig, RefusalsNameTheKey) {
  const std::string head = R"({"models": [{"name": "m", "provider": "mock"}], )";
  struct Case {
    std::string body;
    std::string message;
  };
  const std::vector<Case> cases = {
      {R"("mcp_servers": [{"name": "s", "transport": "pipe"}])",
       R"(mcp_servers[0].transport: unknown transport "pipe" (expected stdio or streamable_http))"},
      {R"("mcp_servers": [{"name": "s", "transport": "stdio"}])", "mcp_servers[0].command: required"},
      {R"("mcp_servers": [{"name": "s", "transport": "stdio", "command": "x", "url": "http://a"}])",
       "mcp_servers[0].url: not used by transport stdio"},
      {R"("mcp_servers": [{"name": "s", "transport": "streamable_http", "url": "ftp://a"}])",
       "mcp_servers[0].url: must start with http:// or https://"},
      {R"("mcp_servers": [{"name": "s", "transport": "streamable_http", "url": "http://a", "command": "x"}])",
       "mcp_servers[0].command: not used by transport streamable_http"},
      {R"("mcp_servers": [{"name": "s", "transport": "stdio", "command": "x", "env": {"K": {"env": "NOPE"}}}])",
       "mcp_servers[0].env.K.env: environment variable NOPE is not set"},
      {R"("mcp_servers": [{"name": "s", "transport": "stdio", "command": "x", "colour": 1}])",
       "mcp_servers[0].colour: unknown key"},
      {R"("mcp_servers": [{"name": "s", "transport": "stdio", "command": "x"},
                          {"name": "s", "transport": "stdio", "command": "y", "prefix": "p"}])",
       R"(mcp_servers[1].name: duplicate MCP server "s")"},
      // Collisions name both sources: a tool of the file, another server's tool_filter.
      {R"("tools": [{"name": "s_echo", "kind": "http", "url": "http://a"}],
          "mcp_servers": [{"name": "s", "transport": "stdio", "command": "x", "prefix": "s_", "tool_filter": ["echo"]}])",
       R"(mcp_servers[0].tool_filter[0]: tool "s_echo" collides with tools[0])"},
      {R"("mcp_servers": [{"name": "a", "transport": "stdio", "command": "x", "tool_filter": ["echo"]},
                          {"name": "b", "transport": "stdio", "command": "y", "tool_filter": ["echo"]}])",
       R"(mcp_servers[1].tool_filter[0]: tool "echo" collides with mcp_servers[0] ("a"))"},
      {R"("mcp_servers": [{"name": "a", "transport": "stdio", "command": "x"},
                          {"name": "b", "transport": "stdio", "command": "y"}])",
       R"(mcp_servers[1].prefix: "" is also the prefix of mcp_servers[0] ("a"), which has no tool_filter either: set a distinct prefix or a tool_filter)"},
      {R"("mcp_servers": [{"name": "a", "transport": "stdio", "command": "x", "prefix": "a_", "tool_filter": ["echo"]}],
          "graphs": [{"graph_id": "g", "kind": "react", "model": "m", "tools": ["a_other"]}])",
       R"(graphs[0].tools[0]: unknown tool "a_other")"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(ErrorOf(head + c.body + "}"), c.message) << c.body;
  }
}

}  // namespace
}  // namespace agentd::config
