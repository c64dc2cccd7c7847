#include "config/dump.hpp"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "config/loader.hpp"
#include "config/settings.hpp"

namespace agentd::config {
namespace {

Config WithSecretModel() {
  Config c = LoadConfig(std::vector<std::string>{}, Environment{}).value();
  ModelSpec m;
  m.name = "gpt";
  m.provider = "openai";
  m.model = "gpt-4o-mini";
  m.base_url = "https://api.openai.com/v1";
  m.api_key_env = "OPENAI_API_KEY";
  m.api_key = "sk-live-123456";
  c.models.push_back(m);
  return c;
}

TEST(DumpEffective, MasksApiKeys) {
  const std::string dump = DumpEffective(WithSecretModel());
  EXPECT_EQ(dump.find("sk-live"), std::string::npos);
  EXPECT_NE(dump.find("api key from OPENAI_API_KEY = ****"), std::string::npos) << dump;
  EXPECT_EQ(MaskSecret("sk-abc"), "****");
  EXPECT_EQ(MaskSecret(""), "");
}

TEST(DumpEffective, ShowsEverySettingWithItsSourceAndReloads) {
  Environment env;
  env.vars["AGENTD_PORT"] = "9100";
  env.vars["OPENAI_API_KEY"] = "sk-x";
  Config c = LoadConfig(std::vector<std::string>{"--log-level", "warn"}, env).value();
  const std::string dump = DumpEffective(c);
  for (const auto& s : Settings()) {
    if (s.section.empty()) continue;
    EXPECT_NE(dump.find("\"" + std::string(s.name) + "\": "), std::string::npos) << s.name;
  }
  EXPECT_NE(dump.find("\"port\": 9100,  // env AGENTD_PORT"), std::string::npos) << dump;
  EXPECT_NE(dump.find("\"log_level\": \"warn\",  // flag --log-level"), std::string::npos) << dump;

  // The dump is a config file: loading it gives the same catalogue and settings.
  auto parsed = ParseConfigText(dump, "dump");
  ASSERT_TRUE(parsed) << parsed.error().message;
  Config again;
  auto st = ApplyConfigFile(*parsed, env, again);
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(again.server.port, 9100);
  EXPECT_EQ(again.server.log_level, "warn");
  EXPECT_EQ(again.graphs.size(), c.graphs.size());
  EXPECT_EQ(again.tools[0].parameters, c.tools[0].parameters);
}

TEST(SettingsHelp, ListsEverySettingWithDefaultAndEnv) {
  const std::string help = SettingsHelp();
  for (const auto& s : Settings()) {
    EXPECT_NE(help.find(FlagName(s)), std::string::npos) << s.name;
    EXPECT_NE(help.find("env: " + EnvName(s)), std::string::npos) << s.name;
  }
  EXPECT_NE(help.find("--port <integer>\n      TCP port"), std::string::npos);
  EXPECT_NE(help.find("default: 8123   env: AGENTD_PORT   file: server.port"), std::string::npos) << help;
  EXPECT_EQ(FlagName(*FindSetting("health_stall_threshold_ms")), "--health-stall-threshold-ms");
  EXPECT_EQ(EnvName(*FindSetting("health_stall_threshold_ms")), "AGENTD_HEALTH_STALL_THRESHOLD_MS");
}

TEST(SettingsMarkdown, IsWhatDocsConfigurationMdShows) {
  std::ifstream in(std::string(AGENTD_SOURCE_DIR) + "/docs/configuration.md");
  std::stringstream doc;
  doc << in.rdbuf();
  EXPECT_NE(doc.str().find(SettingsMarkdown()), std::string::npos)
      << "docs/configuration.md is stale: paste `agentd config --markdown` into it";
}

}  // namespace
}  // namespace agentd::config
