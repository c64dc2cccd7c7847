#include "runtime/messages.hpp"

#include <random>

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

// The linear fold must agree with applying the writes one by one (the reducer's definition)
// on any mix of appends, replacements, removals, remove-all and id-less messages.
TEST(FoldMessages, AgreesWithApplyingWritesOneByOne) {
  std::mt19937 rng(7);
  for (int round = 0; round < 200; ++round) {
    json::array writes;
    const int count = static_cast<int>(rng() % 40);
    for (int i = 0; i < count; ++i) {
      const std::string id = "m" + std::to_string(rng() % 8);
      switch (rng() % 6) {
        case 0:
          writes.push_back(json::object{{"type", "remove"}, {"id", id}});
          break;
        case 1:
          if (rng() % 4 == 0) writes.push_back(json::object{{"type", "remove"}, {"id", "__remove_all__"}});
          break;
        case 2:
          writes.push_back(json::object{{"type", "ai"}, {"content", std::to_string(i)}});
          break;
        case 3:
          writes.push_back(json::array{json::object{{"type", "human"}, {"id", id}, {"content", std::to_string(i)}},
                                       json::object{{"type", "remove"}, {"id", id}}});
          break;
        default:
          writes.push_back(json::object{{"type", "human"}, {"id", id}, {"content", std::to_string(i)}});
      }
    }
    json::array one_by_one;
    for (const auto& w : writes) ApplyMessageWrite(one_by_one, w);
    ASSERT_EQ(FoldMessages(writes), one_by_one) << ToJson(writes);
  }
}

}  // namespace
}  // namespace agentd::runtime
