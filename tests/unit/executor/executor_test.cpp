// GraphExecutor: runs of the echo and react graphs against memory storage and the in-process
// mock model; checkpoints (agent-protocol.md 6.2), stream events (4.3, 7.4), interrupts,
// cancellation, forks and updateState.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <map>
#include <sstream>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "executor_fixture.hpp"
#include "support/run_co.hpp"
#include "runtime/messages.hpp"

namespace agentd::runtime::testing {
namespace {

namespace asio = boost::asio;
using Kind = RunOutcome::Kind;

const std::set<StreamMode> kAllModes = {StreamMode::kValues,        StreamMode::kUpdates,
                                        StreamMode::kMessagesTuple, StreamMode::kCheckpoints,
                                        StreamMode::kTasks,         StreamMode::kDebug};

std::string Text(const json::value& message) {
  return ContentText(message.as_object().at("content"));
}

std::string Source(const model::Checkpoint& cp) {
  return std::string(cp.metadata.at("source").as_string());
}

TEST_F(ExecutorTest, EchoRunWritesThreeCheckpointsAndValuesUpdatesValues) {
  RecordingSink sink({StreamMode::kValues, StreamMode::kUpdates});
  RunOutcome out = Run("echo", Request("echo", UserInput("hi")), sink);
  ASSERT_EQ(out.kind, Kind::kSuccess) << (out.error ? out.error->message : "");
  EXPECT_EQ(sink.Names(), (std::vector<std::string>{"values", "updates", "values"}));
  const auto& last = sink.events.back().second.as_object().at("messages").as_array();
  ASSERT_EQ(last.size(), 2u);
  EXPECT_EQ(Text(last[1]), "echo: hi");
  EXPECT_EQ(last[1].at("type"), "ai");

  auto history = History();
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(out.checkpoints_written.size(), 3u);
  // Oldest first: input (-1, [__start__]), loop (0, [echo]), loop (1, []).
  EXPECT_EQ(Source(history[2]), "input");
  EXPECT_EQ(history[2].metadata.at("step"), -1);
  EXPECT_EQ(history[2].next, (json::array{"__start__"}));
  EXPECT_FALSE(history[2].parent_checkpoint_id);
  EXPECT_EQ(history[1].metadata.at("step"), 0);
  EXPECT_EQ(history[1].next, (json::array{"echo"}));
  EXPECT_EQ(*history[1].parent_checkpoint_id, history[2].checkpoint_id);
  EXPECT_EQ(history[0].metadata.at("step"), 1);
  EXPECT_TRUE(history[0].next.empty());
  EXPECT_TRUE(history[0].metadata.at("writes").as_object().contains("echo"));
  EXPECT_EQ(history[0].metadata.at("run_id"), json::value(history[0].run_id));
  EXPECT_EQ(history[0].message_count, 2);
  EXPECT_EQ(history[0].appended_messages.size(), 1u);
  EXPECT_EQ(MessagesAt(history[0].checkpoint_id).size(), 2u);
  EXPECT_EQ(out.values.at("messages").as_array().size(), 2u);
}

TEST_F(ExecutorTest, ReactPlainTurnWritesThreeCheckpoints) {
  RecordingSink sink({StreamMode::kValues});
  RunOutcome out = Run("agent", Request("agent", UserInput("hello there")), sink);
  ASSERT_EQ(out.kind, Kind::kSuccess) << (out.error ? out.error->message : "");
  EXPECT_EQ(History().size(), 3u);
  const auto& messages = out.values.at("messages").as_array();
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(Text(messages[1]), "echo: hello there");
  const auto& ai = messages[1].as_object();
  EXPECT_EQ(ai.at("response_metadata").at("finish_reason"), "stop");
  EXPECT_EQ(ai.at("usage_metadata").at("total_tokens").as_int64(),
            ai.at("usage_metadata").at("input_tokens").as_int64() +
                ai.at("usage_metadata").at("output_tokens").as_int64());
}

TEST_F(ExecutorTest, ReactToolRoundWritesFiveCheckpointsAndEndsWithToolResult) {
  RecordingSink sink({StreamMode::kUpdates});
  RunOutcome out = Run("agent", Request("agent", UserInput("what is the weather?")), sink);
  ASSERT_EQ(out.kind, Kind::kSuccess) << (out.error ? out.error->message : "");
  auto history = History();
  ASSERT_EQ(history.size(), 5u);
  std::vector<json::value> nexts;
  for (auto it = history.rbegin(); it != history.rend(); ++it) nexts.push_back(it->next);
  EXPECT_EQ(json::value_from(nexts),
            json::parse(R"([["__start__"],["model"],["tools"],["model"],[]])"));
  EXPECT_EQ(sink.Names(), (std::vector<std::string>{"updates", "updates", "updates"}));
  const auto& messages = out.values.at("messages").as_array();
  ASSERT_EQ(messages.size(), 4u);
  const auto& call = messages[1].at("tool_calls").as_array().at(0).as_object();
  EXPECT_EQ(call.at("name"), "get_weather");
  EXPECT_EQ(call.at("args"), json::parse(R"({"city":"paris"})"));
  EXPECT_EQ(call.at("type"), "tool_call");
  const auto& tool = messages[2].as_object();
  EXPECT_EQ(tool.at("type"), "tool");
  EXPECT_EQ(tool.at("status"), "success");
  EXPECT_EQ(tool.at("content"), "sunny in paris");
  EXPECT_EQ(tool.at("tool_call_id"), call.at("id"));
  EXPECT_EQ(Text(messages[3]), "echo: sunny in paris");
}

TEST_F(ExecutorTest, OutcomeSumsTokenUsageOfEveryModelCall) {
  RecordingSink sink({});
  RunOutcome out = Run("agent", Request("agent", UserInput("what is the weather?")), sink);
  ASSERT_EQ(out.kind, Kind::kSuccess);
  // Two model calls: the tool call and the final reply; each message reports its own usage.
  std::int64_t input = 0, output = 0;
  for (const auto& m : out.values.at("messages").as_array()) {
    if (m.at("type") != "ai") continue;
    input += m.at("usage_metadata").at("input_tokens").as_int64();
    output += m.at("usage_metadata").at("output_tokens").as_int64();
  }
  EXPECT_GT(input, 0);
  EXPECT_GT(output, 0);
  EXPECT_EQ(out.usage.input_tokens, input);
  EXPECT_EQ(out.usage.output_tokens, output);
}

TEST_F(ExecutorTest, AppendChannelsConcatenateAcrossRunsAndOthersKeepTheLastValue) {
  RecordingSink sink({});
  auto first = json::parse(R"({"messages":[{"role":"user","content":"a"}],"notes":["n1","n2"],"mood":"calm"})");
  ASSERT_EQ(Run("echo", Request("echo", first), sink).kind, Kind::kSuccess);
  auto second = json::parse(R"({"messages":[{"role":"user","content":"b"}],"notes":"n3","mood":"busy"})");
  RunOutcome out = Run("echo", Request("echo", second), sink);
  ASSERT_EQ(out.kind, Kind::kSuccess);
  EXPECT_EQ(out.values.at("notes"), json::parse(R"(["n1","n2","n3"])"));
  EXPECT_EQ(out.values.at("mood"), "busy");
  // The channel survives in the checkpoint: a third run loads it from storage.
  auto third = json::parse(R"({"messages":[{"role":"user","content":"c"}],"notes":[]})");
  EXPECT_EQ(Run("echo", Request("echo", third), sink).values.at("notes"),
            json::parse(R"(["n1","n2","n3"])"));
}

TEST_F(ExecutorTest, MessageChunksJoinToFinalTextAndShareItsId) {
  RecordingSink sink({StreamMode::kMessagesTuple, StreamMode::kValues});
  RunOutcome out = Run("agent", Request("agent", UserInput("tell me a story")), sink);
  ASSERT_EQ(out.kind, Kind::kSuccess);
  const auto& final_message = out.values.at("messages").as_array().back().as_object();
  std::string joined;
  int chunks = 0;
  for (const auto& [name, data] : sink.events) {
    if (name != "messages") continue;
    const auto& chunk = data.as_array().at(0).as_object();
    const auto& meta = data.as_array().at(1).as_object();
    EXPECT_EQ(chunk.at("id"), final_message.at("id"));
    EXPECT_EQ(chunk.at("type"), "ai");
    EXPECT_EQ(meta.at("langgraph_node"), "model");
    EXPECT_EQ(meta.at("thread_id"), json::value(thread_id_));
    EXPECT_TRUE(meta.at("checkpoint_ns").as_string().starts_with("model:"));
    joined += chunk.at("content").as_string();
    ++chunks;
  }
  EXPECT_GT(chunks, 3);
  // The provider's completion id, not one made up by the node (7.3).
  EXPECT_TRUE(final_message.at("id").as_string().starts_with("chatcmpl-"))
      << final_message.at("id");
  EXPECT_EQ(joined, "echo: tell me a story");
  EXPECT_EQ(Text(final_message), joined);
}

// The whole event sequence of a tool round, every mode the reference server was captured
// with (testdata/agent_tool_round.jsonl, minus the scheduler's `metadata`), and the shapes
// of the key events with volatile ids and texts masked.
TEST_F(ExecutorTest, ToolRoundEventSequenceMatchesReferenceCapture) {
  std::ifstream file(std::string(AGENTD_EXECUTOR_TESTDATA) + "/agent_tool_round.jsonl");
  ASSERT_TRUE(file.good());
  std::vector<std::pair<std::string, json::value>> reference;
  for (std::string line; std::getline(file, line);) {
    json::object e = json::parse(line).as_object();
    if (e.at("event") == "metadata") continue;
    reference.emplace_back(std::string(e.at("event").as_string()), e.at("data"));
  }
  RecordingSink sink(kAllModes);
  RunOutcome out = Run("agent", Request("agent", UserInput("what is the weather?")), sink);
  ASSERT_EQ(out.kind, Kind::kSuccess);
  std::vector<std::string> ref_names;
  for (const auto& [name, data] : reference) ref_names.push_back(name);
  EXPECT_EQ(sink.Names(), ref_names);
  ASSERT_EQ(sink.events.size(), reference.size());

  // Same keys (recursively for the objects that matter) on the events clients parse.
  auto keys = [](const json::value& v) {
    std::set<std::string> k;
    if (v.is_object()) {
      for (const auto& [key, value] : v.get_object()) k.insert(std::string(key));
    }
    return k;
  };
  for (std::size_t i = 0; i < reference.size(); ++i) {
    const auto& [name, ref] = reference[i];
    const auto& ours = sink.events[i].second;
    if (name == "checkpoints") {
      EXPECT_EQ(keys(ours), keys(ref)) << i;
      EXPECT_EQ(ours.at("metadata"), ref.at("metadata")) << i;
      EXPECT_EQ(ours.at("next"), ref.at("next")) << i;
    } else if (name == "tasks" || name == "debug") {
      EXPECT_EQ(keys(ours), keys(ref)) << i;
    } else if (name == "messages") {
      const auto& chunk = ours.at(0);
      const auto& ref_chunk = ref.at(0);
      EXPECT_EQ(chunk.at("content"), ref_chunk.at("content")) << i;
      EXPECT_EQ(chunk.at("type"), ref_chunk.at("type")) << i;
      if (ref_chunk.at("type") == "ai") {
        EXPECT_EQ(chunk.at("tool_call_chunks").as_array().size(),
                  ref_chunk.at("tool_call_chunks").as_array().size()) << i;
        EXPECT_EQ(keys(chunk), keys(ref_chunk)) << i;
      }
      for (const char* k : {"langgraph_node", "langgraph_step", "langgraph_triggers",
                            "langgraph_path", "tags"}) {
        EXPECT_EQ(ours.at(1).at(k), ref.at(1).at(k)) << i << " " << k;
      }
    } else if (name == "updates") {
      EXPECT_EQ(keys(ours), keys(ref)) << i;
    } else if (name == "values") {
      const auto& ms = ours.at("messages").as_array();
      const auto& ref_ms = ref.at("messages").as_array();
      ASSERT_EQ(ms.size(), ref_ms.size()) << i;
      for (std::size_t m = 0; m < ms.size(); ++m) {
        EXPECT_EQ(ms[m].at("type"), ref_ms[m].at("type"));
        EXPECT_EQ(ms[m].at("content"), ref_ms[m].at("content"));
      }
    }
  }
}

std::vector<std::pair<std::string, json::value>> LoadCapture(const std::string& name) {
  std::ifstream file(std::string(AGENTD_EXECUTOR_TESTDATA) + "/" + name);
  EXPECT_TRUE(file.good()) << name;
  std::vector<std::pair<std::string, json::value>> out;
  for (std::string line; std::getline(file, line);) {
    json::object e = json::parse(line).as_object();
    if (e.at("event") == "metadata") continue;
    out.emplace_back(std::string(e.at("event").as_string()), e.at("data"));
  }
  return out;
}

// Legacy `messages` mode (7.5) against the reference's capture of the same turns
// (testdata/agent_*_messages_events.jsonl, captured with ["messages","events"]): the
// messages/* events in order, their ids, and the accumulated partial content.
void ExpectLegacyMessagesLike(const std::vector<std::pair<std::string, json::value>>& ours,
                              const std::vector<std::pair<std::string, json::value>>& ref) {
  auto legacy = [](const std::vector<std::pair<std::string, json::value>>& events) {
    std::vector<std::string> out;
    std::map<std::string, std::string> ids;  // masked: first-seen order
    for (const auto& [name, data] : events) {
      if (!name.starts_with("messages/")) continue;
      std::string line = name;
      auto id_of = [&](std::string_view id) {
        auto [it, fresh] = ids.emplace(std::string(id), "");
        if (fresh) it->second = "id" + std::to_string(ids.size());
        return it->second;
      };
      if (name == "messages/metadata") {
        for (const auto& [id, meta] : data.as_object()) {
          line += " " + id_of(id) + " node=" +
                  std::string(meta.at("metadata").at("langgraph_node").as_string());
        }
      } else {
        for (const auto& m : data.as_array()) {
          line += " " + std::string(m.at("type").as_string()) + ":" +
                  id_of(m.at("id").as_string()) + ":" + ContentText(m.at("content"));
        }
      }
      out.push_back(std::move(line));
    }
    return out;
  };
  EXPECT_EQ(legacy(ours), legacy(ref));
}

TEST_F(ExecutorTest, LegacyMessagesModeMatchesReferenceForPlainTurn) {
  RecordingSink sink({StreamMode::kMessages});
  ASSERT_EQ(Run("agent", Request("agent", UserInput("hi")), sink).kind, Kind::kSuccess);
  ExpectLegacyMessagesLike(sink.events, LoadCapture("agent_plain_turn_messages_events.jsonl"));
}

TEST_F(ExecutorTest, LegacyMessagesModeMatchesReferenceForToolRound) {
  RecordingSink sink({StreamMode::kMessages});
  ASSERT_EQ(Run("agent", Request("agent", UserInput("what is the weather?")), sink).kind,
            Kind::kSuccess);
  ExpectLegacyMessagesLike(sink.events,
                           LoadCapture("agent_tool_round_messages_events.jsonl"));
}

// Reference history (testdata/*.history.json): no checkpoint carries metadata.writes; the
// input checkpoint's is null here (6.2).
TEST_F(ExecutorTest, InputCheckpointHasNullWrites) {
  RecordingSink sink({});
  ASSERT_EQ(Run("agent", Request("agent", UserInput("hi")), sink).kind, Kind::kSuccess);
  const auto history = History();
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(Source(history.back()), "input");
  EXPECT_TRUE(history.back().metadata.at("writes").is_null());
}

// Captured on the reference (testdata/command_update_after_run.history.json): after a
// finished run, {"command":{"update":...}} writes one `input` checkpoint (step + 1) that
// already holds the update, next [], and runs nothing.
TEST_F(ExecutorTest, CommandUpdateAfterFinishedRunWritesOneInputCheckpointLikeReference) {
  RecordingSink first({});
  ASSERT_EQ(Run("agent", Request("agent", UserInput("hi")), first).kind, Kind::kSuccess);
  RunRequest req = Request("agent", nullptr);
  req.command = json::object{
      {"update", json::object{{"messages", json::array{json::object{{"role", "human"},
                                                                    {"content", "x"}}}}}}};
  RecordingSink sink({StreamMode::kValues, StreamMode::kUpdates});
  RunOutcome out = Run("agent", std::move(req), sink);
  ASSERT_EQ(out.kind, Kind::kSuccess);

  std::ifstream file(std::string(AGENTD_EXECUTOR_TESTDATA) +
                     "/command_update_after_run.history.json");
  std::stringstream text;
  text << file.rdbuf();
  const json::array reference = json::parse(text.str()).as_array();
  const auto history = History();
  ASSERT_EQ(history.size(), reference.size());
  for (std::size_t i = 0; i < history.size(); ++i) {
    const auto& ref = reference[i].as_object();
    EXPECT_EQ(history[i].metadata.at("source"), ref.at("metadata").at("source")) << i;
    EXPECT_EQ(history[i].metadata.at("step"), ref.at("metadata").at("step")) << i;
    EXPECT_EQ(history[i].next, ref.at("next")) << i;
  }
  // Older checkpoints are not compared by values: the reference's in-memory saver shows the
  // update in its parent too (it shares the messages array), which no client relies on.
  EXPECT_EQ(MessagesAt(history[0].checkpoint_id).size(),
            reference[0].at("values").at("messages").as_array().size());
  EXPECT_EQ(sink.Names(), (std::vector<std::string>{"values"}));
  EXPECT_EQ(Text(out.values.at("messages").as_array().back()), "x");
}

TEST_F(ExecutorTest, SecondRunContinuesFromStateAndStepNumbering) {
  RecordingSink sink({});
  ASSERT_EQ(Run("echo", Request("echo", UserInput("one")), sink).kind, Kind::kSuccess);
  RunOutcome out = Run("echo", Request("echo", UserInput("two")), sink);
  ASSERT_EQ(out.kind, Kind::kSuccess);
  const auto& messages = out.values.at("messages").as_array();
  ASSERT_EQ(messages.size(), 4u);
  EXPECT_EQ(Text(messages[3]), "echo: two");
  auto history = History();
  ASSERT_EQ(history.size(), 6u);
  EXPECT_EQ(history[2].metadata.at("source"), "input");
  EXPECT_EQ(history[2].metadata.at("step"), 2);
  EXPECT_EQ(*history[2].parent_checkpoint_id, history[3].checkpoint_id);
  EXPECT_EQ(history[0].metadata.at("step"), 4);
}

TEST_F(ExecutorTest, CheckpointOfLongThreadHoldsOnlyTheNewMessages) {
  json::array many;
  for (int i = 0; i < 1000; ++i) {
    many.push_back(json::object{{"role", i % 2 ? "ai" : "human"}, {"content", "m"}});
  }
  RecordingSink sink({});
  ASSERT_EQ(Run("echo", Request("echo", json::object{{"messages", many}}), sink).kind,
            Kind::kSuccess);
  RunOutcome out = Run("echo", Request("echo", UserInput("last")), sink);
  ASSERT_EQ(out.kind, Kind::kSuccess);
  auto history = History();
  ASSERT_EQ(history.size(), 6u);
  EXPECT_EQ(history[1].appended_messages.size(), 1u);  // the new human message only
  EXPECT_EQ(history[0].appended_messages.size(), 1u);  // the echo reply only
  EXPECT_EQ(history[0].message_count, 1003);  // 1000 + echo + human + echo
  EXPECT_EQ(MessagesAt(history[0].checkpoint_id).size(), 1003u);
}

TEST_F(ExecutorTest, ToolFailureBecomesErrorToolMessage) {
  int attempts = 0;
  http_.handler = [&](const HttpCall&) -> Result<std::pair<int, std::string>> {
    ++attempts;
    return std::make_pair(503, std::string("down"));
  };
  RecordingSink sink({});
  RunOutcome out =
      Run("http_agent", Request("http_agent", UserInput("what is the weather?")), sink);
  ASSERT_EQ(out.kind, Kind::kSuccess) << (out.error ? out.error->message : "");
  EXPECT_EQ(attempts, 2);  // retries = 1
  const auto& tool = out.values.at("messages").as_array().at(2).as_object();
  EXPECT_EQ(tool.at("type"), "tool");
  EXPECT_EQ(tool.at("status"), "error");
  EXPECT_NE(tool.at("content").as_string().find("503"), std::string::npos);
}

TEST_F(ExecutorTest, HttpToolPostsArgumentsAndUsesReplyText) {
  RecordingSink sink({});
  RunOutcome out =
      Run("http_agent", Request("http_agent", UserInput("what is the weather?")), sink);
  ASSERT_EQ(out.kind, Kind::kSuccess);
  ASSERT_EQ(http_.calls.size(), 1u);
  EXPECT_EQ(json::parse(http_.calls[0].body), json::parse(R"({"city":"paris"})"));
  EXPECT_EQ(Text(out.values.at("messages").as_array().back()), "echo: sunny in paris");
}

TEST_F(ExecutorTest, RecursionLimitEndsWithGraphRecursionError) {
  RunRequest req = Request("agent", UserInput("what is the weather?"));
  req.recursion_limit = 2;
  RecordingSink sink({});
  RunOutcome out = Run("agent", std::move(req), sink);
  EXPECT_EQ(out.kind, Kind::kError);
  EXPECT_EQ(out.error_type, "GraphRecursionError");
  ASSERT_TRUE(out.error);
  EXPECT_NE(out.error->message.find("Recursion limit of 2"), std::string::npos);
}

TEST_F(ExecutorTest, InterruptBeforeToolsPausesThenContinueCompletes) {
  RunRequest req = Request("agent", UserInput("what is the weather?"));
  req.interrupt_before = {"tools"};
  RecordingSink sink({StreamMode::kUpdates});
  RunOutcome paused = Run("agent", std::move(req), sink);
  ASSERT_EQ(paused.kind, Kind::kSuccess);
  EXPECT_EQ(paused.next, (json::array{"tools"}));
  EXPECT_EQ(sink.events.back().second, json::parse(R"({"__interrupt__":[]})"));
  EXPECT_EQ(History().front().next, (json::array{"tools"}));

  RunRequest resume = Request("agent", nullptr);
  resume.interrupt_before = {"tools"};  // the breakpoint does not re-trigger on resume
  RecordingSink sink2({});
  RunOutcome done = Run("agent", std::move(resume), sink2);
  ASSERT_EQ(done.kind, Kind::kSuccess) << (done.error ? done.error->message : "");
  EXPECT_TRUE(done.next.empty());
  EXPECT_EQ(Text(done.values.at("messages").as_array().back()), "echo: sunny in paris");
  EXPECT_EQ(History().size(), 5u);
}

TEST_F(ExecutorTest, InterruptAfterModelPauses) {
  RunRequest req = Request("agent", UserInput("what is the weather?"));
  req.interrupt_after = {"*"};
  RecordingSink sink({});
  RunOutcome paused = Run("agent", std::move(req), sink);
  EXPECT_EQ(paused.next, (json::array{"tools"}));
  EXPECT_EQ(History().size(), 3u);
}

TEST_F(ExecutorTest, CommandGotoRunsTheNamedNode) {
  RecordingSink sink({});
  ASSERT_EQ(Run("echo", Request("echo", UserInput("x")), sink).kind, Kind::kSuccess);
  RunRequest req = Request("echo", nullptr);
  req.command = json::object{{"goto", "echo"},
                             {"update", json::object{{"messages", json::array{"again"}}}}};
  RunOutcome out = Run("echo", std::move(req), sink);
  ASSERT_EQ(out.kind, Kind::kSuccess);
  EXPECT_EQ(Text(out.values.at("messages").as_array().back()), "echo: again");
}

TEST_F(ExecutorTest, CommandGotoEndAppliesTheUpdateAndRunsNothing) {
  RecordingSink sink({});
  ASSERT_EQ(Run("echo", Request("echo", UserInput("x")), sink).kind, Kind::kSuccess);
  const std::size_t before = History().size();
  for (const json::value& go : {json::value("__end__"), json::value(json::array{"__end__"}),
                                json::value(json::object{{"node", "__end__"}})}) {
    SCOPED_TRACE(json::serialize(go));
    RunRequest req = Request("echo", nullptr);
    req.command = json::object{{"goto", go},
                               {"update", json::object{{"messages", json::array{"noted"}}}}};
    RunOutcome out = Run("echo", std::move(req), sink);
    ASSERT_EQ(out.kind, Kind::kSuccess) << (out.error ? out.error->message : "");
    EXPECT_TRUE(out.next.empty());
    EXPECT_EQ(Text(out.values.at("messages").as_array().back()), "noted");  // no echo ran
    EXPECT_EQ(out.checkpoints_written.size(), 1u);
    auto history = History();
    EXPECT_EQ(Source(history.front()), "input");
    EXPECT_TRUE(history.front().next.empty());
  }
  EXPECT_EQ(History().size(), before + 3);
}

TEST_F(ExecutorTest, CancellationDuringSlowCompletionReturnsPromptly) {
  asio::io_context io;
  asio::cancellation_signal cancel;
  RecordingSink sink({StreamMode::kTasks});
  // Cancel as soon as the model task has started (its completion takes 60 s).
  sink.on_emit = [&](const std::string& name) {
    if (name == "tasks") asio::post(io, [&] { cancel.emit(asio::cancellation_type::terminal); });
  };
  std::optional<RunOutcome> outcome;
  asio::co_spawn(io, executor_->Run(Graph("slow_agent"),
                                    Request("slow_agent", UserInput("hi")), sink),
                 asio::bind_cancellation_slot(cancel.slot(), [&](std::exception_ptr e,
                                                                 RunOutcome o) {
                   if (e) std::rethrow_exception(e);
                   outcome = std::move(o);
                 }));
  const auto start = std::chrono::steady_clock::now();
  io.run_for(std::chrono::seconds(10));
  ASSERT_TRUE(outcome);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(outcome->kind, Kind::kCancelled);
  EXPECT_EQ(outcome->checkpoints_written.size(), 2u);
}

TEST_F(ExecutorTest, ForkFromCheckpointBranchesFromThere) {
  RecordingSink sink({});
  ASSERT_EQ(Run("echo", Request("echo", UserInput("one")), sink).kind, Kind::kSuccess);
  const std::string first_end = History().front().checkpoint_id;
  ASSERT_EQ(Run("echo", Request("echo", UserInput("two")), sink).kind, Kind::kSuccess);
  RunRequest fork = Request("echo", UserInput("other"));
  fork.checkpoint_id = first_end;
  RunOutcome out = Run("echo", std::move(fork), sink);
  ASSERT_EQ(out.kind, Kind::kSuccess);
  const auto& messages = out.values.at("messages").as_array();
  ASSERT_EQ(messages.size(), 4u);  // one, echo: one, other, echo: other
  EXPECT_EQ(Text(messages[2]), "other");
  auto history = History();
  EXPECT_EQ(*history[2].parent_checkpoint_id, first_end);
  EXPECT_EQ(history[2].metadata.at("step"), 2);
}

TEST_F(ExecutorTest, UpdateStateAppliesAsNodeAndComputesNext) {
  RecordingSink sink({});
  ASSERT_EQ(Run("agent", Request("agent", UserInput("hello")), sink).kind, Kind::kSuccess);
  auto update = agentd::testing::RunCo(executor_->UpdateState(
      Graph("agent"), thread_id_,
      json::parse(R"({"messages":[{"role":"ai","content":"","id":"u1","tool_calls":[{"name":"get_weather","args":{"city":"rome"},"id":"c9","type":"tool_call"}]}]})"),
      std::string("model"), std::nullopt));
  ASSERT_TRUE(update) << update.error().message;
  EXPECT_EQ(update->next, (json::array{"tools"}));
  auto latest = History().front();
  EXPECT_EQ(latest.checkpoint_id, update->checkpoint_id);
  EXPECT_EQ(latest.metadata.at("source"), "update");
  EXPECT_EQ(latest.metadata.at("step"), 2);
  EXPECT_EQ(latest.appended_messages.size(), 1u);

  // Continuing runs the pending tools node, then the model.
  RunOutcome out = Run("agent", Request("agent", nullptr), sink);
  ASSERT_EQ(out.kind, Kind::kSuccess);
  EXPECT_EQ(Text(out.values.at("messages").as_array().back()), "echo: sunny in rome");

  auto bad = agentd::testing::RunCo(executor_->UpdateState(
      Graph("agent"), thread_id_, json::object{}, std::string("nope"), std::nullopt));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::kInvalidArgument);
}

TEST_F(ExecutorTest, InvalidInputFailsTheRunWithoutCheckpoints) {
  RecordingSink sink({});
  RunOutcome out = Run("echo", Request("echo", json::parse(R"({"messages":[{"role":"x"}]})")), sink);
  EXPECT_EQ(out.kind, Kind::kError);
  EXPECT_TRUE(History().empty());
}

}  // namespace
}  // namespace agentd::runtime::testing
