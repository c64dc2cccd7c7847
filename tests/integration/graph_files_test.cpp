// Graph files through the real binary (build/agentd, AGENTD_BINARY): `agentd mock-llm` answers
// the mock's structured-output and `system?` rules over HTTP; `agentd config --validate` and
// `agentd serve` list every error of malformed graph files (and serve never starts); the demo
// graph files (examples/graphs/demo) run on the mock, `workflow`, `approval` (interrupt,
// approve, deny) and `supervisor` (a subgraph, with and without stream_subgraphs) event by event
// like the reference server's captures (graph_golden/), `router` with structured output.
// Children are started on free loopback ports and always killed by pid; waits are bounded.

#include <chrono>
#include <csignal>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
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

TEST(MockLlmBinary, AnswersStructuredOutputAndTheSystemProbeOverHttp) {
  testing::TempDir dir;
  const std::uint16_t port = testing::FreePort();
  ChildProcess mock({AGENTD_BINARY, "mock-llm", "--port", std::to_string(port)}, dir.path());
  ASSERT_TRUE(testing::WaitHttpOk(port, "/health", 20s)) << mock.Stderr();
  HttpClient c(port);

  auto structured = c.Post("/v1/chat/completions", R"({"model":"mock","messages":[
      {"role":"system","content":"Classify."},{"role":"user","content":"my invoice is wrong"}],
      "response_format":{"type":"json_schema","json_schema":{"name":"r","schema":{
        "type":"object","properties":{"route":{"type":"string","enum":["general","invoice"]},
        "words":{"type":"integer"}}}}}})");
  ASSERT_EQ(structured.status, 200) << structured.body;
  EXPECT_EQ(json::parse(structured.body).at("choices").at(0).at("message").at("content"),
            R"({"route":"invoice","words":4})");

  auto forced = c.Post("/v1/chat/completions", R"({"stream":true,"messages":[
      {"role":"user","content":"hello"}],"tools":[{"name":"respond","input_schema":{"type":"string"}}],
      "tool_choice":{"type":"tool","name":"respond"}})");
  ASSERT_EQ(forced.status, 200);
  EXPECT_NE(forced.body.find(R"("name":"respond")"), std::string::npos) << forced.body;
  EXPECT_NE(forced.body.find(R"("finish_reason":"tool_calls")"), std::string::npos) << forced.body;

  auto probe = c.Post("/v1/chat/completions", R"({"messages":[{"role":"system","content":"A"},
      {"role":"system","content":"B"},{"role":"user","content":"system?"}]})");
  ASSERT_EQ(probe.status, 200);
  EXPECT_EQ(json::parse(probe.body).at("choices").at(0).at("message").at("content"), "system: A | B");
}

void Write(const std::filesystem::path& path, std::string_view text) {
  std::ofstream(path) << text;
}

// Two malformed files: every error of both is listed, with file, line, column and key path.
void WriteMalformedGraphs(const std::filesystem::path& dir) {
  Write(dir / "a.yaml", R"(graph_id: a
nodes:
  classify: {kind: llm, model: gpt-9, output: {channel: route, schema: {type: string}}}
  answer: {kind: lm}
edges:
  - {from: __start__, to: classify}
  - {from: classify, to: nowhere}
)");
  Write(dir / "b.json", R"({"graph_id": "echo",
  "nodes": {"one": {"kind": "set", "update": {"x": "{{state.y}}"}}},
  "edges": [{"from": "__start__", "to": "one"}, {"from": "one", "to": "__end__"}]}
)");
}

