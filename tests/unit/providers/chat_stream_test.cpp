#include "runtime/providers/chat_stream.hpp"

#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/providers/openai_stream.hpp"
#include "stream_test_util.hpp"

namespace agentd::runtime::providers {
namespace {

TEST(ChatAssembler, FoldsDeltasAndNormalisesMissingArguments) {
  ChatAssembler assembler;
  assembler.SetId("r1");
  assembler.Apply(TextDelta{"a"});
  assembler.Apply(ToolCallStart{1, "c2", "g"});  // out of order: the list grows to fit
  assembler.Apply(ToolCallStart{0, "c1", "f"});
  assembler.Apply(ToolCallArgsDelta{1, "{\"x\":"});
  assembler.Apply(ToolCallArgsDelta{1, "1}"});
  assembler.Apply(TextDelta{"b"});
  assembler.Apply(Usage{1, 2});
  assembler.Apply(Usage{1, 5});
  assembler.Apply(Finish{"tool_calls"});
  EXPECT_EQ(testing::Render(assembler.Take()), R"(result id=r1 finish=tool_calls text="ab" usage=1/5
  call c1 f "{}"
  call c2 g "{\"x\":1}")");
  EXPECT_EQ(assembler.result(), ChatResult{});  // Take leaves it empty
}

TEST(ChatStream, StaysFailedAfterADecoderError) {
  ChatStream stream(std::make_unique<OpenAiStreamDecoder>());
  std::vector<StreamDelta> deltas;
  ASSERT_FALSE(stream.Feed("data: {bad\n\n", deltas));
  Status again = stream.Feed("data: [DONE]", deltas);  // no complete event in this slice
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::kInternal);
  EXPECT_FALSE(stream.done());
}

TEST(ChatStream, DecodesEventsCompletedBeforeAnSseError) {
  SseParserOptions options;
  options.max_line_bytes = 80;
  ChatStream stream(std::make_unique<OpenAiStreamDecoder>(), options);
  std::vector<StreamDelta> deltas;
  const std::string bytes = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"ok\"}}]}\n\n"
                            "data: " + std::string(100, 'x');
  Status status = stream.Feed(bytes, deltas);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, Errc::kResourceExhausted);
  ASSERT_EQ(deltas.size(), 1u);
  EXPECT_EQ(testing::Render(deltas[0]), "text \"ok\"");
  EXPECT_EQ(stream.partial().text, "ok");
}

}  // namespace
}  // namespace agentd::runtime::providers
