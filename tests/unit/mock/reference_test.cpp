// Compares the mock model with responses recorded from the reference implementation
// (node /work/shared/peer/mock-llm.mjs, default options: 8 chunks, no latency). The recorder
// script and how to re-run it are described in testdata/README.md.

#include <fstream>
#include <sstream>
#include <string>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "mock/mock_model.hpp"

namespace agentd::mock {
namespace {

namespace json = boost::json;

json::array LoadReference() {
  std::ifstream in(std::string(AGENTD_MOCK_TESTDATA) + "/reference.json");
  std::stringstream buffer;
  buffer << in.rdbuf();
  return json::parse(buffer.str()).as_array();
}

std::string Render(const json::object& request) {
  const MockReply reply = ComputeReply(request, MockOptions{});
  if (!Truthy(request.if_contains("stream"))) return RenderCompletion(request, reply);
  std::string body;
  for (const auto& frame : RenderStream(request, reply)) body += frame.bytes;
  return body;
}

TEST(MockReference, EveryRecordedCompletionMatchesByteForByte) {
  const json::array cases = LoadReference();
  ASSERT_GE(cases.size(), 15u);
  int compared = 0;
  for (const auto& c : cases) {
    const auto& obj = c.as_object();
    const std::string name(obj.at("name").as_string());
    if (name == "get_weather" || name == "models") continue;
    SCOPED_TRACE(name);
    const json::object request = json::parse(obj.at("request").as_string()).as_object();
    EXPECT_EQ(Render(request), obj.at("response").as_string());
    ++compared;
  }
  EXPECT_GE(compared, 15);
}

TEST(MockReference, DemoToolAndModelListMatch) {
  for (const auto& c : LoadReference()) {
    const auto& obj = c.as_object();
    const std::string_view name = obj.at("name").as_string();
    if (name == "get_weather") {
      EXPECT_EQ(GetWeatherFromBody(obj.at("request").as_string()), std::string(obj.at("response").as_string()));
    } else if (name == "models") {
      EXPECT_EQ(RenderModels(), obj.at("response").as_string());
    }
  }
}

}  // namespace
}  // namespace agentd::mock