constexpr std::string_view kExpectedErrors[] = {
    "a.yaml:4:18: nodes.answer.kind: unknown node kind \"lm\"",
    "a.yaml:3:32: nodes.classify.model: unknown model \"gpt-9\" (configured: mock)",
    "a.yaml:3:57: nodes.classify.output.channel: output channel \"route\" is not a declared channel",
    "a.yaml:7:26: edges[1].to: unknown node \"nowhere\" (nodes: classify, answer)",
    "a.yaml:4:3: nodes.answer: unreachable: no edge from __start__ leads here",
    "b.json:2:47: nodes.one.update.x: update of \"x\" is not a declared channel",
    "b.json:2:52: nodes.one.update.x: {{state.y}}: \"y\" is not a declared channel",
    "b.json:1:14: graph_id: duplicate graph id \"echo\": the configuration already declares it",
};

TEST(GraphFilesBinary, ConfigValidateListsEveryErrorOfEveryFile) {
  testing::TempDir dir;
  const auto graphs = dir.path() / "graphs";
  std::filesystem::create_directories(graphs);
  WriteMalformedGraphs(graphs);
  ChildProcess validate({AGENTD_BINARY, "config", "--validate", "--graphs-dir", graphs.string()}, dir.path());
  ASSERT_EQ(validate.WaitExit(30s), 1);
  const std::string err = validate.Stderr();
  for (std::string_view expected : kExpectedErrors) {
    EXPECT_NE(err.find(std::string((graphs / "").string()) + std::string(expected)), std::string::npos)
        << "missing: " << expected << "\nin:\n" << err;
  }
  EXPECT_NE(err.find("problem(s) in graph files"), std::string::npos) << err;

  // A config file names graph files relative to its own directory.
  Write(dir.path() / "agentd.json", R"({"graphs_dir": "graphs"})");
  ChildProcess with_file({AGENTD_BINARY, "config", "--validate", (dir.path() / "agentd.json").string()}, dir.path());
  ASSERT_EQ(with_file.WaitExit(30s), 1);
  EXPECT_NE(with_file.Stderr().find("a.yaml:4:18: nodes.answer.kind"), std::string::npos) << with_file.Stderr();
}

TEST(GraphFilesBinary, ServeRefusesToStartWithAMalformedGraphFile) {
  testing::TempDir dir;
  WriteMalformedGraphs(dir.path());
  const std::uint16_t port = testing::FreePort();
  ChildProcess serve({AGENTD_BINARY, "serve", "--storage", "memory", "--port", std::to_string(port),
                      "--graphs-dir", dir.path().string()},
                     dir.path());
  ASSERT_EQ(serve.WaitExit(30s), 1) << "serve started with a malformed graph file";
  const std::string err = serve.Stderr();
  for (std::string_view expected : kExpectedErrors) {
    EXPECT_NE(err.find(expected), std::string::npos) << "missing: " << expected << "\nin:\n" << err;
  }
  EXPECT_NE(err.find("not starting"), std::string::npos) << err;
}

TEST(GraphFilesBinary, ValidGraphFilesPassValidation) {
  testing::TempDir dir;
  Write(dir.path() / "ok.yml", R"(graph_id: ok
state: {route: {type: string}}
nodes:
  classify: {kind: llm, model: mock, output: {channel: route, schema: {type: string, enum: [billing, general]}}}
  done: {kind: set, update: {messages: [{role: ai, content: "route: {{state.route}}"}]}}
edges:
  - {from: __start__, to: classify}
  - {from: classify, to: done}
  - {from: done, to: __end__}
)");
  ChildProcess validate({AGENTD_BINARY, "config", "--validate", "--graphs-dir", dir.path().string()}, dir.path());
  ASSERT_EQ(validate.WaitExit(30s), 0) << validate.Stderr();
  EXPECT_EQ(validate.Stdout(), "ok: demo (1 models, 1 tools, 3 graphs)\n");
}

// One SSE event: its name and JSON data (multi-line data joined, as a client does).
struct SseEvent {
  std::string name;
  json::value data;
};

