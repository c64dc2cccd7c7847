// Graph files in the runtime: how the registry describes them (nodes, conditional edges,
// schemas, knob defaults), routing after a node (fan-out, branches, no match), knob
// resolution, the reducers of declared channels, function-node answers.

#include <string>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include "graph/loader.hpp"
#include "runtime/function_node.hpp"
#include "runtime/graph_file_nodes.hpp"
#include "runtime/graph_registry.hpp"
#include "runtime/state.hpp"

namespace agentd::runtime {
namespace {

namespace json = boost::json;

config::Config Demo() {
  config::Config c;
  config::ModelSpec model;
  model.name = "mock";
  model.provider = "mock";
  c.models.push_back(model);
  config::ToolSpec tool;
  tool.name = "get_weather";
  tool.kind = "demo";
  c.tools.push_back(tool);
  return c;
}

constexpr std::string_view kGraph = R"(graph_id: g
description: test graph
state:
  route: {type: string}
  notes: {type: array, reducer: append}
  inbox: {reducer: add_messages}
input: [messages]
configurable:
  tone: {type: string, default: calm, description: How to speak.}
nodes:
  classify: {kind: llm, tools: [get_weather], output: {channel: route, schema: {type: string}}}
  a: {kind: set, update: {notes: a}}
  b: {kind: set, update: {notes: [b1, b2]}}
  c: {kind: set, update: {route: done}}
edges:
  - {from: __start__, to: classify}
  - from: classify
    branches:
      - {when: {channel: route, equals: both}, to: [a, b]}
      - {when: {channel: route, in: [x, y]}, to: c}
  - {from: [a, b], to: c}
  - {from: c, to: __end__}
)";

GraphRegistry Registry() {
  config::Config config = Demo();
  auto loaded = graph::LoadGraphTexts({{"g.yaml", std::string(kGraph)}}, graph::CatalogOf(config));
  EXPECT_TRUE(loaded.diags.empty()) << loaded.diags.Format();
  auto registry = GraphRegistry::FromConfig(config, std::move(loaded.graphs));
  EXPECT_TRUE(registry) << registry.error().message;
  return std::move(*registry);
}

TEST(GraphFiles, RegistryDescribesNodesEdgesAndSchemas) {
  const GraphRegistry registry = Registry();
  std::shared_ptr<const GraphInfo> g = registry.Find("g");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->kind, "graph");
  EXPECT_EQ(g->nodes, (std::vector<std::string>{"__start__", "classify", "a", "b", "c", "__end__"}));
  std::string edges;
  for (const auto& e : g->edges) edges += e.source + (e.conditional ? "-?->" : "-->") + e.target + " ";
  EXPECT_EQ(edges, "__start__-->classify classify-?->a classify-?->b classify-?->c a-->c b-->c c-->__end__ ");
  EXPECT_EQ(json::serialize(g->input_schema.at("properties")),
            R"({"messages":{"type":"array","items":{"type":"object"}}})");
  EXPECT_EQ(g->state_schema.at("properties").as_object().size(), 4u);
  EXPECT_EQ(json::serialize(g->config_schema.at("properties")),
            R"({"tone":{"type":"string","default":"calm","description":"How to speak."}})");
  EXPECT_EQ(json::serialize(g->spec.config), R"({"configurable":{"tone":"calm"}})");
  EXPECT_EQ(g->spec.model, "mock");  // an llm node without `model` uses the first model
  EXPECT_EQ(g->spec.tools, (std::vector<std::string>{"get_weather"}));
  EXPECT_EQ(g->spec.recursion_limit, 25);
}

TEST(GraphFiles, RoutesFanOutBranchesAndFailsWhenNoBranchMatches) {
  const GraphRegistry registry = Registry();
  const GraphInfo& g = *registry.Find("g");
  GraphState state;
  state.channels["route"] = "both";
  EXPECT_EQ(*RouteGraphFile(g, "classify", state), (std::vector<std::string>{"a", "b"}));
  state.channels["route"] = "y";
  EXPECT_EQ(*RouteGraphFile(g, "classify", state), (std::vector<std::string>{"c"}));
  EXPECT_EQ(*RouteGraphFile(g, "a", state), (std::vector<std::string>{"c"}));
  EXPECT_TRUE(RouteGraphFile(g, "c", state)->empty());
  state.channels["route"] = "other";
  auto none = RouteGraphFile(g, "classify", state);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().message,
            "graph g node classify: no branch of edges[1] matched and there is no default");
}

