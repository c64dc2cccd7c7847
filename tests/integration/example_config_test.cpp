// examples/agentd.json exactly as its header says: `agentd mock-llm` in the background, then
// `MOCK_LLM_API_KEY=unused agentd serve --config examples/agentd.json`. Only what a user would
// change on a shared machine is changed: both listen on port 0, the mock-llm's address goes to
// serve through MOCK_LLM_URL (the example header documents it), the data dir is a temp dir.
// A weather turn on `remote_agent` must call the HTTP tool `weather_http` at the mock-llm.

#include <string>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "agentd_child.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"

namespace agentd {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using testing::AgentdChild;
using testing::HttpClient;

const std::string kExample = std::string(AGENTD_SOURCE_DIR) + "/examples/agentd.json";

std::string Field(const json::value& v, std::string_view key) {
  const auto* o = v.if_object();
  const auto* f = o ? o->if_contains(key) : nullptr;
  return f && f->is_string() ? std::string(f->get_string()) : std::string();
}

TEST(ExampleConfig, WeatherTurnOnRemoteAgentCallsTheHttpToolAtTheMockLlm) {
  testing::TempDir dir;
  const std::string tmp = dir.path().string();
  AgentdChild mock({AGENTD_BINARY, "mock-llm", "--port", "0"}, {}, tmp + "/mock-llm.log");
  const auto mock_port = mock.WaitListening(20s);
  ASSERT_TRUE(mock_port) << mock.Log();

  AgentdChild serve({AGENTD_BINARY, "serve", "--config", kExample, "--port", "0", "--data-dir",
                     tmp + "/data"},
                    {{"MOCK_LLM_API_KEY", "unused"},
                     {"MOCK_LLM_URL", "http://127.0.0.1:" + std::to_string(*mock_port)}},
                    tmp + "/serve.log");
  const auto port = serve.WaitListening(20s);
  ASSERT_TRUE(port) << serve.Log();

  HttpClient client(*port, "127.0.0.1", 30s);
  const auto reply = client.Post(
      "/runs/wait",
      R"({"assistant_id": "remote_agent",
          "input": {"messages": [{"role": "user", "content": "What's the weather like?"}]}})");
  ASSERT_EQ(reply.status, 200) << reply.body << "\n" << serve.Log();
  const json::value values = json::parse(reply.body);
  ASSERT_TRUE(values.is_object() && values.as_object().contains("messages")) << reply.body;
  const json::array& messages = values.at("messages").as_array();
  ASSERT_EQ(messages.size(), 4u) << reply.body;
  const json::value& call = messages[1].at("tool_calls").at(0);
  EXPECT_EQ(Field(call, "name"), "weather_http") << reply.body;
  EXPECT_EQ(call.at("args"), (json::object{{"city", "paris"}})) << reply.body;
  EXPECT_EQ(Field(messages[2], "type"), "tool") << reply.body;
  EXPECT_EQ(Field(messages[2], "name"), "weather_http") << reply.body;
  EXPECT_EQ(Field(messages[2], "content"), "sunny in paris") << reply.body;
  EXPECT_EQ(Field(messages[3], "content"), "echo: sunny in paris") << reply.body;
  EXPECT_EQ(Field(messages[3].at("response_metadata"), "model_name"), "mock") << reply.body;
}

// The header's commands work as written: without MOCK_LLM_URL the URLs are the mock-llm's
// default address (port 18787, what `agentd mock-llm --port 18787` listens on).
TEST(ExampleConfig, HeaderCommandsUseTheMockLlmDefaultAddress) {
  testing::TempDir dir;
  const std::string tmp = dir.path().string();
  const testing::EnvOverrides env = {{"MOCK_LLM_API_KEY", "unused"}, {"MOCK_LLM_URL", std::nullopt}};
  auto [status, output] = testing::RunToCompletion(
      {AGENTD_BINARY, "config", "--validate", kExample}, env, tmp + "/validate.log", 20s);
  EXPECT_EQ(status, 0) << output;

  auto [dump_status, dump] = testing::RunToCompletion(
      {AGENTD_BINARY, "config", "--config", kExample}, env, tmp + "/dump.log", 20s);
  ASSERT_EQ(dump_status, 0) << dump;
  EXPECT_NE(dump.find(R"("base_url": "http://127.0.0.1:18787/v1")"), std::string::npos) << dump;
  EXPECT_NE(dump.find(R"("url": "http://127.0.0.1:18787/tools/get_weather")"), std::string::npos)
      << dump;
}

}  // namespace
}  // namespace agentd