std::vector<SseEvent> ParseSse(const std::string& body) {
  std::vector<SseEvent> out;
  std::string name, data;
  std::size_t pos = 0;
  auto flush = [&] {
    if (!name.empty()) out.push_back({name, data.empty() ? json::value() : json::parse(data)});
    name.clear();
    data.clear();
  };
  while (pos <= body.size()) {
    auto end = body.find('\n', pos);
    if (end == std::string::npos) end = body.size();
    const std::string line = body.substr(pos, end - pos);
    if (line.empty()) {
      flush();
    } else if (line.rfind("event: ", 0) == 0) {
      name = line.substr(7);
    } else if (line.rfind("data: ", 0) == 0) {
      if (!data.empty()) data += '\n';
      data += line.substr(6);
    }
    pos = end + 1;
  }
  flush();
  return out;
}

std::string Text(const json::value& content) {
  return content.is_string() ? std::string(content.get_string()) : json::serialize(content);
}

// An event name with the task ids of its namespace masked: "updates|researcher:<id>".
std::string MaskedName(const std::string& name) {
  std::string out = name.substr(0, name.find('|'));
  for (std::size_t bar = name.find('|'); bar != std::string::npos;) {
    const std::size_t next = name.find('|', bar + 1);
    const std::string part = name.substr(bar + 1, next == std::string::npos ? std::string::npos : next - bar - 1);
    out += "|" + part.substr(0, part.find(':')) + ":<id>";
    bar = next;
  }
  return out;
}

// Interrupts without their random ids: [value, ...].
std::string Interrupts(const json::value& list) {
  json::array values;
  for (const auto& i : list.as_array()) values.push_back(i.at("value"));
  return json::serialize(values);
}

std::string Channels(const json::object& channels) {
  std::string line;
  for (const auto& [key, value] : channels) {
    line += " " + std::string(key);
    if (key == "messages") {
      for (const auto& m : value.as_array()) line += " [" + Text(m.at("content")) + "]";
    } else if (key == "__interrupt__") {
      line += "=" + Interrupts(value);
    } else {
      line += "=" + json::serialize(value);
    }
  }
  return line;
}

// What must match the reference, event by event, with ids, timestamps and platform metadata
// left out: the event name (namespace task ids masked); for `updates` the node and the keys and
// message texts it wrote (interrupt values); for `values` the channels and message texts; for
// `messages` the node, message type and content.
std::vector<std::string> Comparable(const std::vector<SseEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) {
    std::string line = MaskedName(e.name);
    const std::string mode = e.name.substr(0, e.name.find('|'));
    if (mode == "updates") {
      for (const auto& [node, update] : e.data.as_object()) {
        line += " " + std::string(node) + ":";
        if (node == "__interrupt__") {
          line += " " + Interrupts(update);
        } else {
          line += Channels(update.as_object());
        }
      }
    } else if (mode == "values") {
      line += Channels(e.data.as_object());
    } else if (mode == "messages") {
      const auto& message = e.data.as_array()[0].as_object();
      const auto& meta = e.data.as_array()[1].as_object();
      line += " " + Text(meta.at("langgraph_node")) + " " + Text(message.at("type")) + " [" +
              Text(message.at("content")) + "]";
    }
    out.push_back(line);
  }
  return out;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

class DemoGraphs : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = testing::FreePort();
    server_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{AGENTD_BINARY, "serve", "--storage", "memory", "--port", std::to_string(port_),
                                 "--graphs-dir", AGENTD_DEMO_GRAPHS_DIR, "--log-level", "warn"},
        dir_.path());
    ASSERT_TRUE(testing::WaitHttpOk(port_, "/ok", 20s)) << server_->Stderr();
    client_ = std::make_unique<HttpClient>(port_, "127.0.0.1", 20s);
  }
  std::string NewThread() {
    return std::string(json::parse(client_->Post("/threads", "{}").body).at("thread_id").as_string());
  }
  std::vector<SseEvent> Stream(const std::string& graph, const std::string& text) {
    auto r = client_->Post("/threads/" + NewThread() + "/runs/stream",
                           R"({"assistant_id":")" + graph + R"(","input":{"messages":[{"role":"human","content":")" +
                               text + R"("}]},"stream_mode":["values","updates","messages-tuple"]})");
    EXPECT_EQ(r.status, 200) << r.body;
    return ParseSse(r.body);
  }

  testing::TempDir dir_;
  std::uint16_t port_ = 0;
  std::unique_ptr<ChildProcess> server_;
  std::unique_ptr<HttpClient> client_;
};

