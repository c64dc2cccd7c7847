// /mcp and /a2a (docs/interop.md): the pure pieces (tool names and schemas, tools/call
// arguments, answers read from a run's body, A2A methods, tasks and log frames) and the
// handlers that need no runs, through the Router (no sockets). Runs through the real binary
// are in tests/e2e/tests/{mcp,a2a}.test.mjs.
#include "api_fixture.hpp"

#include "api/a2a.hpp"
#include "api/mcp_endpoint.hpp"
#include "api/run_answer.hpp"
#include <boost/json/parse.hpp>

#include "common/uuid.hpp"

namespace agentd::api::testing {
namespace {

using namespace agentd::api::detail;

model::Assistant UserAssistant(std::string name) {
  model::Assistant a;
  a.assistant_id = "3f1c2a9e-0b7d-4c1e-9a55-2d6f8e4b1c70";
  a.graph_id = "echo";
  a.name = std::move(name);
  return a;
}

TEST(McpEndpoint, ToolNamesAreStableSanitizedAndReversible) {
  model::Assistant system;
  system.graph_id = "agent";
  system.assistant_id = SystemAssistantId("agent");
  system.name = "anything";
  EXPECT_EQ(McpToolName(system), "agent");
  EXPECT_EQ(ToolNameAssistantId("agent"), std::nullopt);

  model::Assistant user = UserAssistant("My bot / v2!");
  const std::string name = McpToolName(user);
  EXPECT_EQ(name, "My_bot___v2__" + user.assistant_id);
  EXPECT_EQ(ToolNameAssistantId(name), user.assistant_id);

  model::Assistant long_name = UserAssistant(std::string(300, 'x'));
  EXPECT_EQ(McpToolName(long_name).size(), 64u + 1 + 36);
  EXPECT_EQ(SanitizeToolName("", 10), "assistant");
}

TEST(McpEndpoint, VersionNegotiation) {
  EXPECT_EQ(NegotiateMcpVersion("2025-06-18"), "2025-06-18");
  EXPECT_EQ(NegotiateMcpVersion("2025-03-26"), "2025-03-26");
  EXPECT_EQ(NegotiateMcpVersion("2024-11-05"), "2025-11-25");
  EXPECT_EQ(NegotiateMcpVersion(""), "2025-11-25");
  json::object init = McpInitializeResult("2025-06-18", "1.2.3");
  EXPECT_EQ(ToJson(init.at("serverInfo")), R"({"name":"agentd","version":"1.2.3"})");
  EXPECT_TRUE(init.at("capabilities").as_object().contains("tools"));
}

TEST(McpEndpoint, OriginsAllowedOnALoopbackServer) {
  const std::vector<std::string> any = {"*"};
  EXPECT_TRUE(McpOriginAllowed("127.0.0.1", std::nullopt, any));
  EXPECT_TRUE(McpOriginAllowed("127.0.0.1", "http://localhost:8123", any));
  EXPECT_TRUE(McpOriginAllowed("127.0.0.1", "http://[::1]:8123", any));
  EXPECT_FALSE(McpOriginAllowed("127.0.0.1", "http://evil.example.com", any));
  EXPECT_FALSE(McpOriginAllowed("localhost", "https://127.0.0.1.evil.example.com", any));
  EXPECT_TRUE(McpOriginAllowed("127.0.0.1", "https://app.example.com", {"https://app.example.com"}));
  EXPECT_TRUE(McpOriginAllowed("0.0.0.0", "http://evil.example.com", any));
}

class InteropTest : public ApiTest {
 protected:
  // The registry keeps the graph alive for the test (it is never reloaded here).
  const runtime::GraphInfo* Graph(std::string_view id) { return graphs_.Find(id).get(); }
  Reply Rpc(std::string target, std::string body) { return Post(std::move(target), std::move(body)); }
};

TEST_F(InteropTest, ToolJsonAddsThreadIdAndMessageToTheGraphsInputSchema) {
  json::object tool = McpToolJson(UserAssistant("e"), Graph("echo"));
  const json::object& schema = tool.at("inputSchema").as_object();
  EXPECT_EQ(Str(schema.at("type")), "object");
  const json::object& props = schema.at("properties").as_object();
  EXPECT_TRUE(props.contains("messages"));  // the graph's own
  EXPECT_EQ(Str(props.at("message").at("type")), "string");
  EXPECT_EQ(Str(props.at("thread_id").at("type")), "string");

  runtime::GraphInfo strict = *Graph("echo");
  strict.input_schema.as_object()["required"] = json::array{"messages", "topic"};
  json::object relaxed = McpToolJson(UserAssistant("e"), &strict);
  EXPECT_EQ(ToJson(relaxed.at("inputSchema").at("required")), R"(["topic"])");
}

TEST_F(InteropTest, ToolCallArguments) {
  auto text = ReadToolCallArgs(Graph("echo"), json::parse(R"({"message":"hi"})"));
  ASSERT_TRUE(text) << text.error().message;
  EXPECT_EQ(ToJson(text->input), R"({"messages":[{"role":"user","content":"hi"}]})");
  EXPECT_EQ(text->thread_id, std::nullopt);

  auto on_thread = ReadToolCallArgs(
      Graph("echo"), json::parse(R"({"messages":[],"thread_id":"00000000-0000-4000-8000-000000000000"})"));
  ASSERT_TRUE(on_thread);
  EXPECT_EQ(on_thread->thread_id, std::string(kMissingId));
  EXPECT_EQ(ToJson(on_thread->input), R"({"messages":[]})");

  EXPECT_FALSE(ReadToolCallArgs(Graph("echo"), json::parse(R"({"thread_id":"nope","message":"x"})")));
  EXPECT_FALSE(ReadToolCallArgs(Graph("echo"), json::parse(R"({"message":5})")));
  EXPECT_FALSE(ReadToolCallArgs(Graph("echo"), json::parse(R"({})")));
  EXPECT_FALSE(ReadToolCallArgs(Graph("echo"), json::parse(R"([1])")));
}

TEST(RunAnswer, ReadsTheLastMessageOrTheErrorOrTheInterrupt) {
  RunAnswer done = ReadAnswer(json::parse(
      R"({"messages":[{"type":"human","content":"hi"},{"type":"ai","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}]})"));
  EXPECT_EQ(done.kind, RunAnswer::Kind::kDone);
  EXPECT_EQ(done.text, "ab");
  RunAnswer plain = ReadAnswer(json::parse(R"({"count":3})"));
  EXPECT_EQ(plain.text, R"({"count":3})");
  RunAnswer failed = ReadAnswer(json::parse(R"({"__error__":{"error":"ValueError","message":"boom"}})"));
  EXPECT_EQ(failed.kind, RunAnswer::Kind::kError);
  EXPECT_EQ(failed.text, "boom");
  EXPECT_EQ(failed.error_type, "ValueError");
  RunAnswer waiting = ReadAnswer(json::parse(R"({"__interrupt__":[{"value":"ok?"}]})"));
  EXPECT_EQ(waiting.kind, RunAnswer::Kind::kInterrupted);
}