TEST(GraphFiles, KnobsAreDefaultsOverriddenByTheRunsConfigurable) {
  const GraphRegistry registry = Registry();
  const auto& def = *registry.Find("g")->def;
  EXPECT_EQ(json::serialize(ResolveKnobs(def, json::object{})), R"({"tone":"calm"})");
  EXPECT_EQ(json::serialize(ResolveKnobs(
                def, json::parse(R"({"configurable":{"tone":"loud","user_id":"u"}})").as_object())),
            R"({"tone":"loud"})");  // undeclared keys are not knobs
  EXPECT_EQ(json::serialize(ResolveKnobs(def, json::object{}, json::parse(R"({"tone":"ctx"})").as_object())),
            R"({"tone":"ctx"})");
}

TEST(GraphFiles, ReducersOfDeclaredChannels) {
  GraphState state;
  state.append_channels = {"notes"};
  state.message_channels = {"inbox"};
  ASSERT_TRUE(ApplyUpdate(state, json::parse(R"({"notes":"a","route":"x"})")));
  ASSERT_TRUE(ApplyUpdate(state, json::parse(R"({"notes":["b","c"],"route":"y"})")));
  ASSERT_TRUE(ApplyUpdate(state, json::parse(R"({"inbox":[{"role":"human","content":"hi","id":"1"}]})")));
  ASSERT_TRUE(ApplyUpdate(state, json::parse(R"({"inbox":{"role":"ai","content":"replaced","id":"1"}})")));
  ASSERT_TRUE(ApplyUpdate(state, json::parse(R"({"inbox":{"role":"ai","content":"two","id":"2"}})")));
  EXPECT_EQ(json::serialize(state.channels.at("notes")), R"(["a","b","c"])");
  EXPECT_EQ(state.channels.at("route"), "y");  // last_value
  const auto& inbox = state.channels.at("inbox").as_array();
  ASSERT_EQ(inbox.size(), 2u);  // add_messages: replaced by id, then appended
  EXPECT_EQ(inbox[0].at("content"), "replaced");
  EXPECT_EQ(inbox[0].at("type"), "ai");
  EXPECT_EQ(inbox[1].at("content"), "two");
  // A bad message in an add_messages channel changes nothing.
  EXPECT_FALSE(ApplyUpdate(state, json::parse(R"({"inbox":{"role":"robot","content":"x"},"route":"z"})")));
  EXPECT_EQ(state.channels.at("route"), "y");
}

TEST(GraphFiles, FunctionNodeAnswers) {
  auto ok = ParseFunctionAnswer(R"({"update":{"route":"x"},"goto":["a","b"]})");
  ASSERT_TRUE(ok);
  EXPECT_EQ(json::serialize(ok->update), R"({"route":"x"})");
  EXPECT_EQ(json::serialize(*ok->go), R"(["a","b"])");
  EXPECT_TRUE(ParseFunctionAnswer(R"({"interrupt":{"q":1}})")->interrupt);
  EXPECT_EQ(ParseFunctionAnswer("not json").error().message, "the answer is not JSON");
  EXPECT_EQ(ParseFunctionAnswer("[1]").error().message,
            "the answer must be a JSON object {update?, goto?, interrupt?}");
  EXPECT_EQ(ParseFunctionAnswer(R"({"update":3})").error().message, "`update` must be an object of channels");
  EXPECT_EQ(ParseFunctionAnswer(R"({"goto":7})").error().message, "`goto` must be a node name or a list of names");
  EXPECT_EQ(ParseFunctionAnswer(R"({"next":"a"})").error().message,
            "unknown key \"next\" in the answer (expected update, goto, interrupt)");
}

}  // namespace
}  // namespace agentd::runtime