TEST_F(DemoGraphs, WorkflowStreamsMatchTheReferenceEventByEvent) {
  for (const auto& [capture, text] : std::vector<std::pair<std::string, std::string>>{
           {"workflow-plain.sse", "hello"}, {"workflow-billing.sse", "my invoice is wrong"}}) {
    SCOPED_TRACE(capture);
    const auto reference = Comparable(ParseSse(ReadFile(std::string(AGENTD_PEER_CAPTURES_DIR) + "/" + capture)));
    const auto ours = Comparable(Stream("workflow", text));
    ASSERT_FALSE(reference.empty());
    EXPECT_EQ(ours, reference);
  }
}

TEST_F(DemoGraphs, RouterWritesTheStructuredRouteAndBranchesOnIt) {
  const auto billing = Comparable(Stream("router", "a billing question"));
  ASSERT_FALSE(billing.empty());
  EXPECT_EQ(billing.back(),
            R"(values messages [a billing question] [{"value":"billing"}] [echo: a billing question] [summary: billing] route="billing")");
  const auto general = Comparable(Stream("router", "hello there"));
  EXPECT_EQ(general.back(),
            R"(values messages [hello there] [{"value":"general"}] [echo: hello there] [summary: general] route="general")");
  // The assistant's configurable sets the graph's knobs: the tone reaches the system prompt.
  auto assistant = client_->Post("/assistants", R"({"graph_id":"router","config":{"configurable":{"tone":"terse"}}})");
  ASSERT_EQ(assistant.status, 200) << assistant.body;
  const std::string id(json::parse(assistant.body).at("assistant_id").as_string());
  auto r = client_->Post("/threads/" + NewThread() + "/runs/wait",
                         R"({"assistant_id":")" + id +
                             R"(","input":{"messages":[{"role":"human","content":"system? please"}]}})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("system: You help with anything else. Be terse."), std::string::npos) << r.body;

  // A declared knob of the wrong type is a 422 naming it; undeclared keys pass untouched.
  auto bad = client_->Post("/assistants", R"({"graph_id":"router","config":{"configurable":{"tone":3,"user_id":"u"}}})");
  EXPECT_EQ(bad.status, 422) << bad.body;
  EXPECT_EQ(json::parse(bad.body).at("detail"),
            "config.configurable.tone: graph router declares this knob as \"string\", got 3")
      << bad.body;
  auto bad_run = client_->Post("/runs/wait", R"({"assistant_id":"router","context":{"tone":false},)"
                                             R"("input":{"messages":[{"role":"human","content":"x"}]}})");
  EXPECT_EQ(bad_run.status, 422) << bad_run.body;
  EXPECT_NE(bad_run.body.find("context.tone"), std::string::npos) << bad_run.body;
  auto fine = client_->Post("/assistants", R"({"graph_id":"router","config":{"configurable":{"user_id":"u"}}})");
  EXPECT_EQ(fine.status, 200) << fine.body;
}

