#include "runtime/providers/openai_stream.hpp"

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "openai_testdata.hpp"
#include "stream_test_util.hpp"

namespace agentd::runtime::providers {
namespace {

using testing::kOpenAiTextStream;
using testing::kOpenAiToolStream;
using testing::RunSlices;
using testing::SameForEverySlicing;

std::unique_ptr<ChatStreamDecoder> MakeOpenAi() { return std::make_unique<OpenAiStreamDecoder>(); }

std::string RunOpenAi(std::string_view bytes, SseParserOptions options = {}) {
  return RunSlices(MakeOpenAi, {bytes}, options);
}

TEST(OpenAiStream, RecordedTextReplyAssemblesUnderEverySlicing) {
  std::string whole;
  ASSERT_TRUE(SameForEverySlicing(MakeOpenAi, kOpenAiTextStream, &whole));
  EXPECT_EQ(whole, R"(start chatcmpl-64e95a1abd348f2419f71ee4
text "ech"
text "o: "
text "hel"
text "lo "
text "the"
text "re"
finish stop
usage 11 6
result id=chatcmpl-64e95a1abd348f2419f71ee4 finish=stop text="echo: hello there" usage=11/6)");
}

TEST(OpenAiStream, RecordedToolCallReplyAssemblesUnderEverySlicing) {
  std::string whole;
  ASSERT_TRUE(SameForEverySlicing(MakeOpenAi, kOpenAiToolStream, &whole));
  EXPECT_EQ(whole, R"(start chatcmpl-e3ad9cd37fbea14e211a2537
call_start 0 call_e3ad9cd37fbea14e211a2537 get_weather
call_args 0 "{\""
call_args 0 "ci"
call_args 0 "ty"
call_args 0 "\":"
call_args 0 "\"p"
call_args 0 "ar"
call_args 0 "is"
call_args 0 "\"}"
finish tool_calls
usage 13 8
result id=chatcmpl-e3ad9cd37fbea14e211a2537 finish=tool_calls text="" usage=13/8
  call call_e3ad9cd37fbea14e211a2537 get_weather "{\"city\":\"paris\"}")");
}

// Two parallel calls whose pieces interleave, as OpenAI sends them, with CRLF line ends and a
// keep-alive comment. Calls are assembled by `index`, not by arrival order.
constexpr std::string_view kParallelCalls =
    "data: {\"id\":\"chatcmpl-par\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","
    "\"content\":null,\"tool_calls\":[{\"index\":0,\"id\":\"call_a\",\"type\":\"function\","
    "\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}]},\"finish_reason\":null}]}\r\n\r\n"
    "data: {\"id\":\"chatcmpl-par\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,"
    "\"function\":{\"arguments\":\"{\\\"city\\\":\"}}]},\"finish_reason\":null}]}\r\n\r\n"
    ": keep-alive\r\n\r\n"
    "data: {\"id\":\"chatcmpl-par\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1,"
    "\"id\":\"call_b\",\"type\":\"function\",\"function\":{\"name\":\"get_time\",\"arguments\":"
    "\"{\\\"tz\\\":\"}}]},\"finish_reason\":null}]}\r\n\r\n"
    "data: {\"id\":\"chatcmpl-par\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,"
    "\"function\":{\"arguments\":\"\\\"oslo\\\"}\"}},{\"index\":1,\"function\":{\"arguments\":"
    "\"\\\"UTC\\\"}\"}}]},\"finish_reason\":null}]}\r\n\r\n"
    "data: {\"id\":\"chatcmpl-par\",\"choices\":[{\"index\":0,\"delta\":{},"
    "\"finish_reason\":\"tool_calls\"}]}\r\n\r\n"
    "data: [DONE]\r\n\r\n";

TEST(OpenAiStream, ParallelToolCallsAssembleByIndex) {
  std::string whole;
  ASSERT_TRUE(SameForEverySlicing(MakeOpenAi, kParallelCalls, &whole));
  EXPECT_EQ(whole, R"(start chatcmpl-par
call_start 0 call_a get_weather
call_args 0 "{\"city\":"
call_start 1 call_b get_time
call_args 1 "{\"tz\":"
call_args 0 "\"oslo\"}"
call_args 1 "\"UTC\"}"
finish tool_calls
result id=chatcmpl-par finish=tool_calls text=""
  call call_a get_weather "{\"city\":\"oslo\"}"
  call call_b get_time "{\"tz\":\"UTC\"}")");
}

TEST(OpenAiStream, TextAndToolCallInOneReplyAndNoArgumentsBecomeEmptyObject) {
  constexpr std::string_view kBytes =
      "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Let me check.\"}}]}\n\n"
      "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,"
      "\"id\":\"call_1\",\"function\":{\"name\":\"now\"}}]}}]}\n\n"
      "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}],"
      "\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2,\"total_tokens\":7}}\n\n"
      "data: [DONE]\n\n";
  EXPECT_EQ(RunOpenAi(kBytes), R"(start c1
text "Let me check."
call_start 0 call_1 now
finish tool_calls
usage 5 2
result id=c1 finish=tool_calls text="Let me check." usage=5/2
  call call_1 now "{}")");
}

TEST(OpenAiStream, ErrorObjectInAChunkIsAnErrorWithItsMessage) {
  constexpr std::string_view kBytes =
      "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n"
      "data: {\"error\":{\"message\":\"The server had an error while processing your request.\","
      "\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n"
      "data: [DONE]\n\n";
  EXPECT_EQ(RunOpenAi(kBytes), R"(start c1
text "Hi"
error unavailable: openai error (server_error): The server had an error while processing your request.)");
}

TEST(OpenAiStream, RateLimitErrorIsResourceExhausted) {
  constexpr std::string_view kBytes =
      "data: {\"error\":{\"message\":\"Rate limit reached\",\"type\":\"requests\","
      "\"code\":\"rate_limit_exceeded\"}}\n\n";
  EXPECT_EQ(RunOpenAi(kBytes), "error resource_exhausted: openai error (requests): Rate limit reached");
}

TEST(OpenAiStream, MalformedJsonChunkIsAnInternalErrorAndSticks) {
  OpenAiStreamDecoder decoder;
  std::vector<StreamDelta> out;
  SseEvent good;
  good.data = R"({"id":"c1","choices":[{"index":0,"delta":{"content":"Hi"}}]})";
  ASSERT_TRUE(decoder.Decode(good, out));
  SseEvent bad;
  bad.data = R"({"id":"c1","choices":[{"index":0,"delta":{"content":"Hi")";
  Status status = decoder.Decode(bad, out);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, Errc::kInternal);
  EXPECT_NE(status.error().message.find("openai: malformed JSON"), std::string::npos)
      << status.error().message;
  EXPECT_FALSE(decoder.Decode(good, out));  // stays failed
  EXPECT_EQ(out.size(), 2u);  // the reply id, then "Hi": nothing from the bad chunk
  auto result = decoder.TakeResult();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, Errc::kInternal);
}

