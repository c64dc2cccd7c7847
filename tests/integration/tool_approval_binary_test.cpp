// Approval-required and client-side tools through the real binary (AGENTD_BINARY), on the mock
// model (docs/graphs.md "Approval before tools", "Client-side tools"): the graphs of
// examples/graphs/approvals plus one whose AI message needs several pauses. The tools node
// pauses before running anything with LangChain's HITL request; approve, edit and reject
// decisions; a resume of the wrong shape is a 422 that changes nothing; a client tool pauses
// with {type: tool, toolCall} and its resume becomes the tool message.

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "support/child_process.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"

namespace agentd {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::HttpClient;

// Approval and two client tools in one graph: an AI message calling all three pauses three times.
constexpr std::string_view kMulti = R"(graph_id: multi
nodes:
  agent:
    kind: llm
    model: mock
    tools:
      - {name: get_weather, approval: required}
      - {name: get_location, kind: client, description: Where the user is.}
      - {name: get_time, kind: client}
  tools: {kind: tools}
edges:
  - {from: __start__, to: agent}
  - from: agent
    branches:
      - {when: {tool_calls: true}, to: tools}
      - {to: __end__}
  - {from: tools, to: agent}
)";

class ToolApprovalBinary : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto graphs = dir_.path() / "graphs";
    std::filesystem::create_directories(graphs);
    for (const auto& f : std::filesystem::directory_iterator(AGENTD_APPROVAL_GRAPHS_DIR)) {
      std::filesystem::copy_file(f.path(), graphs / f.path().filename());
    }
    std::ofstream(graphs / "multi.yaml") << kMulti;
    port_ = testing::FreePort();
    server_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{AGENTD_BINARY, "serve", "--storage", "memory", "--port", std::to_string(port_),
                                 "--graphs-dir", graphs.string(), "--log-level", "warn"},
        dir_.path());
    ASSERT_TRUE(testing::WaitHttpOk(port_, "/ok", 20s)) << server_->Stderr();
    client_ = std::make_unique<HttpClient>(port_, "127.0.0.1", 20s);
  }
  std::string NewThread() {
    return std::string(json::parse(client_->Post("/threads", "{}").body).at("thread_id").as_string());
  }
  // POST /threads/<t>/runs/wait; the parsed body (status 200 expected).
  json::value Wait(const std::string& thread, const std::string& body) {
    auto r = client_->Post("/threads/" + thread + "/runs/wait", body);
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body);
  }
  json::value Ask(const std::string& thread, const std::string& graph, const std::string& text) {
    return Wait(thread, R"({"assistant_id":")" + graph + R"(","input":{"messages":[{"role":"human","content":")" +
                            text + R"("}]}})");
  }
  json::value Resume(const std::string& thread, const std::string& graph, const std::string& resume) {
    return Wait(thread, R"({"assistant_id":")" + graph + R"(","command":{"resume":)" + resume + "}}");
  }
  json::value State(const std::string& thread) { return json::parse(client_->Get("/threads/" + thread + "/state").body); }
  // "type:content" of every message, e.g. "tool:sunny in paris".
  static std::vector<std::string> Messages(const json::value& values) {
    std::vector<std::string> out;
    for (const auto& m : values.at("messages").as_array()) {
      const auto& c = m.at("content");
      out.push_back(std::string(m.at("type").as_string()) + ":" +
                    (c.is_string() ? std::string(c.get_string()) : json::serialize(c)));
    }
    return out;
  }

  testing::TempDir dir_;
  std::uint16_t port_ = 0;
  std::unique_ptr<ChildProcess> server_;
  std::unique_ptr<HttpClient> client_;
};