TEST_F(DemoGraphs, InterruptPausesTheRunAndCommandResumeContinuesIt) {
  const std::string thread = NewThread();
  auto first = client_->Post("/threads/" + thread + "/runs/stream",
                             R"({"assistant_id":"refund","input":{"messages":[{"role":"human","content":"refund me"}]},)"
                             R"("stream_mode":["values","updates"]})");
  ASSERT_EQ(first.status, 200) << first.body;
  const auto events = ParseSse(first.body);
  ASSERT_GE(events.size(), 2u);
  // As LangGraph ends an interrupted run: updates then values, both only {"__interrupt__": [...]}.
  const auto& updates = events[events.size() - 2];
  const auto& values = events.back();
  EXPECT_EQ(updates.name, "updates");
  EXPECT_EQ(values.name, "values");
  const auto& interrupt = updates.data.at("__interrupt__").at(0);
  EXPECT_EQ(interrupt.at("id").as_string().size(), 32u);
  EXPECT_EQ(json::serialize(interrupt.at("value")), R"({"question":"send this reply?","draft":"echo: refund me"})");
  EXPECT_EQ(values.data, updates.data);

  auto state = json::parse(client_->Get("/threads/" + thread + "/state").body);
  EXPECT_EQ(json::serialize(state.at("next")), R"(["approve"])");
  const auto& task = state.at("tasks").at(0);
  EXPECT_EQ(task.at("interrupts").at(0), interrupt);
  auto info = json::parse(client_->Get("/threads/" + thread).body);
  EXPECT_EQ(info.at("status"), "interrupted");
  EXPECT_EQ(info.at("interrupts").at(task.at("id").as_string()).at(0), interrupt);

  auto resumed = client_->Post("/threads/" + thread + "/runs/wait",
                               R"({"assistant_id":"refund","command":{"resume":{"approved":true}}})");
  ASSERT_EQ(resumed.status, 200) << resumed.body;
  auto result = json::parse(resumed.body);
  EXPECT_EQ(json::serialize(result.at("decision")), R"({"approved":true})");
  EXPECT_EQ(result.at("messages").as_array().back().at("content"), "sent: echo: refund me");
  info = json::parse(client_->Get("/threads/" + thread).body);
  EXPECT_EQ(info.at("status"), "idle");
}

// approval (examples/graphs/demo/approval.yaml): the first run ends at the interrupt exactly as
// the reference's does (approval-interrupt.sse), the thread shows it (state `next`/`tasks`,
// thread `interrupted` with `interrupts` keyed by the task id, the run `success`), and
// command.resume {approved: true} runs the tool while {approved: false} answers "denied",
// each stream event by event like approval-resume-{approved,denied}.sse.
TEST_F(DemoGraphs, ApprovalStreamsMatchTheReferenceThroughInterruptAndResume) {
  const std::string captures = AGENTD_PEER_CAPTURES_DIR;
  auto first_run = [&](const std::string& thread) {
    auto r = client_->Post("/threads/" + thread + "/runs/stream",
                           R"({"assistant_id":"approval","input":{"messages":[{"role":"human","content":"weather in paris?"}]},)"
                           R"("stream_mode":["values","updates","messages-tuple"]})");
    EXPECT_EQ(r.status, 200) << r.body;
    return ParseSse(r.body);
  };
  auto resume = [&](const std::string& thread, bool approved) {
    auto r = client_->Post("/threads/" + thread + "/runs/stream",
                           std::string(R"({"assistant_id":"approval","command":{"resume":{"approved":)") +
                               (approved ? "true" : "false") + R"(}},"stream_mode":["values","updates","messages-tuple"]})");
    EXPECT_EQ(r.status, 200) << r.body;
    return ParseSse(r.body);
  };

  const std::string a = NewThread();
  const auto interrupted = first_run(a);
  EXPECT_EQ(Comparable(interrupted), Comparable(ParseSse(ReadFile(captures + "/approval-interrupt.sse"))));
  ASSERT_GE(interrupted.size(), 1u);
  const json::value interrupt = interrupted.back().data.at("__interrupt__").at(0);
  EXPECT_EQ(interrupt.at("id").as_string().size(), 32u);

  auto state = json::parse(client_->Get("/threads/" + a + "/state").body);
  EXPECT_EQ(json::serialize(state.at("next")), R"(["approve"])");
  const auto& task = state.at("tasks").at(0);
  EXPECT_EQ(task.at("name"), "approve");
  EXPECT_EQ(task.at("interrupts").at(0), interrupt);
  auto thread = json::parse(client_->Get("/threads/" + a).body);
  EXPECT_EQ(thread.at("status"), "interrupted");
  EXPECT_EQ(thread.at("interrupts").at(task.at("id").as_string()).at(0), interrupt);
  auto runs = json::parse(client_->Get("/threads/" + a + "/runs").body);
  EXPECT_EQ(runs.at(0).at("status"), "success");

  EXPECT_EQ(Comparable(resume(a, true)), Comparable(ParseSse(ReadFile(captures + "/approval-resume-approved.sse"))));
  state = json::parse(client_->Get("/threads/" + a + "/state").body);
  EXPECT_EQ(json::serialize(state.at("next")), "[]");
  EXPECT_EQ(json::serialize(state.at("tasks")), "[]");
  thread = json::parse(client_->Get("/threads/" + a).body);
  EXPECT_EQ(thread.at("status"), "idle");
  EXPECT_EQ(json::serialize(thread.at("interrupts")), "{}");

  const std::string b = NewThread();
  EXPECT_EQ(Comparable(first_run(b)), Comparable(ParseSse(ReadFile(captures + "/approval-interrupt-2.sse"))));
  const auto denied = resume(b, false);
  EXPECT_EQ(Comparable(denied), Comparable(ParseSse(ReadFile(captures + "/approval-resume-denied.sse"))));
  // The "denied" tool message answers the AI message's call, by its id and tool name.
  state = json::parse(client_->Get("/threads/" + b + "/state").body);
  const auto& messages = state.at("values").at("messages").as_array();
  ASSERT_EQ(messages.size(), 4u);
  EXPECT_EQ(messages[2].at("type"), "tool");
  EXPECT_EQ(messages[2].at("name"), "get_weather");
  EXPECT_EQ(messages[2].at("tool_call_id"), messages[1].at("tool_calls").at(0).at("id"));
  EXPECT_EQ(messages[3].at("content"), "echo: denied");
}

