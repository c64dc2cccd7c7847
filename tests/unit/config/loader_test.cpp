#include "config/loader.hpp"

#include <fstream>

#include <gtest/gtest.h>

#include "support/temp_dir.hpp"

namespace agentd::config {
namespace {

Environment TestEnv() {
  Environment env;
  env.cores = 2;
  env.memory_bytes = 8ULL << 30;
  env.fd_limit = 20'000;
  return env;
}

std::string WriteFile(const testing::TempDir& dir, const std::string& text) {
  const auto path = (dir.path() / "agentd.json").string();
  std::ofstream(path) << text;
  return path;
}

Result<Config> Load(std::vector<std::string> args, const Environment& env = TestEnv()) {
  return LoadConfig(args, env);
}

TEST(LoadConfig, UsesTableDefaultsAndTheDemoCatalogWithoutAFile) {
  auto c = Load({});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->source, "demo");
  EXPECT_EQ(c->server.host, "127.0.0.1");
  EXPECT_EQ(c->server.port, 8123);
  EXPECT_EQ(c->storage.url, "sqlite");
  EXPECT_EQ(c->server.cors_origins, std::vector<std::string>{"*"});
  ASSERT_EQ(c->models.size(), 1u);
  EXPECT_EQ(c->models[0].name, "mock");
  EXPECT_EQ(c->models[0].provider, "mock");
  ASSERT_EQ(c->tools.size(), 1u);
  EXPECT_EQ(c->tools[0].name, "get_weather");
  EXPECT_EQ(c->tools[0].kind, "demo");
  EXPECT_TRUE(c->tools[0].parameters.contains("properties"));
  ASSERT_EQ(c->graphs.size(), 2u);
  EXPECT_EQ(c->graphs[0].graph_id, "agent");
  EXPECT_EQ(c->graphs[0].kind, "react");
  EXPECT_EQ(c->graphs[0].model, "mock");
  EXPECT_EQ(c->graphs[0].tools, std::vector<std::string>{"get_weather"});
  EXPECT_EQ(c->graphs[1].graph_id, "echo");
  EXPECT_EQ(c->graphs[1].kind, "echo");
}

TEST(LoadConfig, FileBeatsDefaultsEnvBeatsFileFlagBeatsEnv) {
  testing::TempDir dir;
  const auto path = WriteFile(dir, R"({
    // comments and trailing commas are fine
    "server": {"port": 9001, "host": "0.0.0.0", "threads": 3, "log_level": "debug",},
  })");
  auto env = TestEnv();
  env.vars["AGENTD_PORT"] = "9002";
  env.vars["AGENTD_THREADS"] = "5";

  auto c = Load({"--config", path, "--port=9003"}, env);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->source, path);
  EXPECT_EQ(c->server.port, 9003);          // flag
  EXPECT_EQ(c->server.threads, 5u);         // env over file
  EXPECT_EQ(c->server.host, "0.0.0.0");     // file over default
  EXPECT_EQ(c->server.log_level, "debug");  // file
  EXPECT_EQ(c->server.body_limit_bytes, 10u * 1024 * 1024);  // default
  EXPECT_EQ(c->setting_sources.at("port"), "flag");
  EXPECT_EQ(c->setting_sources.at("threads"), "env");
  EXPECT_EQ(c->setting_sources.at("host"), "file");
  EXPECT_EQ(c->setting_sources.at("body_limit"), "default");
  // A file with no models/tools/graphs keeps the demo catalogue.
  EXPECT_EQ(c->graphs.size(), 2u);
}

TEST(LoadConfig, RunLifecycleAndSweepSettingsDefaultOnAndComeFromFileEnvAndFlags) {
  auto defaults = Load({});
  ASSERT_TRUE(defaults) << defaults.error().message;
  EXPECT_TRUE(defaults->server.resume_on_start);
  EXPECT_TRUE(defaults->server.drain_on_stop);
  EXPECT_EQ(defaults->server.thread_sweep_interval, std::chrono::seconds(60));

  testing::TempDir dir;
  auto env = TestEnv();
  env.vars["AGENTD_CONFIG"] = WriteFile(dir, R"({"server": {"resume_on_start": false}})");
  env.vars["AGENTD_DRAIN_ON_STOP"] = "false";
  auto c = Load({"--thread-sweep-interval-ms", "1500"}, env);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_FALSE(c->server.resume_on_start);
  EXPECT_FALSE(c->server.drain_on_stop);
  EXPECT_EQ(c->server.thread_sweep_interval, std::chrono::milliseconds(1500));

  auto too_fast = Load({"--thread-sweep-interval-ms", "0"});
  ASSERT_FALSE(too_fast);
  EXPECT_NE(too_fast.error().message.find("--thread-sweep-interval-ms"), std::string::npos)
      << too_fast.error().message;
}

