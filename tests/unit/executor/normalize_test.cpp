// Input normalisation (agent-protocol.md 7.2) and the in-memory state reducer.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "runtime/messages.hpp"
#include "runtime/state.hpp"

namespace agentd::runtime {
namespace {

json::object Norm(std::string_view text) {
  auto r = NormalizeMessage(json::parse(text));
  EXPECT_TRUE(r) << text << ": " << (r ? "" : r.error().message);
  return r ? *r : json::object{};
}

TEST(NormalizeMessage, MapsRolesToTypes) {
  EXPECT_EQ(Norm(R"({"role":"user","content":"hi"})").at("type"), "human");
  EXPECT_EQ(Norm(R"({"role":"human","content":"hi"})").at("type"), "human");
  EXPECT_EQ(Norm(R"({"role":"assistant","content":"x"})").at("type"), "ai");
  EXPECT_EQ(Norm(R"({"role":"developer","content":"x"})").at("type"), "system");
  EXPECT_EQ(Norm(R"({"role":"system","content":"x"})").at("type"), "system");
  EXPECT_EQ(Norm(R"({"role":"tool","content":"x","tool_call_id":"c1"})").at("type"), "tool");
}

TEST(NormalizeMessage, BuildsTheStoredDictAndKeepsClientId) {
  json::object m = Norm(R"({"type":"human","content":[{"type":"text","text":"hi"}],"id":"c-1"})");
  EXPECT_EQ(json::serialize(m),
            R"({"content":[{"type":"text","text":"hi"}],"additional_kwargs":{},)"
            R"("response_metadata":{},"id":"c-1","type":"human"})");
}

TEST(NormalizeMessage, AssignsUuidAndAiFields) {
  json::object m = Norm(R"({"role":"ai","content":"yo"})");
  EXPECT_EQ(m.at("id").as_string().size(), 36u);
  EXPECT_EQ(m.at("tool_calls"), json::array{});
  EXPECT_EQ(m.at("invalid_tool_calls"), json::array{});
  EXPECT_NE(Norm(R"("a")").at("id"), Norm(R"("a")").at("id"));
}

TEST(NormalizeMessage, AcceptsBareStringAndPair) {
  json::object s = Norm(R"("hello")");
  EXPECT_EQ(s.at("type"), "human");
  EXPECT_EQ(s.at("content"), "hello");
  json::object p = Norm(R"(["assistant","yo"])");
  EXPECT_EQ(p.at("type"), "ai");
  EXPECT_EQ(p.at("content"), "yo");
}

TEST(NormalizeMessage, RejectsInvalidInputNamingTheProblem) {
  auto bad_role = NormalizeMessage(json::parse(R"({"role":"robot","content":"x"})"));
  ASSERT_FALSE(bad_role);
  EXPECT_EQ(bad_role.error().code, Errc::kInvalidArgument);
  EXPECT_NE(bad_role.error().message.find("robot"), std::string::npos);
  auto no_call = NormalizeMessage(json::parse(R"({"role":"tool","content":"x"})"));
  ASSERT_FALSE(no_call);
  EXPECT_NE(no_call.error().message.find("tool_call_id"), std::string::npos);
  EXPECT_FALSE(NormalizeMessage(json::parse(R"({"role":"user"})")));
  EXPECT_FALSE(NormalizeMessage(json::parse("42")));
  auto list = NormalizeMessages(json::parse(R"(["ok", {"type":"nope","content":""}])"));
  ASSERT_FALSE(list);
  EXPECT_NE(list.error().message.find("messages[1]"), std::string::npos);
}

TEST(GraphState, AppliesMessagesWithReducerAndOtherKeysAsLastValue) {
  GraphState state;
  auto a = ApplyUpdate(state, json::parse(R"({"messages":[{"role":"user","content":"a","id":"1"}],"k":1})"));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->message_writes.size(), 1u);
  ASSERT_TRUE(ApplyUpdate(state, json::parse(R"({"messages":{"type":"ai","content":"b","id":"1"},"k":2})")));
  EXPECT_EQ(state.messages.size(), 1u);  // replaced by id
  EXPECT_EQ(state.messages[0].at("content"), "b");
  EXPECT_EQ(state.channels.at("k"), 2);
  ASSERT_TRUE(ApplyUpdate(state, json::parse(R"({"messages":[{"type":"remove","id":"__remove_all__"}]})")));
  EXPECT_TRUE(state.messages.empty());
  // A bad message leaves the state untouched.
  EXPECT_FALSE(ApplyUpdate(state, json::parse(R"({"messages":[{"role":"x","content":""}],"k":3})")));
  EXPECT_EQ(state.channels.at("k"), 2);
}

}  // namespace
}  // namespace agentd::runtime