// supervisor (examples/graphs/demo/supervisor.yaml): the built-in `agent` runs as the
// `researcher` subgraph. Without stream_subgraphs its new messages arrive whole under
// `researcher` (supervisor-no-subgraphs.sse); with it, its events are namespaced
// `<mode>|researcher:<task id>` with the full checkpoint_ns path in the message metadata
// (supervisor-subgraphs-no-values.sse). With `values` too the reference fails (a TypeError, see
// the captures' README); agentd sends namespaced `values` events as LangGraph documents.
TEST_F(DemoGraphs, SupervisorRunsTheAgentAsANamespacedSubgraphLikeTheReference) {
  const std::string captures = AGENTD_PEER_CAPTURES_DIR;
  auto stream = [&](const std::string& modes, bool subgraphs) {
    auto r = client_->Post("/threads/" + NewThread() + "/runs/stream",
                           R"({"assistant_id":"supervisor","input":{"messages":[{"role":"human","content":"weather in paris?"}]},)"
                           R"("stream_mode":)" + modes + R"(,"stream_subgraphs":)" + (subgraphs ? "true" : "false") + "}");
    EXPECT_EQ(r.status, 200) << r.body;
    return ParseSse(r.body);
  };
  EXPECT_EQ(Comparable(stream(R"(["updates","messages-tuple","values"])", false)),
            Comparable(ParseSse(ReadFile(captures + "/supervisor-no-subgraphs.sse"))));

  const auto namespaced = stream(R"(["updates","messages-tuple"])", true);
  EXPECT_EQ(Comparable(namespaced), Comparable(ParseSse(ReadFile(captures + "/supervisor-subgraphs-no-values.sse"))));
  // The event's namespace is the parent's researcher task; the metadata has the full path.
  bool checked = false;
  for (const auto& e : namespaced) {
    if (e.name.rfind("messages|researcher:", 0) != 0) continue;
    const std::string ns = e.name.substr(std::string("messages|").size());
    const std::string path(e.data.at(1).at("checkpoint_ns").as_string());
    EXPECT_EQ(path.rfind(ns + "|", 0), 0u) << path;
    EXPECT_EQ(e.data.at(1).at("langgraph_checkpoint_ns"), e.data.at(1).at("checkpoint_ns"));
    checked = true;
  }
  EXPECT_TRUE(checked);

  const auto with_values = stream(R"(["updates","messages-tuple","values"])", true);
  ASSERT_FALSE(with_values.empty());
  int sub_values = 0;
  for (const auto& e : with_values) {
    EXPECT_NE(e.name, "error") << json::serialize(e.data);
    if (e.name.rfind("values|researcher:", 0) == 0) ++sub_values;
  }
  EXPECT_GE(sub_values, 2);
  EXPECT_EQ(Comparable({with_values.back()}).front(),
            "values messages [weather in paris?] [] [sunny in paris] [echo: sunny in paris] "
            "[report: echo: sunny in paris]");
}