TEST(LoadConfig, ConfigPathComesFromTheEnvironmentToo) {
  testing::TempDir dir;
  auto env = TestEnv();
  env.vars["AGENTD_CONFIG"] = WriteFile(dir, R"({"limits": {"max_active_runs": 7}})");
  auto c = Load({}, env);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->limits.max_active_runs, 7u);
  EXPECT_EQ(c->limits.max_queued_runs, 28u);  // auto: 4 x active
}

TEST(LoadConfig, ParsesEveryFlagForm) {
  auto c = Load({"--dev-endpoints=false", "--cors-origins", "https://a.example, https://b.example",
                 "--storage=memory", "--shutdown-grace-ms", "250"});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_FALSE(c->server.dev_endpoints);
  EXPECT_EQ(c->server.cors_origins, (std::vector<std::string>{"https://a.example", "https://b.example"}));
  EXPECT_EQ(c->storage.url, "memory");
  EXPECT_EQ(c->server.shutdown_grace, std::chrono::milliseconds(250));
  auto d = Load({"--dev-endpoints"});
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->server.dev_endpoints);
}

TEST(LoadConfig, SizesZeroSettingsFromTheMachine) {
  auto c = Load({});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->server.threads, 2u);
  EXPECT_EQ(c->server.max_connections, 18'000u);          // 90% of 20,000
  EXPECT_EQ(c->limits.max_active_runs, 2048u);            // min(1024 x 2, 8 GiB / 4 MiB)
  EXPECT_EQ(c->limits.max_queued_runs, 8192u);
  EXPECT_EQ(c->setting_sources.at("threads"), "auto");
  auto env = TestEnv();
  env.memory_bytes = 1ULL << 30;  // 1 GiB / 4 MiB = 256
  EXPECT_EQ(AutoMaxActiveRuns(env), 256u);
  env.memory_bytes = 0;
  EXPECT_EQ(AutoMaxActiveRuns(env), 16u);
}

TEST(LoadConfig, ResolvesApiKeysFromTheNamedVariable) {
  testing::TempDir dir;
  auto env = TestEnv();
  env.vars["MY_KEY"] = "sk-secret";
  env.vars["AGENTD_CONFIG"] = WriteFile(dir, R"({
    "models": [{"name": "gpt", "provider": "openai", "model": "gpt-4o-mini",
                "base_url": "http://127.0.0.1:18787/v1", "api_key_env": "MY_KEY"}],
    "graphs": [{"graph_id": "g", "kind": "react", "model": "gpt"}]
  })");
  auto c = Load({}, env);
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_EQ(c->models.size(), 1u);
  EXPECT_EQ(c->models[0].api_key, "sk-secret");
  EXPECT_TRUE(c->tools.empty());
}

TEST(LoadConfig, ExampleFileValidates) {
  auto env = TestEnv();
  env.vars["MOCK_LLM_API_KEY"] = "anything";
  auto c = Load({"--config", std::string(AGENTD_SOURCE_DIR) + "/examples/agentd.json"}, env);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_GE(c->models.size(), 2u);
  EXPECT_GE(c->graphs.size(), 2u);
}

}  // namespace
}  // namespace agentd::config

namespace agentd::config {
namespace {

TEST(LoadConfig, GraphFilePathsAreRelativeToTheConfigFile) {
  testing::TempDir dir;
  const std::string path = WriteFile(dir, R"({
    "graphs_dir": "graphs",
    "models": [{"name": "mock", "provider": "mock"}],
    "graphs": [{"file": "one.yaml"}, {"file": "/abs/two.yaml"},
               {"graph_id": "e", "kind": "echo"}]})");
  auto c = Load({"--config", path});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->graphs_dir, (dir.path() / "graphs").string());
  EXPECT_EQ(c->setting_sources.at("graphs_dir"), "file");
  ASSERT_EQ(c->graph_files.size(), 2u);
  EXPECT_EQ(c->graph_files[0].path, (dir.path() / "one.yaml").string());
  EXPECT_EQ(c->graph_files[0].key, "graphs[0].file");
  EXPECT_EQ(c->graph_files[1].path, "/abs/two.yaml");
  ASSERT_EQ(c->graphs.size(), 1u);  // inline graphs stay graphs
  // A flag is relative to where agentd runs, as any path flag.
  auto flag = Load({"--graphs-dir", "rel/dir"});
  ASSERT_TRUE(flag);
  EXPECT_EQ(flag->graphs_dir, "rel/dir");
  // A file entry takes only `file`.
  const std::string bad = WriteFile(dir, R"({"graphs": [{"file": "x.yaml", "kind": "echo"}]})");
  auto refused = Load({"--config", bad});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message, "graphs[0].kind: unknown key");
}

}  // namespace
}  // namespace agentd::config
