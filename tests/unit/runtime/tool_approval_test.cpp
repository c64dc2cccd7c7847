// tool_approval.hpp's pure parts: which calls are still unanswered, the HITL request and the
// client-tool request shapes, every refusal of a decisions resume, and the API's check of a
// resume against the thread's approval interrupt.

#include "runtime/tool_approval.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include "graph/loader.hpp"

namespace agentd::runtime {
namespace {

namespace json = boost::json;

json::array Calls() {
  return json::parse(R"([{"id":"c1","name":"refund","args":{"amount":5}},{"id":"c2","name":"get_weather","args":{}}])")
      .as_array();
}

std::string Refusal(std::string_view resume) {
  auto r = CheckDecisions(json::parse(resume), Calls());
  return r ? std::string("accepted") : r.error().message;
}

TEST(ToolApproval, UnansweredCallsAreThoseOfTheLastAiMessageWithoutAToolMessage) {
  auto messages = json::parse(R"([
    {"type":"human","content":"hi"},
    {"type":"ai","id":"m1","content":"","tool_calls":[{"id":"c1","name":"a","args":{}},{"id":"c2","name":"b","args":{}}]},
    {"type":"tool","tool_call_id":"c1","content":"done"}])").as_array();
  UnansweredCalls u = FindUnansweredCalls(messages);
  ASSERT_NE(u.ai, nullptr);
  EXPECT_TRUE(u.some_answered);
  EXPECT_EQ(json::serialize(u.calls), R"([{"id":"c2","name":"b","args":{}}])");
  messages.push_back(json::parse(R"({"type":"tool","tool_call_id":"c2","content":"x"})"));
  EXPECT_TRUE(FindUnansweredCalls(messages).calls.empty());
  messages.push_back(json::parse(R"({"type":"ai","content":"bye","tool_calls":[]})"));
  EXPECT_EQ(FindUnansweredCalls(messages).ai, nullptr);
  EXPECT_EQ(FindUnansweredCalls(json::array{}).ai, nullptr);
}

TEST(ToolApproval, RequestShapesFollowLangChainAndTheHeadlessToolConvention) {
  EXPECT_EQ(json::serialize(ApprovalRequest(Calls())),
            R"({"action_requests":[)"
            R"({"name":"refund","args":{"amount":5},"description":"Tool execution requires approval\n\nTool: refund\nArgs: {\"amount\":5}","id":"c1"},)"
            R"({"name":"get_weather","args":{},"description":"Tool execution requires approval\n\nTool: get_weather\nArgs: {}","id":"c2"}],)"
            R"("review_configs":[{"action_name":"refund","allowed_decisions":["approve","edit","reject"]},)"
            R"({"action_name":"get_weather","allowed_decisions":["approve","edit","reject"]}]})");
  EXPECT_EQ(json::serialize(ClientToolRequest(Calls()[0].as_object())),
            R"({"type":"tool","toolCall":{"id":"c1","name":"refund","args":{"amount":5}}})");
}

