// tools/list entries -> tool specs (filter, prefix, refusals of invalid schemas) and tools/call
// results -> tool messages (text, structured content, images, resources, isError, the cap).

#include "mcp/tool_result.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

namespace agentd::mcp {
namespace {

namespace json = boost::json;

config::McpServerSpec Server() {
  config::McpServerSpec s;
  s.name = "ev";
  s.prefix = "ev_";
  return s;
}

TEST(ToolsPage, PrefixesFiltersAndRefusesInvalidSchemas) {
  auto server = Server();
  auto page = ParseToolsPage(json::parse(R"({
    "tools": [
      {"name": "echo", "description": "Echoes", "inputSchema": {"type": "object", "properties": {"message": {"type": "string"}}}},
      {"name": "no-schema"},
      {"name": "array-schema", "inputSchema": {"type": "array"}},
      {"name": "bad props", "inputSchema": {"type": "object"}},
      {"name": "bad-props", "inputSchema": {"type": "object", "properties": []}},
      {"description": "nameless", "inputSchema": {"type": "object"}},
      7
    ],
    "nextCursor": "page2"
  })"), server);
  ASSERT_TRUE(page);
  ASSERT_EQ(page->tools.size(), 1u);
  EXPECT_EQ(page->tools[0].name, "ev_echo");
  EXPECT_EQ(page->tools[0].remote_name, "echo");
  EXPECT_EQ(page->tools[0].kind, "mcp");
  EXPECT_EQ(page->tools[0].server, "ev");
  EXPECT_EQ(page->tools[0].description, "Echoes");
  EXPECT_EQ(page->next_cursor, "page2");
  EXPECT_EQ(page->refusals,
            (std::vector<std::string>{
                "no-schema: inputSchema is missing or not an object",
                "array-schema: inputSchema must have \"type\": \"object\"",
                "bad props: the name \"ev_bad props\" must match [A-Za-z0-9_-]{1,64}",
                "bad-props: inputSchema.properties must be an object",
                "tools[5]: no name",
                "tools[6]: not an object",
            }));

  server.tool_filter = {"bad-props"};
  auto filtered = ParseToolsPage(json::parse(R"({"tools": [
      {"name": "echo", "inputSchema": {"type": "object"}},
      {"name": "bad-props", "inputSchema": {"type": "object", "properties": []}}]})"), server);
  ASSERT_TRUE(filtered);
  EXPECT_TRUE(filtered->tools.empty());
  EXPECT_EQ(filtered->refusals.size(), 1u);  // only what the filter exposes is checked

  EXPECT_FALSE(ParseToolsPage(json::parse(R"({"tool": []})"), server));
}

config::ToolSpec Tool() {
  config::ToolSpec t;
  t.name = "ev_x";
  t.server = "ev";
  t.remote_name = "x";
  return t;
}

TEST(ToolResult, MapsContentBlocksToText) {
  auto out = MapToolResult(Tool(), json::parse(R"({"content": [
      {"type": "text", "text": "Here it is:"},
      {"type": "image", "data": "aGVsbG8=", "mimeType": "image/png"},
      {"type": "resource", "resource": {"uri": "file:///a.txt", "text": "inside"}},
      {"type": "resource_link", "uri": "file:///b", "name": "b"}]})"), 10'000);
  EXPECT_TRUE(out.ok);
  EXPECT_EQ(out.content,
            "Here it is:\n[image: image/png, 8 bytes base64, not shown]\n[resource file:///a.txt]\n"
            "inside\n[resource link: file:///b b]");
}

TEST(ToolResult, StructuredContentWhenNoTextCarriesIt) {
  auto out = MapToolResult(Tool(), json::parse(R"({"content": [], "structuredContent": {"t": 22}})"), 1000);
  EXPECT_EQ(out.content, R"({"t":22})");
  auto both = MapToolResult(
      Tool(), json::parse(R"({"content": [{"type": "text", "text": "{\"t\": 22}"}], "structuredContent": {"t": 22}})"), 1000);
  EXPECT_EQ(both.content, "{\"t\": 22}");
}

TEST(ToolResult, IsErrorBecomesAFailedOutcome) {
  auto out = MapToolResult(Tool(), json::parse(R"({"isError": true, "content": [{"type": "text", "text": "boom"}]})"), 1000);
  EXPECT_FALSE(out.ok);
  EXPECT_EQ(out.content, "boom");
  auto bare = MapToolResult(Tool(), json::parse(R"({"isError": true})"), 1000);
  EXPECT_EQ(bare.content, "Error: tool ev_x failed (no detail)");
}

TEST(ToolResult, CutsOutputPastTheCapWithANote) {
  const std::string text(5000, 'y');
  auto out = MapToolResult(Tool(), json::value{{"content", json::array{json::object{{"type", "text"}, {"text", text}}}}}, 1000);
  EXPECT_TRUE(out.ok);
  EXPECT_EQ(out.content, std::string(1000, 'y') +
                             "\n[output cut: 4000 more bytes over the 1000-byte limit (max_output_bytes)]");
  // A multi-byte character is not split.
  EXPECT_EQ(CapOutput("a\xc3\xa9z", 2), "a\n[output cut: 3 more bytes over the 2-byte limit (max_output_bytes)]");
}

}  // namespace
}  // namespace agentd::mcp
