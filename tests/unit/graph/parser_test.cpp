// Graph files -> GraphDef: the shape checks of parser.hpp, every error with file, line,
// column and key path, all errors of a file collected in one pass.

#include "graph/parser.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

namespace agentd::graph {
namespace {

namespace json = boost::json;

// Every diagnostic of parsing `text`, formatted, one per line.
std::string Errors(std::string_view text, std::string file = "g.yaml") {
  Diagnostics diags;
  ParseGraph(text, file, diags);
  return diags.Format();
}

constexpr std::string_view kSupport = R"(graph_id: support
description: Routes a request.
state:
  route: {type: string}
  notes: {type: array, reducer: append}
configurable:
  model: {type: string, default: mock}
  tone: {type: string, default: friendly}
nodes:
  classify:
    kind: llm
    model: "{{config.model}}"
    system: "Classify. Tone: {{config.tone}}."
    output:
      channel: route
      schema: {type: string, enum: [billing, general]}
  billing: {kind: llm, model: mock, tools: [get_weather, {name: lookup, approval: required}], temperature: 0.5}
  tools: {kind: tools}
  summarize:
    kind: set
    update: {messages: [{role: ai, content: "summary: {{state.route}}"}]}
edges:
  - {from: __start__, to: classify}
  - from: classify
    branches:
      - {when: {channel: route, equals: billing}, to: billing}
      - {to: summarize}
  - {from: billing, to: [tools, summarize]}
  - {from: [tools, summarize], to: __end__}
recursion_limit: 12
)";

TEST(GraphParser, ReadsACompleteYamlGraph) {
  Diagnostics diags;
  auto def = ParseGraph(kSupport, "support.yaml", diags);
  ASSERT_TRUE(def);
  EXPECT_TRUE(diags.empty()) << diags.Format();
  EXPECT_EQ(def->graph_id, "support");
  EXPECT_EQ(def->recursion_limit, 12);
  ASSERT_EQ(def->channels.size(), 3u);
  EXPECT_EQ(def->channels[0].name, "messages");
  EXPECT_EQ(def->channels[0].reducer, Reducer::kAddMessages);
  EXPECT_EQ(def->channels[2].reducer, Reducer::kAppend);
  EXPECT_EQ(json::serialize(def->channels[1].schema), R"({"type":"string"})");
  ASSERT_EQ(def->knobs.size(), 2u);
  EXPECT_EQ(def->knobs[0].default_value, "mock");
  ASSERT_EQ(def->nodes.size(), 4u);
  const NodeDef* classify = def->FindNode("classify");
  ASSERT_TRUE(classify && classify->output);
  EXPECT_EQ(classify->output->channel.name, "route");
  EXPECT_EQ(classify->output->channel.mark.line, 15);
  const NodeDef* billing = def->FindNode("billing");
  ASSERT_EQ(billing->tools.size(), 2u);
  EXPECT_TRUE(billing->tools[1].approval_required);
  EXPECT_EQ(*billing->temperature, 0.5);
  EXPECT_EQ(def->FindNode("summarize")->kind, NodeKind::kSet);
  ASSERT_EQ(def->edges.size(), 4u);
  EXPECT_EQ(def->edges[1].branches.size(), 2u);
  EXPECT_FALSE(def->edges[1].branches[1].when);
  EXPECT_EQ(def->edges[2].to.size(), 2u);
  EXPECT_EQ(def->edges[3].from.size(), 2u);
  // Templates are recorded with where they were written.
  ASSERT_EQ(def->templates.size(), 3u);
  EXPECT_EQ(def->templates[2].root, "state");
  EXPECT_EQ(def->templates[2].name, "route");
  EXPECT_EQ(def->templates[2].path, "nodes.summarize.update.messages[0].content");
}

TEST(GraphParser, ReadsTheSameGraphAsJson) {
  Diagnostics diags;
  auto def = ParseGraph(R"({
  "graph_id": "j",
  "state": {"n": {"type": "integer"}, "label": {"schema": {"type": "string", "maxLength": 3}}},
  "nodes": {"one": {"kind": "set", "update": {"n": 1, "label": "7"}}},
  "edges": [{"from": "__start__", "to": "one"}, {"from": "one", "to": "__end__"}]
})",
                        "j.json", diags);
  ASSERT_TRUE(def);
  EXPECT_TRUE(diags.empty()) << diags.Format();
  const NodeDef* one = def->FindNode("one");
  // Quoted scalars stay strings, plain ones resolve.
  EXPECT_EQ(json::serialize(one->update), R"({"n":1,"label":"7"})");
  EXPECT_EQ(def->FindChannel("label")->schema.at("maxLength"), 3);
}

