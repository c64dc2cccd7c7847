#include "runtime/graph_registry.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/json.hpp"

namespace agentd::runtime {
namespace {

config::Config DemoConfig() {
  config::Config c;
  config::ModelSpec model;
  model.name = "mock";
  model.provider = "mock";
  c.models.push_back(model);
  config::ToolSpec tool;
  tool.name = "get_weather";
  tool.kind = "demo";
  c.tools.push_back(tool);
  config::GraphSpec agent;
  agent.graph_id = "agent";
  agent.kind = "react";
  agent.model = "mock";
  agent.tools = {"get_weather"};
  c.graphs.push_back(agent);
  config::GraphSpec echo;
  echo.graph_id = "echo";
  echo.kind = "echo";
  c.graphs.push_back(echo);
  return c;
}

std::string EdgesText(const GraphInfo& g) {
  std::string out;
  for (const auto& e : g.edges) {
    out += e.source + (e.conditional ? "-?->" : "-->") + e.target + " ";
  }
  return out;
}

TEST(GraphRegistry, DescribesReactGraph) {
  auto registry = GraphRegistry::FromConfig(DemoConfig());
  ASSERT_TRUE(registry) << registry.error().message;
  std::shared_ptr<const GraphInfo> g = registry->Find("agent");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->kind, "react");
  EXPECT_EQ(g->nodes, (std::vector<std::string>{"__start__", "model", "tools", "__end__"}));
  EXPECT_EQ(EdgesText(*g),
            "__start__-->model model-?->tools model-?->__end__ tools-->model ");
  EXPECT_EQ(g->spec.model, "mock");
}

// Runs resolve the names against their RunCatalog (executor tests, configured_tools_test); the
// registry checks every name exists and keeps the graph's order.
TEST(GraphRegistry, ChecksAReactGraphsToolsAndKeepsTheirOrder) {
  config::Config c = DemoConfig();
  config::ToolSpec shipping;
  shipping.name = "shipping_status";
  shipping.kind = "http";
  shipping.url = "http://127.0.0.1:1/ship";
  c.tools.push_back(shipping);
  c.graphs[0].tools = {"shipping_status", "get_weather"};
  auto registry = GraphRegistry::FromConfig(c);
  ASSERT_TRUE(registry) << registry.error().message;
  EXPECT_EQ(registry->Find("agent")->spec.tools,
            (std::vector<std::string>{"shipping_status", "get_weather"}));
  c.graphs[0].tools = {"shipping_status", "nope"};
  auto refused = GraphRegistry::FromConfig(c);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message, "graph \"agent\": tool \"nope\" is not declared in tools");
}

TEST(GraphRegistry, DescribesEchoGraph) {
  auto registry = GraphRegistry::FromConfig(DemoConfig());
  ASSERT_TRUE(registry);
  std::shared_ptr<const GraphInfo> g = registry->Find("echo");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->nodes, (std::vector<std::string>{"__start__", "echo", "__end__"}));
  EXPECT_EQ(EdgesText(*g), "__start__-->echo echo-->__end__ ");
  EXPECT_EQ(registry->all().size(), 2u);
  EXPECT_EQ(registry->Find("nope"), nullptr);
}

TEST(GraphRegistry, SchemasHaveMessagesProperty) {
  auto registry = GraphRegistry::FromConfig(DemoConfig());
  ASSERT_TRUE(registry);
  std::shared_ptr<const GraphInfo> g = registry->Find("agent");
  ASSERT_NE(g, nullptr);
  for (const auto* schema : {&g->input_schema, &g->output_schema, &g->state_schema}) {
    ASSERT_TRUE(schema->is_object());
    EXPECT_EQ(ToJson(schema->at("properties")),
              R"({"messages":{"type":"array","items":{"type":"object"}}})");
    EXPECT_EQ(schema->at("type"), "object");
  }
  EXPECT_TRUE(g->config_schema.at("properties").is_object());
  EXPECT_TRUE(g->context_schema.at("properties").is_object());
}