TEST_F(ToolApprovalBinary, TheToolsNodePausesWithTheHitlRequestAndApproveRunsTheCall) {
  const std::string thread = NewThread();
  auto first = client_->Post("/threads/" + thread + "/runs/stream",
                             R"({"assistant_id":"guarded_weather","input":{"messages":[{"role":"human","content":"weather?"}]},)"
                             R"("stream_mode":["updates","values"]})");
  ASSERT_EQ(first.status, 200) << first.body;
  // The stream ends like an interrupt node's: updates, then values, both {"__interrupt__": [...]}.
  const auto at = first.body.rfind("event: updates\ndata: {\"__interrupt__\"");
  ASSERT_NE(at, std::string::npos) << first.body;
  const auto data = first.body.find("data: ", at) + 6;
  const json::value updates = json::parse(first.body.substr(data, first.body.find('\n', data) - data));
  const json::value& interrupt = updates.at("__interrupt__").at(0);
  EXPECT_EQ(interrupt.at("id").as_string().size(), 32u);
  const json::value& value = interrupt.at("value");
  const json::value& request = value.at("action_requests").at(0);
  EXPECT_EQ(request.at("name"), "get_weather");
  EXPECT_EQ(json::serialize(request.at("args")), R"({"city":"paris"})");
  EXPECT_EQ(request.at("description"), "Tool execution requires approval\n\nTool: get_weather\nArgs: {\"city\":\"paris\"}");
  EXPECT_EQ(json::serialize(value.at("review_configs")),
            R"([{"action_name":"get_weather","allowed_decisions":["approve","edit","reject"]}])");
  EXPECT_NE(first.body.find("event: values\ndata: {\"__interrupt__\"", at), std::string::npos);

  // The thread: interrupted, `next` the tools node, the interrupt in its task; no tool ran.
  auto state = State(thread);
  EXPECT_EQ(json::serialize(state.at("next")), R"(["tools"])");
  const auto& task = state.at("tasks").at(0);
  EXPECT_EQ(task.at("interrupts").at(0), interrupt);
  EXPECT_EQ(Messages(state.at("values")), (std::vector<std::string>{"human:weather?", "ai:"}));
  auto info = json::parse(client_->Get("/threads/" + thread).body);
  EXPECT_EQ(info.at("status"), "interrupted");
  EXPECT_EQ(info.at("interrupts").at(task.at("id").as_string()).at(0), interrupt);

  auto done = Resume(thread, "guarded_weather", R"({"decisions":[{"type":"approve"}]})");
  EXPECT_EQ(Messages(done), (std::vector<std::string>{"human:weather?", "ai:", "tool:sunny in paris",
                                                      "ai:echo: sunny in paris"}));
  const auto& tool = done.at("messages").at(2);
  EXPECT_EQ(tool.at("status"), "success");
  EXPECT_EQ(tool.at("tool_call_id"), request.at("id"));
  info = json::parse(client_->Get("/threads/" + thread).body);
  EXPECT_EQ(info.at("status"), "idle");
}

TEST_F(ToolApprovalBinary, EditRunsTheCallWithNewArgsAndRejectAnswersWithoutRunningIt) {
  const std::string edited = NewThread();
  Ask(edited, "guarded_weather", "weather?");
  auto done = Resume(edited, "guarded_weather",
                     R"({"decisions":[{"type":"edit","edited_action":{"name":"get_weather","args":{"city":"oslo"}}}]})");
  EXPECT_EQ(Messages(done), (std::vector<std::string>{"human:weather?", "ai:", "tool:sunny in oslo", "ai:echo: sunny in oslo"}));
  // The AI message keeps the call, with the args that ran (LangChain revises it the same way).
  EXPECT_EQ(json::serialize(done.at("messages").at(1).at("tool_calls").at(0).at("args")), R"({"city":"oslo"})");

  const std::string rejected = NewThread();
  Ask(rejected, "guarded_weather", "weather?");
  done = Resume(rejected, "guarded_weather", R"({"decisions":[{"type":"reject","message":"not today"}]})");
  EXPECT_EQ(Messages(done), (std::vector<std::string>{"human:weather?", "ai:", "tool:not today", "ai:echo: not today"}));
  EXPECT_EQ(done.at("messages").at(2).at("status"), "error");

  const std::string silent = NewThread();
  Ask(silent, "guarded_weather", "weather?");
  done = Resume(silent, "guarded_weather", R"({"decisions":[{"type":"reject"}]})");
  const auto& tool = done.at("messages").at(2);
  EXPECT_EQ(tool.at("content").as_string(),
            "User rejected the tool call for `get_weather` with id " + std::string(tool.at("tool_call_id").as_string()));
}

TEST_F(ToolApprovalBinary, AResumeOfTheWrongShapeIsRefusedAndChangesNothing) {
  const std::string thread = NewThread();
  Ask(thread, "guarded_weather", "weather?");
  const json::value before = State(thread);
  const json::value info_before = json::parse(client_->Get("/threads/" + thread).body);
  for (const auto& [resume, detail] : std::vector<std::pair<std::string, std::string>>{
           {R"({"decisions":[]})", "resume.decisions has 0 decision(s) for 1 action request(s) (get_weather); send one "
                                   "per request, in order"},
           {R"({"decisions":[{"type":"approve"},{"type":"approve"}]})",
            "resume.decisions has 2 decision(s) for 1 action request(s) (get_weather); send one per request, in order"},
           {R"({"decisions":[{"type":"maybe"}]})", R"(resume.decisions[0].type: expected approve, edit or reject, got "maybe")"},
           {R"({"decisions":[{"type":"edit"}]})", "resume.decisions[0].edited_action: an edit needs {name, args}"},
           {R"(true)", R"(resume must be {"decisions": [...]} with one decision per action request (1: get_weather), got true)"}}) {
    SCOPED_TRACE(resume);
    auto r = client_->Post("/threads/" + thread + "/runs/wait",
                           R"({"assistant_id":"guarded_weather","command":{"resume":)" + resume + "}}");
    EXPECT_EQ(r.status, 422) << r.body;
    auto body = json::parse(r.body);
    EXPECT_EQ(body.at("error"), "unprocessable");
    EXPECT_EQ(body.at("detail").as_string(), "graph guarded_weather node tools: " + detail);
  }
  // Nothing changed: the same checkpoint, still interrupted with the same interrupt, no run.
  const json::value after = State(thread);
  EXPECT_EQ(after.at("checkpoint").at("checkpoint_id"), before.at("checkpoint").at("checkpoint_id"));
  const json::value info_after = json::parse(client_->Get("/threads/" + thread).body);
  EXPECT_EQ(info_after.at("status"), "interrupted");
  EXPECT_EQ(info_after.at("interrupts"), info_before.at("interrupts"));
  EXPECT_EQ(json::parse(client_->Get("/threads/" + thread + "/runs").body).as_array().size(), 1u);
  // And the right answer still works.
  auto done = Resume(thread, "guarded_weather", R"({"decisions":[{"type":"approve"}]})");
  EXPECT_EQ(Messages(done).back(), "ai:echo: sunny in paris");
}