TEST(A2a, MethodsOfBothDialects) {
  EXPECT_EQ(ParseA2aMethod("SendMessage")->method, A2aMethod::kSend);
  EXPECT_EQ(ParseA2aMethod("SendMessage")->dialect, A2aDialect::kV1);
  EXPECT_EQ(ParseA2aMethod("message/stream")->method, A2aMethod::kStream);
  EXPECT_EQ(ParseA2aMethod("message/stream")->dialect, A2aDialect::kV03);
  EXPECT_EQ(ParseA2aMethod("tasks/cancel")->method, A2aMethod::kCancel);
  EXPECT_EQ(ParseA2aMethod("ListTasks")->method, A2aMethod::kList);
  EXPECT_FALSE(ParseA2aMethod("tasks/pushNotificationConfig/set"));
}

TEST(A2a, TasksAndMessagesInEachDialect) {
  RunAnswer answer = ReadAnswer(json::parse(R"({"messages":[{"type":"ai","content":"yes"}]})"));
  json::object v1 = TaskJson("t", "c", TaskState::kCompleted, &answer, "", A2aDialect::kV1);
  EXPECT_EQ(Str(v1.at("status").at("state")), "TASK_STATE_COMPLETED");
  EXPECT_EQ(Str(v1.at("status").at("message").at("role")), "ROLE_AGENT");
  EXPECT_EQ(ToJson(v1.at("artifacts")), R"([{"artifactId":"answer","name":"answer","parts":[{"text":"yes"}]}])");
  EXPECT_FALSE(v1.contains("kind"));
  json::object v03 = TaskJson("t", "c", TaskState::kCompleted, &answer, "", A2aDialect::kV03);
  EXPECT_EQ(Str(v03.at("kind")), "task");
  EXPECT_EQ(Str(v03.at("status").at("state")), "completed");
  EXPECT_EQ(Str(v03.at("status").at("message").at("role")), "agent");

  EXPECT_EQ(StateOfRun(model::RunStatus::kInterrupted, nullptr), TaskState::kCanceled);
  EXPECT_EQ(StateOfRun(model::RunStatus::kTimeout, nullptr), TaskState::kFailed);
  EXPECT_EQ(StateOfRun(model::RunStatus::kRunning, nullptr), TaskState::kWorking);

  auto both = ReadMessage(json::parse(
      R"({"parts":[{"text":"a"},{"kind":"text","text":"b"},{"data":{"x":1}}]})"));
  ASSERT_TRUE(both);
  EXPECT_EQ(both->text, "a\nb");
  EXPECT_EQ(ToJson(*both->data), R"({"x":1})");
  EXPECT_FALSE(ReadMessage(json::parse(R"({"parts":[]})")));
  EXPECT_FALSE(ReadMessage(json::parse(R"({"parts":[{"url":"http://x"}]})")));
}

TEST(A2a, LogFrames) {
  auto e = ParseLogFrame("event: values\ndata: {\"a\":1}\nid: 3\n\n");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->event, "values");
  EXPECT_EQ(e->data, R"({"a":1})");
  EXPECT_FALSE(ParseLogFrame(": hb\n"));
}

TEST_F(InteropTest, McpInitializePingAndToolsList) {
  Reply init = Rpc("/mcp", R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18"}})");
  EXPECT_EQ(init.status, 200);
  EXPECT_EQ(Str(init.Json().at("result").at("protocolVersion")), "2025-06-18");
  Reply ping = Rpc("/mcp", R"({"jsonrpc":"2.0","id":"p","method":"ping"})");
  EXPECT_EQ(ping.body, R"({"jsonrpc":"2.0","id":"p","result":{}})");
  Reply list = Rpc("/mcp", R"({"jsonrpc":"2.0","id":2,"method":"tools/list"})");
  std::vector<std::string> names;
  const json::value listed = list.Json();
  for (const auto& t : listed.at("result").at("tools").as_array()) names.push_back(Str(t.at("name")));
  EXPECT_NE(std::find(names.begin(), names.end(), "agent"), names.end()) << list.body;
  EXPECT_NE(std::find(names.begin(), names.end(), "echo"), names.end()) << list.body;
  Reply bad_cursor = Rpc("/mcp", R"({"jsonrpc":"2.0","id":3,"method":"tools/list","params":{"cursor":"x"}})");
  EXPECT_EQ(bad_cursor.Json().at("error").at("code").as_int64(), -32602);
}

TEST_F(InteropTest, McpErrors) {
  Reply parse = Rpc("/mcp", "{oops");
  EXPECT_EQ(parse.status, 400);
  EXPECT_EQ(parse.Json().at("error").at("code").as_int64(), -32700);
  Reply invalid = Rpc("/mcp", R"({"id":1,"method":"ping"})");
  EXPECT_EQ(invalid.status, 400);
  EXPECT_EQ(invalid.Json().at("error").at("code").as_int64(), -32600);
  Reply method = Rpc("/mcp", R"({"jsonrpc":"2.0","id":1,"method":"prompts/list"})");
  EXPECT_EQ(method.status, 200);
  EXPECT_EQ(method.Json().at("error").at("code").as_int64(), -32601);
  Reply tool = Rpc("/mcp", R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"nope"}})");
  EXPECT_EQ(tool.Json().at("error").at("code").as_int64(), -32602);
  Reply note = Rpc("/mcp", R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
  EXPECT_EQ(note.status, 202);
  EXPECT_EQ(note.body, "");
  EXPECT_EQ(Get("/mcp").status, 405);
  EXPECT_EQ(Call(http::Method::kPost, "/mcp", R"({"jsonrpc":"2.0","id":1,"method":"ping"})").status, 200);
}

TEST_F(InteropTest, AgentCards) {
  Reply by_path = Get("/a2a/agent/.well-known/agent-card.json");
  EXPECT_EQ(by_path.status, 200) << by_path.body;
  json::value card = by_path.Json();
  EXPECT_EQ(Str(card.at("name")), "agent");
  const std::string url = Str(card.at("supportedInterfaces").at(0).at("url"));
  EXPECT_NE(url.find("/a2a/" + std::string(kAgentAssistantId)), std::string::npos) << url;
  Reply by_query = Get("/.well-known/agent-card.json?assistant_id=" + std::string(kAgentAssistantId));
  EXPECT_EQ(by_query.status, 200);
  EXPECT_EQ(Get("/.well-known/agent-card.json").status, 400);
  EXPECT_EQ(Get("/a2a/" + std::string(kMissingId) + "/.well-known/agent-card.json").status, 404);
}

}  // namespace
}  // namespace agentd::api::testing
