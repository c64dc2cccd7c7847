#include "bus/event_log.hpp"

#include <cstdint>
#include <limits>

#include <gtest/gtest.h>

namespace agentd::bus {
namespace {

TEST(EncodeSseFrame, WritesEventDataIdAndBlankLineWithLfOnly) {
  EXPECT_EQ(EncodeSseFrame("metadata", R"({"run_id":"r1","attempt":1})", 0),
            "event: metadata\ndata: {\"run_id\":\"r1\",\"attempt\":1}\nid: 0\n\n");
}

TEST(EncodeSseFrame, WritesIdAsDecimal) {
  EXPECT_EQ(EncodeSseFrame("values", "{}", 1234567), "event: values\ndata: {}\nid: 1234567\n\n");
  EXPECT_EQ(EncodeSseFrame("e", "1", std::numeric_limits<std::uint64_t>::max()),
            "event: e\ndata: 1\nid: 18446744073709551615\n\n");
}

TEST(EncodeSseFrame, KeepsEventNamesWithSlashes) {
  EXPECT_EQ(EncodeSseFrame("messages/partial", "[]", 7),
            "event: messages/partial\ndata: []\nid: 7\n\n");
}

}  // namespace
}  // namespace agentd::bus