TEST_F(ToolApprovalBinary, CallsNotMarkedRunWithTheApprovedOnes) {
  // An AI message with a marked call and an unmarked one (a tool the graph does not offer):
  // only the marked one is under review; both are answered when the decision comes.
  const std::string thread = NewThread();
  auto paused = Wait(thread, R"({"assistant_id":"guarded_weather","command":{"goto":"tools","update":{"messages":[
      {"type":"ai","id":"ai-1","content":"","tool_calls":[
        {"id":"c1","name":"get_weather","args":{"city":"rome"}},{"id":"c2","name":"nope","args":{}}]}]}}})");
  const auto& requests = paused.at("__interrupt__").at(0).at("value").at("action_requests").as_array();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].at("id"), "c1");
  auto done = Resume(thread, "guarded_weather", R"({"decisions":[{"type":"approve"}]})");
  EXPECT_EQ(Messages(done), (std::vector<std::string>{"ai:", "tool:sunny in rome", "tool:Error: Tool \"nope\" not found.",
                                                      "ai:echo: Error: Tool \"nope\" not found."}));
}

TEST_F(ToolApprovalBinary, AClientToolPausesWithItsCallAndTheResumeIsItsResult) {
  const std::string thread = NewThread();
  // The mock calls the first tool it is offered: the client tool was offered to the model.
  auto paused = Ask(thread, "client_location", "weather where I am?");
  const json::value& value = paused.at("__interrupt__").at(0).at("value");
  EXPECT_EQ(value.at("type"), "tool");
  const json::value& call = value.at("toolCall");
  EXPECT_EQ(call.at("name"), "get_location");
  EXPECT_EQ(json::serialize(call.at("args")), R"({"city":"paris"})");
  EXPECT_EQ(std::string(call.at("id").as_string()).substr(0, 5), "call_");
  EXPECT_EQ(json::serialize(State(thread).at("next")), R"(["tools"])");
  EXPECT_EQ(json::parse(client_->Get("/threads/" + thread).body).at("status"), "interrupted");

  // A JSON result becomes the tool message's text.
  auto done = Resume(thread, "client_location", R"({"city":"Lyon"})");
  EXPECT_EQ(Messages(done), (std::vector<std::string>{"human:weather where I am?", "ai:", R"(tool:{"city":"Lyon"})",
                                                      R"(ai:echo: {"city":"Lyon"})"}));
  EXPECT_EQ(done.at("messages").at(2).at("tool_call_id"), call.at("id"));
  EXPECT_EQ(done.at("messages").at(2).at("name"), "get_location");
}

TEST_F(ToolApprovalBinary, AMessageNeedingSeveralAnswersPausesOnceForEach) {
  const std::string thread = NewThread();
  auto paused = Wait(thread, R"({"assistant_id":"multi","command":{"goto":"tools","update":{"messages":[
      {"type":"ai","id":"ai-1","content":"","tool_calls":[
        {"id":"c1","name":"get_location","args":{}},{"id":"c2","name":"get_weather","args":{"city":"rome"}},
        {"id":"c3","name":"get_time","args":{"tz":"UTC"}}]}]}}})");
  // Approvals first, before anything runs.
  EXPECT_EQ(paused.at("__interrupt__").at(0).at("value").at("action_requests").at(0).at("id"), "c2");
  paused = Resume(thread, "multi", R"({"decisions":[{"type":"approve"}]})");
  // The approved call ran and is kept; then each client call in order.
  EXPECT_EQ(json::serialize(paused.at("__interrupt__").at(0).at("value")),
            R"({"type":"tool","toolCall":{"id":"c1","name":"get_location","args":{}}})");
  EXPECT_EQ(Messages(State(thread).at("values")), (std::vector<std::string>{"ai:", "tool:sunny in rome"}));
  paused = Resume(thread, "multi", R"("Rome")");
  EXPECT_EQ(json::serialize(paused.at("__interrupt__").at(0).at("value")),
            R"({"type":"tool","toolCall":{"id":"c3","name":"get_time","args":{"tz":"UTC"}}})");
  auto done = Resume(thread, "multi", R"("12:00")");
  EXPECT_EQ(Messages(done), (std::vector<std::string>{"ai:", "tool:sunny in rome", "tool:Rome", "tool:12:00",
                                                      "ai:echo: 12:00"}));
}

}  // namespace
}  // namespace agentd