TEST(OpenAiStream, ChunkThatIsNotAnObjectIsAnError) {
  EXPECT_EQ(RunOpenAi("data: [1,2]\n\n"), "error internal: openai: expected a JSON object from provider");
}

TEST(OpenAiStream, OverLongLineIsAnErrorNotGrowth) {
  SseParserOptions options;
  options.max_line_bytes = 64;
  EXPECT_EQ(RunOpenAi(kOpenAiTextStream, options), "error resource_exhausted: sse line exceeds 64 bytes");
}

TEST(OpenAiStream, StreamCutBeforeDoneIsNotAResult) {
  const std::string_view cut = kOpenAiTextStream.substr(0, kOpenAiTextStream.find("data: [DONE]"));
  const std::string got = RunOpenAi(cut);
  EXPECT_EQ(got.substr(got.rfind('\n') + 1),
            "error unavailable: openai: stream ended before [DONE]");
}

TEST(OpenAiStream, EventsAfterDoneAreIgnored) {
  std::string bytes(kOpenAiTextStream);
  bytes += "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"late\"}}]}\n\ndata: {oops\n\n";
  EXPECT_EQ(RunOpenAi(bytes), RunOpenAi(kOpenAiTextStream));
}

TEST(OpenAiStream, ChoicesOtherThanTheFirstAreIgnored) {
  constexpr std::string_view kBytes =
      "data: {\"id\":\"c\",\"choices\":[{\"index\":1,\"delta\":{\"content\":\"no\"}},"
      "{\"index\":0,\"delta\":{\"content\":\"yes\"},\"finish_reason\":\"stop\"}]}\n\n"
      "data: [DONE]\n\n";
  EXPECT_EQ(RunOpenAi(kBytes), R"(start c
text "yes"
finish stop
result id=c finish=stop text="yes")");
}

}  // namespace
}  // namespace agentd::runtime::providers