TEST(GraphParser, ListsEveryShapeErrorWithItsPosition) {
  const std::string errors = Errors(R"(graph_id: bad
colour: red
state:
  route: {type: text, reducer: sum}
configurable:
  temperature: {type: number, default: hot}
nodes:
  a: {kind: llm, modle: mock, temperature: 7}
  b: {kind: teleport}
  c: {kind: function, url: ftp://x, retries: 99}
  d: {kind: set}
  __end__: {kind: set, update: {}}
edges:
  - {from: __start__}
  - {from: a, to: b, branches: []}
  - from: b
    branches:
      - {to: c}
      - {when: {channel: route, equals: x, in: [y]}, to: d}
      - {when: {channel: route, matches: "("}, to: d}
      - {when: {colour: red}, to: d}
recursion_limit: 0
)");
  const std::string expected =
      "g.yaml:2:1: colour: unknown key in a graph (expected graph_id, description, state, input, output, "
      "configurable, nodes, edges, recursion_limit)\n"
      "g.yaml:4:17: state.route.type: unknown type \"text\" (expected string, number, integer, boolean, object, "
      "array or null)\n"
      "g.yaml:4:32: state.route.reducer: unknown reducer \"sum\" (expected last_value, append or add_messages)\n"
      "g.yaml:6:40: configurable.temperature.default: default is a string, not of type number\n"
      "g.yaml:8:18: nodes.a.modle: unknown key in an llm node (expected kind, description, model, system, tools, "
      "tool_choice, temperature, max_tokens, output, update)\n"
      "g.yaml:8:44: nodes.a.temperature: must be between 0 and 2, got 7\n"
      "g.yaml:9:13: nodes.b.kind: unknown node kind \"teleport\" (expected llm, tools, function, interrupt, set, "
      "subgraph or agent)\n"
      "g.yaml:10:28: nodes.c.url: must start with http:// or https://\n"
      "g.yaml:10:46: nodes.c.retries: must be between 0 and 10, got 99\n"
      "g.yaml:11:6: nodes.d.update: required\n"
      "g.yaml:12:3: nodes.__end__: reserved node name\n"
      "g.yaml:14:5: edges[0]: an edge has either `to` or `branches`\n"
      "g.yaml:15:5: edges[1]: an edge has either `to` or `branches`\n"
      "g.yaml:15:32: edges[1].branches: expected a non-empty list of {when, to}\n"
      "g.yaml:18:9: edges[2].branches[0]: the default branch (no `when`) must come last\n"
      "g.yaml:19:16: edges[2].branches[1].when: one test per condition: combine several with `all` or `any`\n"
      "g.yaml:20:42: edges[2].branches[2].when.matches: invalid regular expression: ";
  EXPECT_EQ(errors.substr(0, expected.size()), expected) << errors;
  EXPECT_NE(errors.find("g.yaml:21:17: edges[2].branches[3].when.colour: unknown key in a condition"),
            std::string::npos)
      << errors;
  EXPECT_NE(errors.find("g.yaml:22:18: recursion_limit: must be between 1 and 10000, got 0"), std::string::npos)
      << errors;
}

TEST(GraphParser, SyntaxErrorsHaveAPosition) {
  EXPECT_EQ(Errors("graph_id: x\nnodes: {a: [1, 2}\n"),
            "g.yaml:2:17: syntax error: illegal flow end");
  // JSON goes through the same parser.
  const std::string json_error = Errors("{\"graph_id\": \"x\",\n  \"nodes\": {\"a\": }}", "g.json");
  EXPECT_EQ(json_error.rfind("g.json:2:", 0), 0u) << json_error;
}

TEST(GraphParser, DuplicateKeysAndNonMapDocumentsAreErrors) {
  EXPECT_NE(Errors("graph_id: x\ngraph_id: y\nnodes: {}\nedges: []\n").find("g.yaml:2:1: graph_id: duplicate key"),
            std::string::npos);
  EXPECT_EQ(Errors("- a\n- b\n"),
            "g.yaml:1:1: a graph file holds one map (graph_id, nodes, edges, ...), got a list");
}

TEST(GraphParser, MissingRequiredKeysAreNamed) {
  EXPECT_EQ(Errors("description: nothing\n"),
            "g.yaml:1:1: graph_id: required\ng.yaml:1:1: nodes: required\ng.yaml:1:1: edges: required");
}

TEST(GraphParser, PlaceholderSyntaxErrorsAreLoadErrors) {
  const std::string errors = Errors(R"(graph_id: t
nodes:
  a: {kind: set, update: {x: "{{state.x"}}
  b: {kind: llm, system: "{{stat.x}}"}
edges: []
)");
  EXPECT_NE(errors.find("g.yaml:3:30: nodes.a.update.x: unterminated placeholder at offset 0"), std::string::npos) << errors;
  EXPECT_NE(errors.find("g.yaml:4:26: nodes.b.system: placeholder {{stat.x}}: unknown root \"stat\""),
            std::string::npos)
      << errors;
}

TEST(GraphParser, AliasBombsAreRefused) {
  std::string text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 8; ++i) {
    text += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) text += (j ? ", *a" : "*a") + std::to_string(i - 1);
    text += "]\n";
  }
  EXPECT_NE(Errors(text).find("document too large"), std::string::npos);
}

TEST(GraphParser, ResumeAndItemAreOnlyDefinedInTheirScope) {
  const std::string errors = Errors(R"(graph_id: scoped
nodes:
  ask:
    kind: interrupt
    value: {calls: {$each: "{{last.tool_calls}}", do: "{{item.name}}"}, bad: "{{item.name}}"}
    update:
      messages:
        $cases:
          - {when: {resume: approved, equals: false}, value: [{role: ai, content: "no: {{resume.why}}"}]}
  say: {kind: set, update: {messages: [{role: ai, content: "{{resume}}"}], x: {$each: "{{last.tool_calls}}"}}}
edges:
  - {from: __start__, to: ask}
  - from: ask
    branches:
      - {when: {resume: approved, equals: true}, to: say}
      - {to: __end__}
  - {from: say, to: __end__}
)");
  EXPECT_EQ(errors,
            "g.yaml:5:78: nodes.ask.value.bad: {{item}} is only defined inside the `do` of a `$each`\n"
            "g.yaml:10:60: nodes.say.update.messages[0].content: {{resume}} is only defined in an interrupt "
            "node's `update`\n"
            "g.yaml:10:79: nodes.say.update.x.do: required\n"
            "g.yaml:15:16: edges[1].branches[0].when: a `resume` condition is only defined in an interrupt node's "
            "`update` (edges read channels)");
}

}  // namespace
}  // namespace agentd::graph