TEST(ToolApproval, DecisionsAreCheckedOnePerRequestInOrder) {
  auto ok = CheckDecisions(json::parse(R"({"decisions":[{"type":"edit","edited_action":{"name":"refund","args":{"amount":1}}},
                                                      {"type":"reject","message":"no"}]})"),
                           Calls());
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ((*ok)[0].type, Decision::Type::kEdit);
  EXPECT_EQ(json::serialize((*ok)[0].args), R"({"amount":1})");
  EXPECT_EQ((*ok)[1].type, Decision::Type::kReject);
  EXPECT_EQ((*ok)[1].message, "no");
  EXPECT_EQ(Refusal(R"({"decisions":[{"type":"approve"},{"type":"reject"}]})"), "accepted");

  EXPECT_EQ(Refusal(R"("yes")"),
            R"(resume must be {"decisions": [...]} with one decision per action request (2: refund, get_weather), got "yes")");
  EXPECT_EQ(Refusal(R"({"decisions":[{"type":"approve"}]})"),
            "resume.decisions has 1 decision(s) for 2 action request(s) (refund, get_weather); send one per request, "
            "in order");
  EXPECT_EQ(Refusal(R"({"decisions":[{"type":"approve"},{"type":"ok"}]})"),
            R"(resume.decisions[1].type: expected approve, edit or reject, got "ok")");
  EXPECT_EQ(Refusal(R"({"decisions":[{"type":"edit"},{"type":"approve"}]})"),
            "resume.decisions[0].edited_action: an edit needs {name, args}");
  EXPECT_EQ(Refusal(R"({"decisions":[{"type":"edit","edited_action":{"name":"refund"}},{"type":"approve"}]})"),
            "resume.decisions[0].edited_action.args: expected an object, got nothing");
  EXPECT_EQ(Refusal(R"({"decisions":[{"type":"edit","edited_action":{"name":"wipe","args":{}}},{"type":"approve"}]})"),
            R"(resume.decisions[0].edited_action.name: "wipe" is not the call's tool "refund"; only its args can be edited)");
  EXPECT_EQ(Refusal(R"({"decisions":[{"type":"approve"},{"type":"reject","message":3}]})"),
            "resume.decisions[1].message: expected a string, got 3");
  EXPECT_EQ(Refusal(R"({"decisions":[{"type":"approve"},7]})"),
            "resume.decisions[1]: expected an object {type, ...}, got 7");
}

TEST(ToolApproval, TheApiChecksAResumeAgainstTheThreadsApprovalInterrupt) {
  config::Config c;
  config::ModelSpec model;
  model.name = "mock";
  model.provider = "mock";
  c.models.push_back(model);
  config::ToolSpec tool;
  tool.name = "get_weather";
  tool.kind = "demo";
  c.tools.push_back(tool);
  graph::Catalog catalog{{"mock"}, {"get_weather"}, {"agent", "echo"}};
  auto loaded = graph::LoadGraphTexts({{"g.yaml", R"(graph_id: g
nodes:
  agent: {kind: llm, tools: [{name: get_weather, approval: required}]}
  run_tools: {kind: tools}
edges:
  - {from: __start__, to: agent}
  - {from: agent, branches: [{when: {tool_calls: true}, to: run_tools}, {to: __end__}]}
  - {from: run_tools, to: agent}
)"}},
                                      catalog);
  ASSERT_TRUE(loaded.diags.empty()) << loaded.diags.Format();
  auto registry = GraphRegistry::FromConfig(c, std::move(loaded.graphs));
  ASSERT_TRUE(registry) << registry.error().message;
  const GraphInfo& g = *registry->Find("g");
  json::object interrupts{
      {"task-1", json::array{json::object{{"id", "i1"}, {"value", ApprovalRequest(json::array{Calls()[1]})}}}}};
  EXPECT_EQ(CheckApprovalResume(g, interrupts, json::object{{"resume", json::object{{"decisions", json::array{}}}}}),
            "graph g node run_tools: resume.decisions has 0 decision(s) for 1 action request(s) (get_weather); send "
            "one per request, in order");
  EXPECT_EQ(CheckApprovalResume(g, interrupts, json::parse(R"({"resume":{"decisions":[{"type":"approve"}]}})").as_object()),
            std::nullopt);
  // No resume, another interrupt's value, or a graph without approvals: nothing to check.
  EXPECT_EQ(CheckApprovalResume(g, interrupts, json::object{{"goto", "agent"}}), std::nullopt);
  json::object other{{"task-1", json::array{json::object{{"id", "i1"}, {"value", "send?"}}}}};
  EXPECT_EQ(CheckApprovalResume(g, other, json::object{{"resume", 1}}), std::nullopt);
  const GraphInfo react;  // not a graph file
  EXPECT_EQ(CheckApprovalResume(react, interrupts, json::object{{"resume", 1}}), std::nullopt);
}

}  // namespace
}  // namespace agentd::runtime
