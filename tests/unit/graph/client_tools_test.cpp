// Tool entries beyond a name (docs/graphs.md "Approval before tools", "Client-side tools"):
// {name, approval} and {name, kind: client, description, parameters}, and every misuse named
// with its position.

#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include "graph/loader.hpp"
#include "graph/parser.hpp"
#include "graph/validator.hpp"

namespace agentd::graph {
namespace {

Catalog Demo() { return Catalog{{"mock"}, {"get_weather"}, {"agent", "echo"}}; }

std::string Errors(std::string_view text) { return LoadGraphTexts({{"c.yaml", std::string(text)}}, Demo()).diags.Format(); }

constexpr std::string_view kClient = R"(graph_id: c
nodes:
  ask:
    kind: llm
    tools:
      - {name: get_weather, approval: required}
      - name: get_location
        kind: client
        description: Where the user is.
        parameters: {type: object, properties: {city: {type: string}}}
  again: {kind: llm, tools: [get_location]}
  tools: {kind: tools}
edges:
  - {from: __start__, to: ask}
  - {from: ask, branches: [{when: {tool_calls: true}, to: tools}, {to: again}]}
  - {from: tools, to: ask}
  - {from: again, to: __end__}
)";

TEST(GraphClientTools, ReadsApprovalAndClientEntries) {
  auto loaded = LoadGraphTexts({{"c.yaml", std::string(kClient)}}, Demo());
  ASSERT_TRUE(loaded.diags.empty()) << loaded.diags.Format();
  const GraphDef& def = loaded.graphs.front();
  const NodeDef* ask = def.FindNode("ask");
  ASSERT_EQ(ask->tools.size(), 2u);
  EXPECT_TRUE(ask->tools[0].approval_required);
  EXPECT_FALSE(ask->tools[0].client);
  EXPECT_TRUE(ask->tools[1].client);
  EXPECT_EQ(ask->tools[1].description, "Where the user is.");
  EXPECT_EQ(ask->tools[1].parameters.at("type").as_string(), "object");
  // Another node names the client tool without declaring it again.
  EXPECT_EQ(def.FindClientTool("get_location"), &ask->tools[1]);
  EXPECT_EQ(def.FindClientTool("get_weather"), nullptr);
  EXPECT_TRUE(def.RequiresApproval("get_weather"));
  EXPECT_FALSE(def.RequiresApproval("get_location"));
}

TEST(GraphClientTools, AClientToolWithoutParametersTakesAnEmptyObject) {
  auto loaded = LoadGraphTexts({{"c.yaml", R"(graph_id: c
nodes:
  ask: {kind: llm, tools: [{name: ping, kind: client}]}
edges:
  - {from: __start__, to: ask}
  - {from: ask, to: __end__}
)"}},
                               Demo());
  ASSERT_TRUE(loaded.diags.empty()) << loaded.diags.Format();
  EXPECT_EQ(boost::json::serialize(loaded.graphs.front().FindClientTool("ping")->parameters),
            R"({"type":"object","properties":{}})");
}

TEST(GraphClientTools, MisusesAreNamedWithTheirPositions) {
  EXPECT_EQ(Errors(R"(graph_id: c
nodes:
  ask:
    kind: llm
    tools:
      - {name: a, kind: server}
      - {name: get_weather, description: x, parameters: {type: object}}
      - {name: b, kind: client, approval: required}
      - {name: c, kind: client, parameters: 3, colour: red}
      - {name: get_weather, kind: client}
      - {name: b, kind: client}
edges:
  - {from: __start__, to: ask}
  - {from: ask, to: __end__}
)"),
            "c.yaml:6:25: nodes.ask.tools[0].kind: unknown tool kind \"server\" (expected client; configured tools "
            "are named without a kind)\n"
            "c.yaml:7:42: nodes.ask.tools[1].description: only a client tool (kind: client) declares its description "
            "and parameters here; a configured tool has them in the configuration\n"
            "c.yaml:7:57: nodes.ask.tools[1].parameters: only a client tool (kind: client) declares its description "
            "and parameters here; a configured tool has them in the configuration\n"
            "c.yaml:8:43: nodes.ask.tools[2].approval: a client tool is answered by the client; approval does not "
            "apply to it\n"
            "c.yaml:9:48: nodes.ask.tools[3].colour: unknown key in a tool entry (expected name, approval, kind, "
            "description, parameters)\n"
            "c.yaml:9:45: nodes.ask.tools[3].parameters: expected a JSON Schema (a map), got a number\n"
            "c.yaml:6:16: nodes.ask.tools[0].name: unknown tool \"a\" (configured: get_weather)\n"
            "c.yaml:10:16: nodes.ask.tools[4].name: client tool \"get_weather\" has the name of a configured tool; "
            "rename one of them\n"
            "c.yaml:11:16: nodes.ask.tools[5].name: client tool \"b\" is already declared at 8:16 "
            "(nodes.ask.tools[2].name); name it here without kind");
}

TEST(GraphClientTools, AgentNodesDoNotTakeClientToolsYet) {
  EXPECT_EQ(Errors(R"(graph_id: c
nodes:
  helper: {kind: agent, tools: [{name: ping, kind: client}]}
edges:
  - {from: __start__, to: helper}
  - {from: helper, to: __end__}
)"),
            "c.yaml:3:40: nodes.helper.tools[0].name: client tools are not supported in agent nodes yet (an "
            "interrupt inside a subgraph fails the run)");
}

}  // namespace
}  // namespace agentd::graph