TEST(GraphRegistry, RejectsUnknownKind) {
  auto c = DemoConfig();
  c.graphs[1].kind = "python";
  auto registry = GraphRegistry::FromConfig(c);
  ASSERT_FALSE(registry);
  EXPECT_EQ(registry.error().code, Errc::kInvalidArgument);
  EXPECT_NE(registry.error().message.find("\"echo\""), std::string::npos);
  EXPECT_NE(registry.error().message.find("python"), std::string::npos);
}

TEST(GraphRegistry, RejectsUndeclaredModel) {
  auto c = DemoConfig();
  c.graphs[0].model = "gpt-9";
  auto registry = GraphRegistry::FromConfig(c);
  ASSERT_FALSE(registry);
  EXPECT_EQ(registry.error().code, Errc::kInvalidArgument);
  EXPECT_NE(registry.error().message.find("\"agent\""), std::string::npos);
  EXPECT_NE(registry.error().message.find("model \"gpt-9\""), std::string::npos);
}

TEST(GraphRegistry, RejectsUndeclaredTool) {
  auto c = DemoConfig();
  c.graphs[0].tools.push_back("rm_rf");
  auto registry = GraphRegistry::FromConfig(c);
  ASSERT_FALSE(registry);
  EXPECT_EQ(registry.error().code, Errc::kInvalidArgument);
  EXPECT_NE(registry.error().message.find("tool \"rm_rf\""), std::string::npos);
}

TEST(GraphRegistry, RejectsDuplicateGraphId) {
  auto c = DemoConfig();
  c.graphs[1].graph_id = "agent";
  auto registry = GraphRegistry::FromConfig(c);
  ASSERT_FALSE(registry);
  EXPECT_NE(registry.error().message.find("declared twice"), std::string::npos);
}

TEST(GraphRegistry, EchoNeedsNoModel) {
  config::Config c;
  config::GraphSpec echo;
  echo.graph_id = "echo";
  echo.kind = "echo";
  c.graphs.push_back(echo);
  EXPECT_TRUE(GraphRegistry::FromConfig(c));
}

// A reload publishes a new version at once; what Find handed out before keeps the old one.
TEST(GraphRegistry, ReplaceKeepsWhatFindHandedOutOnItsVersion) {
  auto registry = GraphRegistry::FromConfig(DemoConfig());
  ASSERT_TRUE(registry) << registry.error().message;
  std::shared_ptr<const GraphInfo> before = registry->Find("agent");
  config::Config next = DemoConfig();
  next.graphs[0].system_prompt = "new";
  next.graphs.pop_back();  // echo is gone
  auto reloaded = GraphRegistry::FromConfig(next);
  ASSERT_TRUE(reloaded) << reloaded.error().message;
  registry->Replace(std::move(*reloaded));
  EXPECT_EQ(before->spec.system_prompt, "");
  EXPECT_EQ(registry->Find("agent")->spec.system_prompt, "new");
  EXPECT_EQ(registry->Find("echo"), nullptr);
  EXPECT_EQ(registry->all().size(), 1u);
}

// The built-in react graph declares model (one of the configured models) and system_prompt,
// with the configuration's values as defaults.
TEST(GraphRegistry, ReactGraphsDeclareModelAndSystemPromptKnobs) {
  config::Config c = DemoConfig();
  c.graphs[0].system_prompt = "Be brief.";
  auto registry = GraphRegistry::FromConfig(c);
  ASSERT_TRUE(registry) << registry.error().message;
  const auto& props = registry->Find("agent")->config_schema.at("properties");
  EXPECT_EQ(ToJson(props.at("model")),
            R"j({"type":"string","enum":["mock"],"default":"mock","description":"a configured model name (models[].name)"})j");
  EXPECT_EQ(props.at("system_prompt").at("default"), "Be brief.");
  EXPECT_TRUE(registry->Find("echo")->knobs.empty());
}

}  // namespace
}  // namespace agentd::runtime