// A function node behind a real HTTP server: examples/graphs/functions/triage.py (Python's
// standard library), its `goto` overriding the edges; a function that cannot be reached ends the
// run with an error naming graph, node and URL.
TEST(GraphFilesBinary, FunctionNodesCallHttpAndFollowTheirGoto) {
  testing::TempDir dir;
  const std::uint16_t fn_port = testing::FreePort();
  ChildProcess fn({"/usr/bin/python3", AGENTD_EXAMPLES_DIR "/functions/triage.py", std::to_string(fn_port)},
                  dir.path());
  // The function answers POST only: wait for its port with a POST through the client.
  bool up = false;
  for (int i = 0; i < 200 && !up; ++i) {
    try {
      HttpClient probe(fn_port, "127.0.0.1", 1s);
      up = probe.Post("/", "{}").status == 200;
    } catch (const std::exception&) {
      std::this_thread::sleep_for(50ms);
    }
  }
  ASSERT_TRUE(up) << fn.Stderr();
  std::string graph = ReadFile(AGENTD_EXAMPLES_DIR "/functions/triage.yaml");
  graph.replace(graph.find("8765"), 4, std::to_string(fn_port));
  std::string broken = graph;
  broken.replace(broken.find("graph_id: triage"), 16, "graph_id: broken");
  broken.replace(broken.find(std::to_string(fn_port)), std::to_string(fn_port).size(),
                 std::to_string(testing::FreePort()));
  Write(dir.path() / "triage.yaml", graph);
  Write(dir.path() / "broken.yaml", broken);

  const std::uint16_t port = testing::FreePort();
  ChildProcess server({AGENTD_BINARY, "serve", "--storage", "memory", "--port", std::to_string(port),
                       "--graphs-dir", dir.path().string(), "--log-level", "warn"},
                      dir.path());
  ASSERT_TRUE(testing::WaitHttpOk(port, "/ok", 20s)) << server.Stderr();
  HttpClient c(port, "127.0.0.1", 20s);
  auto run = [&](const std::string& graph_id, const std::string& text) {
    return c.Post("/runs/wait", R"({"assistant_id":")" + graph_id +
                                    R"(","input":{"messages":[{"role":"human","content":")" + text + R"("}]}})");
  };
  auto normal = json::parse(run("triage", "hello").body);
  EXPECT_EQ(normal.at("priority"), "normal");
  EXPECT_EQ(normal.at("messages").as_array().back().at("content"), "echo: hello");
  auto urgent = json::parse(run("triage", "urgent: help").body);
  EXPECT_EQ(urgent.at("priority"), "high");
  EXPECT_EQ(urgent.at("messages").as_array().back().at("content"), "escalated to a human (priority high)");

  auto failed = run("broken", "hello");
  EXPECT_NE(failed.body.find("graph broken node triage: POST http://127.0.0.1:"), std::string::npos) << failed.body;
}

}  // namespace
}  // namespace agentd
