#include "runtime/providers/sse_parser.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace agentd::runtime::providers {
namespace {

// Renders events one per line so a test compares everything at once.
std::string Render(const std::vector<SseEvent>& events) {
  std::string out;
  for (const SseEvent& e : events) {
    out += "[" + e.event + "|" + e.data + "|" + e.id + "|" +
           (e.retry ? std::to_string(*e.retry) : std::string("-")) + "]\n";
  }
  return out;
}

std::string ParseSlices(const std::vector<std::string>& slices, SseParserOptions options = {}) {
  SseParser parser(options);
  std::vector<SseEvent> events;
  for (const std::string& s : slices) {
    if (Status st = parser.Feed(s, events); !st) return Render(events) + "error " + st.error().message;
  }
  return Render(events);
}

std::string Parse(const std::string& bytes) { return ParseSlices({bytes}); }

TEST(SseParser, ParsesOneEventPerBlankLine) {
  EXPECT_EQ(Parse("data: one\n\ndata: two\n\n"), "[message|one||-]\n[message|two||-]\n");
}

TEST(SseParser, JoinsMultiLineDataWithLf) {
  EXPECT_EQ(Parse("data: a\ndata: b\ndata:\ndata: c\n\n"), "[message|a\nb\n\nc||-]\n");
}

TEST(SseParser, AcceptsLfCrAndCrlfLineEndsAlike) {
  const std::string expected = "[e|x\ny|7|-]\n[message|z|7|-]\n";
  EXPECT_EQ(Parse("event: e\nid: 7\ndata: x\ndata: y\n\ndata: z\n\n"), expected);
  EXPECT_EQ(Parse("event: e\rid: 7\rdata: x\rdata: y\r\rdata: z\r\r"), expected);
  EXPECT_EQ(Parse("event: e\r\nid: 7\r\ndata: x\r\ndata: y\r\n\r\ndata: z\r\n\r\n"), expected);
  EXPECT_EQ(Parse("event: e\r\nid: 7\rdata: x\ndata: y\r\n\ndata: z\r\r\n"), expected);
}

TEST(SseParser, CrlfSplitAcrossSlicesEndsOnlyOneLine) {
  // Were the LF read as a second (blank) line end, "a" and "b" would be two events.
  EXPECT_EQ(ParseSlices({"data: a\r", "\ndata: b\r\n\r\n"}), "[message|a\nb||-]\n");
  EXPECT_EQ(ParseSlices({"data: a\r", "\n", "\r", "\n"}), "[message|a||-]\n");
}

TEST(SseParser, LoneCrAtSliceEndStillEndsTheLine) {
  EXPECT_EQ(ParseSlices({"data: a\r", "\r"}), "[message|a||-]\n");
}

TEST(SseParser, IgnoresCommentLines) {
  EXPECT_EQ(Parse(": keep-alive\n:\ndata: x\n: inside\n\n: trailing\n\n"), "[message|x||-]\n");
}

TEST(SseParser, StripsOneByteOrderMarkAtStreamStartOnly) {
  EXPECT_EQ(Parse("\xEF\xBB\xBF" "data: x\n\n"), "[message|x||-]\n");
  EXPECT_EQ(ParseSlices({"\xEF", "\xBB", "\xBF" "data: x\n\n"}), "[message|x||-]\n");
  // A second BOM is part of the field name, so the line is an unknown field.
  EXPECT_EQ(Parse("\xEF\xBB\xBF\xEF\xBB\xBF" "data: x\n\ndata: y\n\n"), "[message|y||-]\n");
  // A BOM later in the stream is content.
  EXPECT_EQ(Parse("data: x\n\n\xEF\xBB\xBF" "data: y\n\n"), "[message|x||-]\n");
}

TEST(SseParser, PartialByteOrderMarkIsContent) {
  EXPECT_EQ(ParseSlices({"\xEF", "\xBB" "data: x\n\n"}), "");
  EXPECT_EQ(ParseSlices({"\xEF", "\nda", "ta: x\n\n"}), "[message|x||-]\n");
}

TEST(SseParser, FieldWithoutColonHasEmptyValue) {
  EXPECT_EQ(Parse("data\n\n"), "[message|||-]\n");
  EXPECT_EQ(Parse("data\ndata\n\n"), "[message|\n||-]\n");
  EXPECT_EQ(Parse("event\ndata: x\n\n"), "[message|x||-]\n");
}

TEST(SseParser, RemovesOnlyOneLeadingSpaceOfTheValue) {
  EXPECT_EQ(Parse("data:x\n\ndata: x\n\ndata:  x\n\ndata: x: y\n\n"),
            "[message|x||-]\n[message|x||-]\n[message| x||-]\n[message|x: y||-]\n");
}

TEST(SseParser, EventTypeAppliesToOneEventOnly) {
  EXPECT_EQ(Parse("event: a\ndata: 1\n\ndata: 2\n\n"), "[a|1||-]\n[message|2||-]\n");
}

TEST(SseParser, BlockWithoutDataDispatchesNothingAndResetsType) {
  EXPECT_EQ(Parse("event: a\n\ndata: 1\n\n"), "[message|1||-]\n");
}

TEST(SseParser, LastEventIdPersistsAndNulIdIsIgnored) {
  using namespace std::string_literals;
  EXPECT_EQ(Parse("id: 1\ndata: a\n\ndata: b\n\nid: x\0y\ndata: c\n\nid\ndata: d\n\n"s),
            "[message|a|1|-]\n[message|b|1|-]\n[message|c|1|-]\n[message|d||-]\n");
}

TEST(SseParser, RetryNeedsAsciiDigitsAndBelongsToItsBlock) {
  SseParser parser;
  std::vector<SseEvent> events;
  ASSERT_TRUE(parser.Feed("retry: 1500\n\n", events));
  EXPECT_TRUE(events.empty());  // a retry-only block dispatches no event
  EXPECT_EQ(parser.reconnection_time_ms(), 1500u);
  ASSERT_TRUE(parser.Feed("retry: 12a\ndata: x\n\nretry: 30\ndata: y\n\ndata: z\n\n", events));
  EXPECT_EQ(Render(events), "[message|x||-]\n[message|y||30]\n[message|z||-]\n");
  EXPECT_EQ(parser.reconnection_time_ms(), 30u);
  ASSERT_TRUE(parser.Feed("retry: 99999999999999999999999\ndata: w\n\n", events));
  EXPECT_EQ(parser.reconnection_time_ms(), 30u);  // overflow is invalid, ignored
}

TEST(SseParser, IgnoresUnknownFields) {
  EXPECT_EQ(Parse("foo: bar\ndata: x\nDATA: y\n\n"), "[message|x||-]\n");
}

TEST(SseParser, UnfinishedEventIsHeldBackAndReportedAsPending) {
  SseParser parser;
  std::vector<SseEvent> events;
  EXPECT_TRUE(parser.AtEventBoundary());
  ASSERT_TRUE(parser.Feed("data: x\n", events));
  EXPECT_TRUE(events.empty());
  EXPECT_FALSE(parser.AtEventBoundary());
  ASSERT_TRUE(parser.Feed("\nda", events));
  EXPECT_EQ(Render(events), "[message|x||-]\n");
  EXPECT_FALSE(parser.AtEventBoundary());  // half a line is buffered
  ASSERT_TRUE(parser.Feed("ta: y\n\n: comment\n", events));
  EXPECT_TRUE(parser.AtEventBoundary());
}

TEST(SseParser, LineAtTheLimitIsAcceptedOneByteMoreIsAnError) {
  SseParserOptions options;
  options.max_line_bytes = 10;
  EXPECT_EQ(ParseSlices({"data: 1234\n\n"}, options), "[message|1234||-]\n");
  EXPECT_EQ(ParseSlices({"data: 12345\n\n"}, options), "error sse line exceeds 10 bytes");
  // Growth is caught while the line is still unfinished, across slices.
  EXPECT_EQ(ParseSlices({"data: 1", "234", "5"}, options), "error sse line exceeds 10 bytes");
}

TEST(SseParser, DefaultLimitRejectsALineOverOneMebibyte) {
  SseParser parser;
  std::vector<SseEvent> events;
  const std::string chunk(64 * 1024, 'x');
  Status status = parser.Feed("data: ", events);
  for (int i = 0; i < 16 && status; ++i) status = parser.Feed(chunk, events);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, Errc::kResourceExhausted);
}

