// PlanReload (config/reload.hpp): what a reload applies, reports as needing a restart, and
// refuses, compared as whole rendered line lists.
#include "config/reload.hpp"

#include <fstream>

#include <gtest/gtest.h>

#include "config/dump.hpp"
#include "config/loader.hpp"
#include "support/temp_dir.hpp"

namespace agentd::config {
namespace {

constexpr const char* kKeyA = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809";
constexpr const char* kKeyB = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";

Environment TestEnv() {
  Environment env;
  env.cores = 2;
  env.memory_bytes = 8ULL << 30;
  env.fd_limit = 20'000;
  env.vars["JWT_SECRET"] = "first-secret";
  env.vars["JWT_SECRET_2"] = "second-secret";
  return env;
}

Config Load(const std::string& text, std::vector<std::string> flags = {}) {
  testing::TempDir dir;
  const auto path = (dir.path() / "agentd.json").string();
  std::ofstream(path) << text;
  std::vector<std::string> args{"--config", path};
  args.insert(args.end(), flags.begin(), flags.end());
  auto c = LoadConfig(args, TestEnv());
  EXPECT_TRUE(c) << c.error().message;
  Config out = c ? std::move(*c) : Config{};
  out.source = "agentd.json";  // the temp dir's name differs between the two loads
  return out;
}

std::string Lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

std::string Base(const std::string& tier_rpm = "60", const std::string& extra_keys = "",
                 const std::string& models = R"({"name": "m", "provider": "mock"})",
                 const std::string& tools = R"({"name": "get_weather", "kind": "demo"})",
                 const std::string& graphs =
                     R"({"graph_id": "agent", "kind": "react", "model": "m", "tools": ["get_weather"]})",
                 const std::string& server = R"("port": 8123)",
                 const std::string& jwt = R"("hs256_secret_env": "JWT_SECRET")") {
  return R"({
    "server": {)" + server + R"(},
    "limits": {"tiers": [{"name": "default", "requests_per_minute": )" + tier_rpm + R"(}]},
    "auth": {"mode": "required",
             "api_keys": [{"sha256": ")" + std::string(kKeyA) + R"(", "tenant": "acme"})" + extra_keys + R"(],
             "jwt": {)" + jwt + R"(}},
    "models": [)" + models + R"(],
    "tools": [)" + tools + R"(],
    "graphs": [)" + graphs + R"(]
  })";
}

TEST(PlanReload, TheSameFileChangesNothing) {
  const Config running = Load(Base());
  ReloadPlan plan = PlanReload(running, Load(Base()));
  EXPECT_EQ(Lines(plan.applied), "");
  EXPECT_EQ(Lines(plan.restart), "");
  EXPECT_EQ(Lines(plan.errors), "");
  EXPECT_EQ(DumpEffective(plan.next), DumpEffective(running));
}

TEST(PlanReload, AppliesAuthLimitsModelsAndToolsAndKeepsTheRestUntilARestart) {
  const Config running = Load(Base());
  const Config candidate = Load(Base(
      "120",
      R"(, {"sha256": ")" + std::string(kKeyB) + R"(", "tenant": "globex", "tier": "default"})",
      R"({"name": "m", "provider": "mock", "chunks": 2}, {"name": "m2", "provider": "mock"})",
      R"({"name": "get_weather", "kind": "demo"},
         {"name": "lookup", "kind": "http", "url": "http://127.0.0.1:9/lookup"})",
      R"({"graph_id": "agent", "kind": "react", "model": "m2", "tools": ["get_weather"]})",
      R"("port": 9000, "log_level": "debug", "storage": "memory")",
      R"("hs256_secret_env": "JWT_SECRET_2", "require_exp": false)"));
  ReloadPlan plan = PlanReload(running, candidate);
  EXPECT_EQ(Lines(plan.errors), "");
  EXPECT_EQ(Lines(plan.applied),
            "server.log_level: \"info\" -> \"debug\"\n"
            "limits.tiers[default].requests_per_minute: 60 -> 120\n"
            "auth.api_keys: added sha256:ffeeddcc...\n"
            "auth.jwt.hs256_secret_env: \"JWT_SECRET\" -> \"JWT_SECRET_2\"\n"
            "auth.jwt.require_exp: true -> false\n"
            "auth.jwt: HS256 secret changed (****)\n"
            "models[m].chunks: 8 -> 2\n"
            "models: added m2\n"
            "tools: added lookup\n");
  EXPECT_EQ(Lines(plan.restart),
            "server.port: 8123 -> 9000\n"
            "server.storage: \"sqlite\" -> \"memory\"\n"
            "graphs[agent].model: \"m\" -> \"m2\"\n");
  // Secrets never reach a line.
  for (const auto& line : plan.applied) {
    EXPECT_EQ(line.find("secret-"), std::string::npos) << line;
    EXPECT_EQ(line.find(kKeyB), std::string::npos) << line;
  }

  const Config& next = plan.next;
  EXPECT_EQ(next.server.port, 8123);          // restart-only: kept
  EXPECT_EQ(next.storage.url, "sqlite");      // restart-only: kept
  EXPECT_EQ(next.graphs[0].model, "m");       // graphs: kept
  EXPECT_EQ(next.server.log_level, "debug");  // live
  EXPECT_EQ(next.limits.tiers[0].requests_per_minute, 120u);
  EXPECT_EQ(next.auth.api_keys.size(), 2u);
  EXPECT_EQ(next.auth.jwt.hs256_secret, "second-secret");
  EXPECT_FALSE(next.auth.jwt.require_exp);
  ASSERT_EQ(next.models.size(), 2u);
  EXPECT_EQ(next.models[0].mock_chunks, 2);
  EXPECT_EQ(next.tools.size(), 2u);
}

