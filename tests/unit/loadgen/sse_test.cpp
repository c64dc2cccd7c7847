#include "loadgen/sse.hpp"

#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace agentd::loadgen {
namespace {

using Events = std::vector<std::pair<std::string, std::string>>;

Events Decode(const std::vector<std::string>& pieces) {
  Events out;
  SseDecoder d([&](std::string_view n, std::string_view data) { out.emplace_back(n, data); });
  for (const auto& p : pieces) d.Feed(p);
  return out;
}

TEST(SseDecoderTest, EventsSplitAcrossReadsAreReassembled) {
  auto e = Decode({"event: metadata\nda", "ta: {\"a\":1}\nid: 0\n", "\nevent: values\r\ndata: [1]\r\n\r\n"});
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0], (std::pair<std::string, std::string>{"metadata", "{\"a\":1}"}));
  EXPECT_EQ(e[1], (std::pair<std::string, std::string>{"values", "[1]"}));
}

TEST(SseDecoderTest, CommentsAndBareBlankLinesAreNotEvents) {
  auto e = Decode({": hb\n\n\n", "data: {\n", "data: }\n\n"});
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].first, "message");
  EXPECT_EQ(e[0].second, "{}");
}

TEST(SseDecoderTest, AnUnterminatedEventIsNotReported) {
  EXPECT_TRUE(Decode({"event: values\ndata: 1\n"}).empty());
}

}  // namespace
}  // namespace agentd::loadgen
