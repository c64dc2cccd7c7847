// limits.tiers and auth: parsing, cross-checks naming the key, flags/env, masking in the dump.

#include "config/access.hpp"

#include <fstream>

#include <gtest/gtest.h>

#include "config/dump.hpp"
#include "config/loader.hpp"
#include "support/temp_dir.hpp"

namespace agentd::config {
namespace {

const std::string kHash = Sha256Hex("key-a");

// Loads `file_text` as the config file through LoadConfig (so FinishAccess runs too).
Result<Config> LoadText(const std::string& file_text, Environment env = {},
                        std::vector<std::string> flags = {}) {
  testing::TempDir dir;
  const std::string path = (dir.path() / "agentd.json").string();
  std::ofstream(path) << file_text;
  flags.insert(flags.begin(), {"--config", path});
  return LoadConfig(flags, env);
}

std::string ErrorOf(const std::string& file_text, Environment env = {}) {
  auto r = LoadText(file_text, std::move(env));
  return r ? std::string("(accepted)") : r.error().message;
}

TEST(ConfigAccess, Sha256HexIsLowerCaseHex) {
  // printf %s abc | sha256sum
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ConfigAccess, DefaultsAreAuthOffAndOneDefaultTier) {
  auto c = LoadConfig(std::vector<std::string>{}, Environment{});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->auth.mode, "none");
  ASSERT_EQ(c->limits.tiers.size(), 1u);
  EXPECT_EQ(c->limits.tiers[0].name, "default");
  EXPECT_EQ(c->limits.default_tier, "default");
  EXPECT_EQ(c->limits.per_ip_requests_per_second, 0);
  EXPECT_TRUE(c->auth.jwt.require_exp);
}

TEST(ConfigAccess, LoadsTiersKeysAndJwtFromTheFile) {
  Environment env;
  env.vars["JWT_SECRET"] = "s3cret-value";
  auto c = LoadText(R"({
    "limits": {"queue_timeout_ms": 1000, "per_ip_requests_per_second": 2.5, "default_tier": "free",
               "tiers": [{"name": "free", "requests_per_minute": 60, "tokens_per_minute": 1000},
                         {"name": "pro", "max_concurrent_runs": 8, "priority": 5}]},
    "auth": {"mode": "required",
             "api_keys": [{"sha256": ")" + kHash + R"(", "tenant": "acme", "user_id": "u1", "tier": "pro"}],
             "jwt": {"hs256_secret_env": "JWT_SECRET", "audience": "agentd", "issuer": "idp",
                     "tenant_claim": "org", "leeway_s": 5, "require_exp": false}}
  })", env);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->limits.queue_timeout.count(), 1000);
  EXPECT_DOUBLE_EQ(c->limits.per_ip_requests_per_second, 2.5);
  ASSERT_EQ(c->limits.tiers.size(), 2u);
  EXPECT_EQ(c->limits.tiers[0].requests_per_minute, 60u);
  EXPECT_EQ(c->limits.tiers[1].priority, 5);
  EXPECT_EQ(c->auth.mode, "required");
  ASSERT_EQ(c->auth.api_keys.size(), 1u);
  EXPECT_EQ(c->auth.api_keys[0].tenant, "acme");
  EXPECT_EQ(c->auth.jwt.hs256_secret, "s3cret-value");
  EXPECT_EQ(c->auth.jwt.tenant_claim, "org");
  EXPECT_EQ(c->auth.jwt.leeway.count(), 5);
  EXPECT_FALSE(c->auth.jwt.require_exp);

  // Secrets never appear in the dump, and the dump reloads to the same access settings.
  const std::string dump = DumpEffective(*c);
  EXPECT_EQ(dump.find("s3cret-value"), std::string::npos) << dump;
  EXPECT_NE(dump.find("HS256 secret from JWT_SECRET = ****"), std::string::npos) << dump;
  auto parsed = ParseConfigText(dump, "dump");
  ASSERT_TRUE(parsed) << parsed.error().message << dump;
  Config again;
  auto st = ApplyConfigFile(*parsed, env, again);
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(again.limits.tiers.size(), 2u);
  EXPECT_EQ(again.auth.api_keys.size(), 1u);
  EXPECT_EQ(again.auth.jwt.audience, "agentd");
  EXPECT_FALSE(again.auth.jwt.require_exp);
}