TEST(PlanReload, RemovedKeysTiersAndModelsAreReported) {
  const Config running = Load(Base(
      "60", R"(, {"sha256": ")" + std::string(kKeyB) + R"(", "tenant": "globex"})",
      R"({"name": "m", "provider": "mock"}, {"name": "spare", "provider": "mock"})"));
  ReloadPlan plan = PlanReload(running, Load(Base()));
  EXPECT_EQ(Lines(plan.errors), "");
  EXPECT_EQ(Lines(plan.applied),
            "auth.api_keys: removed sha256:ffeeddcc...\n"
            "models: removed spare\n");
  EXPECT_EQ(plan.next.models.size(), 1u);
}

TEST(PlanReload, RefusesToTakeAModelOrToolFromARunningGraph) {
  // The new file's graph no longer names "m", but the running graph does until a restart.
  const Config running = Load(Base());
  const Config candidate = Load(Base(
      "60", "", R"({"name": "m2", "provider": "mock"})", R"({"name": "lookup", "kind": "http", "url": "http://127.0.0.1:9/x"})",
      R"({"graph_id": "agent", "kind": "react", "model": "m2", "tools": ["lookup"]})"));
  ReloadPlan plan = PlanReload(running, candidate);
  EXPECT_EQ(Lines(plan.errors),
            "models: \"m\" is used by the running graph \"agent\" (graphs change only at a restart)\n"
            "tools: \"get_weather\" is used by the running graph \"agent\" (graphs change only at a "
            "restart)\n");
}

TEST(PlanReload, FlagsStillWinOverTheReloadedFile) {
  // The server was started with --port 7000 and the file changes the port: nothing to report.
  const Config running = Load(Base(), {"--port", "7000"});
  ReloadPlan plan = PlanReload(running, Load(Base("60", "", R"({"name": "m", "provider": "mock"})",
                                                  R"({"name": "get_weather", "kind": "demo"})",
                                                  R"({"graph_id": "agent", "kind": "react", "model": "m", "tools": ["get_weather"]})",
                                                  R"("port": 9000)"),
                                             {"--port", "7000"}));
  EXPECT_EQ(Lines(plan.restart), "");
  EXPECT_EQ(plan.next.server.port, 7000);
}

TEST(ReloadsLive, NamesTheLiveSettingsOfTheTable) {
  for (std::string_view live : {"log_level", "default_tier", "per_ip_requests_per_second",
                                "per_ip_burst", "per_key_requests_per_second", "per_key_burst",
                                "auth"}) {
    EXPECT_TRUE(ReloadsLive(live)) << live;
  }
  for (std::string_view fixed : {"host", "port", "threads", "storage", "bus", "data_dir",
                                 "max_active_runs", "run_timeout_ms", "cors_origins"}) {
    EXPECT_FALSE(ReloadsLive(fixed)) << fixed;
  }
}

TEST(LoadConfig, ReportsTheProblemsOfEverySectionAtOnce) {
  testing::TempDir dir;
  const auto path = (dir.path() / "bad.json").string();
  std::ofstream(path) << R"({
    "server": {"port": 70000, "nope": 1},
    "limits": {"tiers": [{"name": ""}]},
    "models": [{"name": "m", "provider": "gpt"}],
    "tools": [{"name": "t", "kind": "http"}],
    "graphs": [{"graph_id": "g", "kind": "react", "model": "zzz"}]
  })";
  std::vector<std::string> args{"--config", path};
  auto c = LoadConfig(args, TestEnv());
  ASSERT_FALSE(c);
  EXPECT_EQ(Lines(SplitProblems(c.error().message)),
            "server.port: must be between 0 and 65535, got 70000\n"
            "server.nope: unknown setting\n"
            "limits.tiers[0].name: required\n"
            "models[0].provider: unknown provider \"gpt\" (expected mock, openai or anthropic)\n"
            "tools[0].url: required\n");
}

}  // namespace
}  // namespace agentd::config
