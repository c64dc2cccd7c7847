#include "common/uuid.hpp"

#include <gtest/gtest.h>

namespace agentd {
namespace {

TEST(Uuid, SystemAssistantIdMatchesTheReferenceServer) {
  // Captured from the reference server (agent-protocol.md 1.3).
  EXPECT_EQ(SystemAssistantId("agent"), "fe096781-5601-53d2-b2f6-0d3403f7e9ca");
}

TEST(Uuid, Version4IsWellFormedAndRandom) {
  std::string a = NewUuid4(), b = NewUuid4();
  EXPECT_TRUE(IsUuid(a));
  EXPECT_EQ(a[14], '4');
  EXPECT_NE(a, b);
}

TEST(Uuid, Version7SortsInCreationOrder) {
  std::string prev = NewUuid7();
  for (int i = 0; i < 10000; ++i) {
    std::string next = NewUuid7();
    ASSERT_LT(prev, next);
    ASSERT_EQ(next[14], '7');
    prev = next;
  }
}

TEST(Uuid, RejectsMalformedIds) {
  EXPECT_FALSE(IsUuid("not-a-uuid"));
  EXPECT_FALSE(IsUuid("fe096781-5601-53d2-b2f6-0d3403f7e9c"));
  EXPECT_FALSE(IsUuid("fe096781x5601-53d2-b2f6-0d3403f7e9ca"));
  EXPECT_FALSE(IsUuid("ge096781-5601-53d2-b2f6-0d3403f7e9ca"));
  EXPECT_TRUE(IsUuid("FE096781-5601-53D2-B2F6-0D3403F7E9CA"));
}

}  // namespace
}  // namespace agentd
