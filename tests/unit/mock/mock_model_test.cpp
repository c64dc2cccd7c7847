#include "mock/mock_model.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

namespace agentd::mock {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;

json::object Request(std::string_view text) { return json::parse(text).as_object(); }

constexpr std::string_view kTools =
    R"("tools":[{"type":"function","function":{"name":"get_weather"}},{"type":"function","function":{"name":"b"}}])";

TEST(MockReply, EchoesTheLastUserMessageWithTextPartsJoined) {
  const auto r = ComputeReply(
      Request(R"({"messages":[{"role":"user","content":[{"type":"text","text":"a"},"b"]},{"role":"assistant","content":"x"}]})"),
      {});
  EXPECT_EQ(r.kind, ReplyKind::kText);
  EXPECT_EQ(r.text, "echo: ab");
  EXPECT_EQ(r.finish_reason(), "stop");
}

TEST(MockReply, CallsTheFirstToolWhenAskedAboutWeather) {
  const auto r = ComputeReply(
      Request(std::string(R"({"messages":[{"role":"user","content":"Weather in Rome?"}],)") +
              std::string(kTools) + "}"),
      {});
  ASSERT_EQ(r.kind, ReplyKind::kToolCall);
  EXPECT_EQ(r.tool_name, "get_weather");
  EXPECT_EQ(r.tool_arguments, R"({"city":"paris"})");
  EXPECT_EQ(r.call_id, "call_" + r.hash);
  EXPECT_EQ(r.finish_reason(), "tool_calls");
}

TEST(MockReply, EchoesWeatherQuestionWhenNoToolsAreOffered) {
  const auto r = ComputeReply(Request(R"({"messages":[{"role":"user","content":"weather?"}]})"), {});
  EXPECT_EQ(r.kind, ReplyKind::kText);
  EXPECT_EQ(r.text, "echo: weather?");
}

TEST(MockReply, EchoesAToolResultWhenItIsTheLastMessage) {
  const auto r = ComputeReply(
      Request(std::string(R"({"messages":[{"role":"user","content":"weather?"},{"role":"tool","content":"sunny in paris"}],)") +
              std::string(kTools) + "}"),
      {});
  EXPECT_EQ(r.kind, ReplyKind::kText);
  EXPECT_EQ(r.text, "echo: sunny in paris");
}

TEST(MockReply, IdsDependOnlyOnTheMessages) {
  const auto a = ComputeReply(Request(R"({"model":"x","messages":[{"role":"user","content":"hi"}]})"), {});
  const auto b = ComputeReply(Request(R"({"model":"y","stream":true,"messages":[{"role":"user","content":"hi"}]})"), {});
  const auto c = ComputeReply(Request(R"({"messages":[{"role":"user","content":"hi!"}]})"), {});
  EXPECT_EQ(a.completion_id, b.completion_id);
  EXPECT_NE(a.completion_id, c.completion_id);
  EXPECT_EQ(a.completion_id.size(), std::string("chatcmpl-").size() + 24);
}

TEST(MockReply, SplitsIntoConfiguredChunksAndCountsUsage) {
  MockOptions options;
  options.chunks = 2;
  const auto r = ComputeReply(Request(R"({"messages":[{"role":"user","content":"abcd"}]})"), options);
  EXPECT_EQ(r.pieces, (std::vector<std::string>{"echo:", " abcd"}));
  EXPECT_EQ(r.usage.completion_tokens, 2);
  // JSON.stringify(messages) = [{"role":"user","content":"abcd"}] = 34 chars -> 9 tokens.
  EXPECT_EQ(r.usage.prompt_tokens, 9);
  EXPECT_EQ(r.usage.total_tokens, 11);
}

TEST(MockLatency, DelayWinsOverSlowAndIsReadFromTheLastUserMessage) {
  MockOptions options;
  options.base_latency = milliseconds(5);
  options.slow_latency = milliseconds(700);
  auto latency = [&](std::string_view messages) { return LatencyFor(json::parse(messages), options); };
  EXPECT_EQ(latency(R"([{"role":"user","content":"hi"}])"), milliseconds(5));
  EXPECT_EQ(latency(R"([{"role":"user","content":"be SLOW"}])"), milliseconds(705));
  EXPECT_EQ(latency(R"([{"role":"user","content":"slow delay=40"}])"), milliseconds(45));
  EXPECT_EQ(latency(R"([{"role":"user","content":"delay=40ms"}])"), milliseconds(5));
  EXPECT_EQ(latency(R"([{"role":"user","content":"slow"},{"role":"tool","content":"x"}])"), milliseconds(705));
}

TEST(MockLatency, SpreadsEvenlyBeforeEachContentPiece) {
  MockOptions options;
  options.chunks = 4;
  const auto request = Request(R"({"messages":[{"role":"user","content":"abcdefgh delay=100"}]})");
  const auto reply = ComputeReply(request, options);
  ASSERT_EQ(reply.pieces.size(), 4u);
  EXPECT_EQ(reply.PieceDelay(), std::chrono::microseconds(25'000));
  const auto frames = RenderStream(request, reply);
  ASSERT_EQ(frames.size(), 7u);  // role, 4 pieces, finish, [DONE]
  std::chrono::microseconds total{0};
  for (const auto& f : frames) total += f.delay_before;
  EXPECT_EQ(total, std::chrono::microseconds(100'000));
  EXPECT_EQ(frames.front().delay_before.count(), 0);
  EXPECT_EQ(frames.back().bytes, "data: [DONE]\n\n");
}

TEST(DemoTool, AnswersSunnyInTheCity) {
  EXPECT_EQ(GetWeather("Oslo"), "sunny in Oslo");
  EXPECT_EQ(GetWeatherFromBody(R"({"city":"Rome"})"), "sunny in Rome");
  EXPECT_EQ(GetWeatherFromBody(""), "sunny in ");
  EXPECT_EQ(GetWeatherFromBody("{oops"), std::nullopt);
}

}  // namespace
}  // namespace agentd::mock