TEST(ConfigAccess, FlagsAndEnvironmentSetTheScalars) {
  Environment env;
  env.vars["AGENTD_RUN_TIMEOUT_MS"] = "5000";
  env.vars["AGENTD_PER_KEY_REQUESTS_PER_SECOND"] = "10";
  auto c = LoadText(R"({"auth": {"api_keys": [{"sha256": ")" + kHash + R"(", "tenant": "t"}]}})", env,
                    {"--auth", "required", "--queue-timeout-ms", "250", "--per-ip-requests-per-second=0.5"});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->auth.mode, "required");
  EXPECT_EQ(c->setting_sources["auth"], "flag");
  EXPECT_EQ(c->limits.run_timeout.count(), 5000);
  EXPECT_EQ(c->limits.queue_timeout.count(), 250);
  EXPECT_DOUBLE_EQ(c->limits.per_ip_requests_per_second, 0.5);
  EXPECT_DOUBLE_EQ(c->limits.per_key_requests_per_second, 10);

  auto bad = LoadConfig(std::vector<std::string>{"--per-ip-requests-per-second", "fast"}, Environment{});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, R"(--per-ip-requests-per-second: expected a number, got "fast")");
  bad = LoadConfig(std::vector<std::string>{"--auth", "maybe"}, Environment{});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, R"(--auth: must be "none" or "required", got "maybe")");
}

TEST(ConfigAccess, ErrorsNameTheKey) {
  testing::TempDir dir;
  const std::string junk = (dir.path() / "junk.pem").string();
  std::ofstream(junk) << "not a key";
  const std::string key = R"({"sha256": ")" + kHash + R"(", "tenant": "t")";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"auth": {"api_keys": [{"sha256": "xyz", "tenant": "t"}]}})",
       "auth.api_keys[0].sha256: expected 64 hex digits"},
      {R"({"auth": {"api_keys": [{"sha256": ")" + kHash + R"("}]}})", "auth.api_keys[0].tenant: required"},
      {R"({"auth": {"api_keys": [)" + key + R"(, "tier": "gold"}]}})",
       R"(auth.api_keys[0].tier: unknown tier "gold")"},
      {R"({"auth": {"api_keys": [)" + key + "}, " + key + R"(}]}})", "auth.api_keys[1].sha256: duplicate key"},
      {R"({"limits": {"default_tier": "gold"}})", R"(limits.default_tier: unknown tier "gold")"},
      {R"({"limits": {"tiers": [{"name": "a"}, {"name": "a"}]}})", R"(limits.tiers[1].name: duplicate tier "a")"},
      {R"({"limits": {"tiers": [{"name": "default", "rpm": 1}]}})", "limits.tiers[0].rpm: unknown key"},
      {R"({"limits": {"per_ip_burst": -1}})", "limits.per_ip_burst: must be between 0 and"},
      {R"({"auth": {"jwt": {"hs256_secret_env": "NOPE_SECRET"}}})",
       "auth.jwt.hs256_secret_env: environment variable NOPE_SECRET is not set"},
      {R"({"auth": {"jwt": {"public_key_file": "/nonexistent.pem"}}})",
       "auth.jwt.public_key_file: cannot read /nonexistent.pem"},
      {R"({"auth": {"jwt": {"public_key_file": ")" + junk + R"("}}})", "auth.jwt.public_key_file: "},
      {R"({"auth": {"mode": "required"}})", R"(auth.mode: "required" but no credentials)"},
      {R"({"auth": {"mode": "on"}})", R"(auth.mode: must be "none" or "required")"},
      {R"({"auth": {"keys": []}})", "auth.keys: unknown key"},
      {R"({"auth": {"jwt": {"require_exp": "no"}}})", "auth.jwt.require_exp: expected true or false"},
  };
  for (const auto& [file, message] : cases) {
    SCOPED_TRACE(file);
    const std::string error = ErrorOf(file);
    EXPECT_EQ(error.substr(0, message.size()), message) << error;
  }
}

}  // namespace
}  // namespace agentd::config
