// validator.hpp and loader.hpp's LoadGraphTexts: the checks that need the configuration and
// the other graphs, each error class with its position; all errors of all files in one list.

#include "graph/validator.hpp"

#include <gtest/gtest.h>

#include "graph/loader.hpp"

namespace agentd::graph {
namespace {

Catalog Demo() { return Catalog{{"mock"}, {"get_weather"}, {"agent", "echo"}}; }

std::string Errors(std::vector<std::pair<std::string, std::string>> files, Catalog catalog = Demo()) {
  return LoadGraphTexts(files, catalog).diags.Format();
}

TEST(GraphValidator, AValidGraphLoads) {
  auto loaded = LoadGraphTexts({{"ok.yaml", R"(graph_id: ok
state: {route: {type: string}}
configurable: {model: {type: string, default: mock}}
nodes:
  classify: {kind: llm, model: "{{config.model}}", output: {channel: route, schema: {type: string}}}
  answer: {kind: llm, tools: [get_weather]}
  tools: {kind: tools}
edges:
  - {from: __start__, to: classify}
  - {from: classify, branches: [{when: {channel: route, equals: x}, to: answer}, {to: __end__}]}
  - {from: answer, branches: [{when: {tool_calls: true}, to: tools}, {to: __end__}]}
  - {from: tools, to: answer}
)"}},
                               Demo());
  EXPECT_TRUE(loaded.diags.empty()) << loaded.diags.Format();
  ASSERT_EQ(loaded.graphs.size(), 1u);
}

TEST(GraphValidator, ToolsAnMcpServerClaimsAreKnownAtLoad) {
  Catalog catalog = Demo();
  config::McpServerSpec everything;
  everything.name = "everything";
  everything.prefix = "ev_";
  config::McpServerSpec web;
  web.name = "web";
  web.prefix = "web_";
  web.tool_filter = {"echo"};
  catalog.mcp_servers = {everything, web};
  const std::string graph = R"(graph_id: m
nodes:
  answer: {kind: llm, tools: [ev_echo, web_echo, web_get-env, search]}
edges:
  - {from: __start__, to: answer}
  - {from: answer, to: __end__}
)";
  // A prefixed name is claimed by a server without a filter; a filtered server claims only
  // what its filter lists (with its prefix); any other name is still unknown.
  EXPECT_EQ(Errors({{"m.yaml", graph}}, catalog),
            "m.yaml:3:50: nodes.answer.tools[2]: unknown tool \"web_get-env\" (configured: get_weather)\n"
            "m.yaml:3:63: nodes.answer.tools[3]: unknown tool \"search\" (configured: get_weather)");
}

TEST(GraphValidator, ListsEveryReferenceErrorWithItsPosition) {
  EXPECT_EQ(Errors({{"r.yaml", R"(graph_id: r
state: {route: {type: string}}
configurable: {model: {type: string, default: gpt-9}}
nodes:
  a: {kind: llm, model: gpt-5, tools: [search], output: {channel: verdict, schema: {type: string}}}
  b: {kind: llm, model: "{{config.model}}", system: "{{state.mood}} {{config.tone}} {{context.user}}"}
  c: {kind: set, update: {score: 1}}
  d: {kind: interrupt, resume_to: answer}
  lonely: {kind: set, update: {route: x}}
  loop: {kind: set, update: {route: y}}
edges:
  - {from: __start__, to: a}
  - {from: a, branches: [{when: {channel: mood, equals: sad}, to: ghost}, {to: b}]}
  - {from: b, to: [c, loop]}
  - {from: c, to: d}
  - {from: d, to: __start__}
  - {from: __end__, to: d}
  - {from: lonely, to: __end__}
  - {from: loop, to: loop}
  - {from: c, to: __end__}
)"}}),
            "r.yaml:5:25: nodes.a.model: unknown model \"gpt-5\" (configured: mock)\n"
            "r.yaml:5:40: nodes.a.tools[0]: unknown tool \"search\" (configured: get_weather)\n"
            "r.yaml:5:67: nodes.a.output.channel: output channel \"verdict\" is not a declared channel (declared: "
            "messages, route)\n"
            "r.yaml:3:16: configurable.model.default: unknown model \"gpt-9\" (configured: mock); the knob is node "
            "b's model\n"
            "r.yaml:7:27: nodes.c.update.score: update of \"score\" is not a declared channel (declared: messages, "
            "route)\n"
            "r.yaml:8:35: nodes.d.resume_to: resume_to \"answer\" is not a declared channel (declared: messages, "
            "route)\n"
            "r.yaml:13:67: edges[1].branches[0].to: unknown node \"ghost\" (nodes: a, b, c, d, lonely, loop)\n"
            "r.yaml:13:33: edges[1].branches[0].when.channel: \"mood\" is not a declared channel (declared: "
            "messages, route)\n"
            "r.yaml:16:19: edges[4].to: an edge cannot lead to __start__\n"
            "r.yaml:17:12: edges[5].from: an edge cannot start at __end__\n"
            "r.yaml:9:3: nodes.lonely: unreachable: no edge from __start__ leads here\n"
            "r.yaml:10:3: nodes.loop: no way to __end__ from this node (every path loops forever)\n"
            "r.yaml:6:53: nodes.b.system: {{state.mood}}: \"mood\" is not a declared channel (declared: messages, "
            "route)\n"
            "r.yaml:6:53: nodes.b.system: {{config.tone}}: \"tone\" is not a declared knob (configurable: model)");
}

TEST(GraphValidator, NodesWithoutOutgoingEdgesAndGraphsWithoutStartAreNamed) {
  EXPECT_EQ(Errors({{"s.yaml", "graph_id: s\nnodes:\n  a: {kind: set, update: {}}\nedges: []\n"}}),
            "s.yaml:1:1: edges: no edge from __start__: add {from: __start__, to: <first node>}\n"
            "s.yaml:3:3: nodes.a: unreachable: no edge from __start__ leads here\n"
            "s.yaml:3:3: nodes.a: no outgoing edge: add {from: a, to: __end__} or another edge");
}

TEST(GraphValidator, DuplicateIdsUnknownSubgraphsAndCyclesAcrossFiles) {
  const std::string sub = "nodes:\n  inner: {kind: subgraph, graph: %s}\nedges: [{from: __start__, to: inner}, "
                          "{from: inner, to: __end__}]\n";
  auto graph = [&](std::string id, std::string target) {
    std::string text = "graph_id: " + id + "\n" + sub;
    text.replace(text.find("%s"), 2, target);
    return text;
  };
  EXPECT_EQ(Errors({{"a.yaml", graph("a", "b")},
                    {"b.yaml", graph("b", "a")},
                    {"c.yaml", graph("c", "nowhere")},
                    {"d.yaml", graph("a", "agent")},
                    {"e.yaml", graph("echo", "agent")}}),
            "d.yaml:1:11: graph_id: duplicate graph id \"a\" (also in a.yaml:1)\n"
            "e.yaml:1:11: graph_id: duplicate graph id \"echo\": the configuration already declares it\n"
            "c.yaml:3:34: nodes.inner.graph: unknown graph \"nowhere\" (graphs: agent, echo, a, b, c)\n"
            "b.yaml:3:34: nodes.inner.graph: subgraph cycle: graph \"a\" contains itself through \"b\"");
}

TEST(GraphValidator, ParseErrorsOfOneFileDoNotHideTheOthers) {
  const std::string errors = Errors({{"x.yaml", "graph_id: [\n"},
                                     {"y.json", R"({"graph_id": "y", "nodes": {"a": {"kind": "set", "update": {}}},
                                                  "edges": [{"from": "__start__", "to": "b"}, {"from": "a", "to": "__end__"}]})"}});
  EXPECT_EQ(errors.rfind("x.yaml:", 0), 0u) << errors;
  EXPECT_NE(errors.find("y.json:2:89: edges[0].to: unknown node \"b\" (nodes: a)"), std::string::npos) << errors;
}

}  // namespace
}  // namespace agentd::graph
