// The model keys beyond name/provider: timeouts, sampling settings, headers (literal or from an
// environment variable), params, and ${VAR} in URLs. Good values land in ModelSpec/ToolSpec;
// bad ones are one-line errors naming the key.

#include <gtest/gtest.h>

#include "config/dump.hpp"
#include "config/loader.hpp"

namespace agentd::config {
namespace {

Environment Env() {
  Environment env;
  env.vars["SET_KEY"] = "sk-1";
  env.vars["ORG_ID"] = "org-42";
  env.vars["EMPTY"] = "";
  env.vars["UPSTREAM"] = "http://10.0.0.7:9000";
  return env;
}

Result<Config> Parse(std::string_view text, const Environment& env = Env()) {
  auto parsed = ParseConfigText(text, "agentd.json");
  if (!parsed) return parsed.error();
  Config config;
  if (auto st = ApplyConfigFile(*parsed, env, config); !st) return st.error();
  return config;
}

std::string ErrorOf(std::string_view text) {
  auto c = Parse(text);
  return c ? std::string("(accepted)") : c.error().message;
}

std::string OpenAi(std::string_view extra) {
  return std::string(R"({"models": [{"name": "m", "provider": "openai", "model": "gpt", "api_key_env": "SET_KEY")") +
         (extra.empty() ? "" : ", ") + std::string(extra) + "}]}";
}

TEST(ModelKeys, DefaultsWhenAbsent) {
  auto c = Parse(OpenAi(""));
  ASSERT_TRUE(c) << c.error().message;
  const ModelSpec& m = c->models[0];
  EXPECT_EQ(m.timeout.count(), 600'000);
  EXPECT_EQ(m.connect_timeout.count(), 10'000);
  EXPECT_EQ(m.first_byte_timeout.count(), 60'000);
  EXPECT_EQ(m.idle_timeout.count(), 60'000);
  EXPECT_FALSE(m.temperature);
  EXPECT_FALSE(m.top_p);
  EXPECT_FALSE(m.max_tokens);
  EXPECT_TRUE(m.stop.empty());
  EXPECT_TRUE(m.headers.empty());
  EXPECT_TRUE(m.params.empty());
}

TEST(ModelKeys, ReadsEveryKey) {
  auto c = Parse(OpenAi(R"(
      "timeout_ms": 90000, "connect_timeout_ms": 2000, "first_byte_timeout_ms": 15000,
      "idle_timeout_ms": 5000, "temperature": 0.7, "top_p": 1, "max_tokens": 512,
      "stop": ["\n\n", "END"],
      "headers": {"X-Org": {"env": "ORG_ID"}, "X-Team": "search", "X-Empty": {"env": "EMPTY"}},
      "params": {"seed": 7, "max_completion_tokens": 256, "metadata": {"a": 1}})"));
  ASSERT_TRUE(c) << c.error().message;
  const ModelSpec& m = c->models[0];
  EXPECT_EQ(m.timeout.count(), 90'000);
  EXPECT_EQ(m.connect_timeout.count(), 2'000);
  EXPECT_EQ(m.first_byte_timeout.count(), 15'000);
  EXPECT_EQ(m.idle_timeout.count(), 5'000);
  EXPECT_EQ(m.temperature, 0.7);
  EXPECT_EQ(m.top_p, 1.0);
  EXPECT_EQ(m.max_tokens, 512);
  EXPECT_EQ(m.stop, (std::vector<std::string>{"\n\n", "END"}));
  ASSERT_EQ(m.headers.size(), 3u);
  EXPECT_EQ(m.headers[0].name, "X-Org");
  EXPECT_EQ(m.headers[0].value, "org-42");
  EXPECT_EQ(m.headers[0].env, "ORG_ID");
  EXPECT_EQ(m.headers[1].name, "X-Team");
  EXPECT_EQ(m.headers[1].value, "search");
  EXPECT_EQ(m.headers[1].env, "");
  EXPECT_EQ(m.headers[2].value, "");
  EXPECT_EQ(m.params, (boost::json::object{{"seed", 7}, {"max_completion_tokens", 256}, {"metadata", {{"a", 1}}}}));
}

TEST(ModelKeys, StopMayBeOneString) {
  auto c = Parse(OpenAi(R"("stop": "END")"));
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->models[0].stop, std::vector<std::string>{"END"});
}

TEST(ModelKeys, MockTakesSamplingSettingsButNoHttpOnes) {
  auto c = Parse(R"({"models": [{"name": "m", "provider": "mock", "temperature": 0, "max_tokens": 5,
                                 "params": {"seed": 1}}]})");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->models[0].temperature, 0.0);
  EXPECT_EQ(ErrorOf(R"({"models": [{"name": "m", "provider": "mock", "headers": {}}]})"),
            "models[0].headers: not used by provider mock");
  EXPECT_EQ(ErrorOf(R"({"models": [{"name": "m", "provider": "mock", "idle_timeout_ms": 5}]})"),
            "models[0].idle_timeout_ms: not used by provider mock");
}

TEST(ModelKeys, BadValuesNameTheKey) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"("temperature": "hot")", "models[0].temperature: expected a number"},
      {R"("temperature": 3)", "models[0].temperature: must be between 0 and 2, got 3"},
      {R"("temperature": -0.5)", "models[0].temperature: must be between 0 and 2, got -0.5"},
      {R"("top_p": 1.5)", "models[0].top_p: must be between 0 and 1, got 1.5"},
      {R"("top_p": null)", "models[0].top_p: expected a number"},
      {R"("max_tokens": 0)", "models[0].max_tokens: must be between 1 and 10000000, got 0"},
      {R"("max_tokens": 1.5)", "models[0].max_tokens: expected an integer"},
      {R"("stop": 5)", "models[0].stop: expected a string or an array of strings"},
      {R"("stop": ["a", 1])", "models[0].stop[1]: expected a string"},
      {R"("stop": [""])", "models[0].stop[0]: must not be empty"},
      {R"("idle_timeout_ms": 0)", "models[0].idle_timeout_ms: must be between 1 and 3600000, got 0"},
      {R"("first_byte_timeout_ms": "5s")", "models[0].first_byte_timeout_ms: expected an integer"},
      {R"("connect_timeout_ms": -1)", "models[0].connect_timeout_ms: must be between 1 and 3600000, got -1"},
      {R"("headers": ["X-A"])", "models[0].headers: expected an object of header name -> value"},
      {R"("headers": {"X-A": 5})", R"(models[0].headers.X-A: expected a string or {"env": "VARIABLE"})"},
      {R"("headers": {"X-A": {"env": "NOPE_UNSET"}})",
       "models[0].headers.X-A.env: environment variable NOPE_UNSET is not set"},
      {R"("headers": {"X-A": {"env": "ORG_ID", "default": "x"}})",
       R"(models[0].headers.X-A: expected a string or {"env": "VARIABLE"})"},
      {R"("headers": {"X A": "v"})", "models[0].headers.X A: not a valid HTTP header name"},
      {R"("headers": {"X-A": "v\r\nX-B: w"})", "models[0].headers.X-A: the value must be one line"},
      {R"("headers": {"Content-Length": "5"})", "models[0].headers.Content-Length: set by agentd; cannot be configured"},
      {R"("params": [1])", "models[0].params: expected an object"},
      {R"("params": {"stream": false})", "models[0].params.stream: set by agentd; cannot be overridden"},
      {R"("params": {"messages": []})", "models[0].params.messages: set by agentd; cannot be overridden"},
      {R"("params": {"temperature": 1})", "models[0].params.temperature: use models[0].temperature instead"},
      {R"("params": {"stop_sequences": ["x"]})", "models[0].params.stop_sequences: use models[0].stop instead"},
      {R"("base_url": "${NOPE_UNSET}/v1")",
       "models[0].base_url: environment variable NOPE_UNSET is not set (write ${NOPE_UNSET:-default} for a default)"},
      {R"("base_url": "${UPSTREAM")", "models[0].base_url: unterminated ${"},
      {R"("base_url": "${1X}/v1")", R"(models[0].base_url: "${1X}" does not name an environment variable)"},
  };
  for (const auto& [extra, message] : cases) {
    SCOPED_TRACE(extra);
    const std::string error = ErrorOf(OpenAi(extra));
    EXPECT_EQ(error.substr(0, message.size()), message) << error;
    EXPECT_EQ(error.find('\n'), std::string::npos);
  }
  EXPECT_EQ(ErrorOf(R"({"models": [{"name": "c", "provider": "anthropic", "model": "claude",
                                    "api_key_env": "SET_KEY", "temperature": 1.5}]})"),
            "models[0].temperature: must be between 0 and 1, got 1.5");
}

TEST(ModelKeys, UrlsTakeEnvironmentVariablesWithDefaults) {
  auto c = Parse(R"({
    "models": [{"name": "m", "provider": "openai", "model": "gpt", "api_key_env": "SET_KEY",
                "base_url": "${UPSTREAM}/v1"},
               {"name": "d", "provider": "openai", "model": "gpt", "api_key_env": "SET_KEY",
                "base_url": "${NOPE_UNSET:-http://127.0.0.1:18787}/v1"},
               {"name": "e", "provider": "openai", "model": "gpt", "api_key_env": "SET_KEY",
                "base_url": "${EMPTY:-http://fallback}/v1"}],
    "tools": [{"name": "t", "kind": "http", "url": "${UPSTREAM:-http://x}/tools/t"}]
  })");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->models[0].base_url, "http://10.0.0.7:9000/v1");
  EXPECT_EQ(c->models[1].base_url, "http://127.0.0.1:18787/v1");
  EXPECT_EQ(c->models[2].base_url, "http://fallback/v1");
  EXPECT_EQ(c->tools[0].url, "http://10.0.0.7:9000/tools/t");
  EXPECT_EQ(ErrorOf(R"({"tools": [{"name": "t", "kind": "http", "url": "${NOPE_UNSET}/t"}]})"),
            "tools[0].url: environment variable NOPE_UNSET is not set (write ${NOPE_UNSET:-default} for a default)");
}

TEST(ModelKeys, DumpShowsTheKeysButNotHeaderValuesFromTheEnvironment) {
  auto c = Parse(OpenAi(R"("temperature": 0.5, "stop": "END",
                          "headers": {"X-Org": {"env": "ORG_ID"}, "X-Team": "search"},
                          "params": {"seed": 7})"));
  ASSERT_TRUE(c) << c.error().message;
  const std::string dump = DumpEffective(*c);
  EXPECT_NE(dump.find(R"("temperature": 5E-1)"), std::string::npos) << dump;
  EXPECT_NE(dump.find(R"("idle_timeout_ms": 60000)"), std::string::npos) << dump;
  EXPECT_NE(dump.find(R"("stop": ["END"])"), std::string::npos) << dump;
  EXPECT_NE(dump.find(R"("env": "ORG_ID")"), std::string::npos) << dump;
  EXPECT_NE(dump.find(R"("X-Team": "search")"), std::string::npos) << dump;
  EXPECT_NE(dump.find(R"("seed": 7)"), std::string::npos) << dump;
  EXPECT_EQ(dump.find("org-42"), std::string::npos) << dump;
  // The dump is itself a valid config file that gives the same model back.
  auto again = Parse(dump);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->models[0].headers[0].value, "org-42");
  EXPECT_EQ(again->models[0].temperature, 0.5);
}

}  // namespace
}  // namespace agentd::config