TEST(SseParser, StaysFailedAfterAnError) {
  SseParserOptions options;
  options.max_line_bytes = 4;
  SseParser parser(options);
  std::vector<SseEvent> events;
  ASSERT_FALSE(parser.Feed("data: toolong\n\n", events));
  Status again = parser.Feed("\n\ndata\n\n", events);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::kResourceExhausted);
  EXPECT_TRUE(events.empty());
}

TEST(SseParser, EventDataOverTheLimitIsAnError) {
  SseParserOptions options;
  options.max_event_data_bytes = 5;
  EXPECT_EQ(ParseSlices({"data: ab\ndata: cd\n\n"}, options), "[message|ab\ncd||-]\n");
  EXPECT_EQ(ParseSlices({"data: ab\ndata: cde\n\n"}, options),
            "error sse event data exceeds 5 bytes");
}

TEST(SseParser, EverySlicingGivesTheSameEvents) {
  const std::string bytes =
      "\xEF\xBB\xBF: hi\r\nevent: a\r\nid: 9\r\ndata: one\r\ndata:two\r\n\r\n"
      "retry: 5\rdata\r\rdata: x\n\n\ndata: last\r\n\r\n";
  const std::string expected = Parse(bytes);
  ASSERT_EQ(expected, "[a|one\ntwo|9|-]\n[message||9|5]\n[message|x|9|-]\n[message|last|9|-]\n");
  for (std::size_t split = 0; split <= bytes.size(); ++split) {
    EXPECT_EQ(ParseSlices({bytes.substr(0, split), bytes.substr(split)}), expected)
        << "split at " << split;
  }
  std::vector<std::string> bytewise;
  for (char c : bytes) bytewise.emplace_back(1, c);
  EXPECT_EQ(ParseSlices(bytewise), expected);
}

}  // namespace
}  // namespace agentd::runtime::providers
