#include "runtime/messages.hpp"

#include <gtest/gtest.h>

#include "common/json.hpp"

namespace agentd::runtime {
namespace {

json::array Writes(std::string_view text) { return ParseJson(text)->as_array(); }

TEST(FoldMessages, AppendsInOrder) {
  auto out = FoldMessages(Writes(R"([{"id":"1","type":"human","content":"a"},
                                     {"id":"2","type":"ai","content":"b"}])"));
  EXPECT_EQ(ToJson(out),
            R"([{"id":"1","type":"human","content":"a"},{"id":"2","type":"ai","content":"b"}])");
}

TEST(FoldMessages, ReplacesMessageWithSameIdInPlace) {
  auto out = FoldMessages(Writes(R"([{"id":"1","content":"a"},{"id":"2","content":"b"},
                                     {"id":"1","content":"A"}])"));
  EXPECT_EQ(ToJson(out), R"([{"id":"1","content":"A"},{"id":"2","content":"b"}])");
}

TEST(FoldMessages, RemoveDeletesById) {
  auto out = FoldMessages(Writes(R"([{"id":"1","content":"a"},{"id":"2","content":"b"},
                                     {"id":"1","type":"remove"},{"id":"zz","type":"remove"}])"));
  EXPECT_EQ(ToJson(out), R"([{"id":"2","content":"b"}])");
}

TEST(FoldMessages, RemoveAllEmptiesTheList) {
  auto out = FoldMessages(Writes(R"([{"id":"1","content":"a"},{"id":"2","content":"b"},
                                     {"id":"__remove_all__","type":"remove"},
                                     {"id":"3","content":"c"}])"));
  EXPECT_EQ(ToJson(out), R"([{"id":"3","content":"c"}])");
}

TEST(FoldMessages, ArrayWritesApplyElementwiseAndIdlessMessagesAppend) {
  auto out = FoldMessages(Writes(R"([[{"content":"x"},{"id":"1","content":"a"}],
                                     {"content":"y"}, 5, "junk",
                                     [{"id":"1","content":"b"}]])"));
  EXPECT_EQ(ToJson(out), R"([{"content":"x"},{"id":"1","content":"b"},{"content":"y"}])");
}

TEST(FoldMessages, EmptyWritesGiveEmptyList) {
  EXPECT_TRUE(FoldMessages(json::array{}).empty());
}

}  // namespace
}  // namespace agentd::runtime
