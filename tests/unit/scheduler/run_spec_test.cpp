#include "scheduler/run_spec.hpp"

#include <gtest/gtest.h>

#include "common/json.hpp"

namespace agentd::scheduler {
namespace {

namespace json = boost::json;

TEST(RunSpec, MergeConfigMergesConfigurableOneLevelDown) {
  json::object base{{"tags", json::array{"a"}}, {"configurable", json::object{{"x", 1}, {"y", 1}}}};
  json::object over{{"configurable", json::object{{"y", 2}}}, {"recursion_limit", 5}};
  json::object merged = MergeConfig(base, over);
  EXPECT_EQ(ToJson(merged),
            R"({"tags":["a"],"configurable":{"x":1,"y":2},"recursion_limit":5})");
}

TEST(RunSpec, OnlyNonSecretXHeadersAndUserAgentReachTheGraph) {
  EXPECT_TRUE(HeaderReachesGraph("User-Agent"));
  EXPECT_TRUE(HeaderReachesGraph("x-request-source"));
  EXPECT_FALSE(HeaderReachesGraph("X-Api-Key"));
  EXPECT_FALSE(HeaderReachesGraph("x-tenant-id"));
  EXPECT_FALSE(HeaderReachesGraph("x-service-key"));
  EXPECT_FALSE(HeaderReachesGraph("authorization"));
}

TEST(RunSpec, BuildRunFillsKwargsAndConfigurableIds) {
  RunSpec spec;
  spec.assistant_id = "echo";
  spec.input = json::object{{"messages", json::array{}}};
  spec.headers = json::object{{"user-agent", "test"}};
  spec.interrupt_before = std::vector<std::string>{"*"};
  RunIds ids{"r1", "t1", "a1", "echo"};
  model::Assistant assistant;
  assistant.metadata = json::object{{"created_by", "system"}};
  assistant.config = json::object{{"configurable", json::object{{"k", "v"}}}};
  model::Thread thread;
  thread.metadata = json::object{{"graph_id", "echo"}};
  model::Run run = BuildRun(spec, ids, "", assistant, thread, false);
  EXPECT_EQ(run.status, model::RunStatus::kPending);
  EXPECT_EQ(ToJson(run.metadata), R"({"created_by":"system","graph_id":"echo"})");
  const auto& configurable = run.kwargs.at("config").at("configurable").as_object();
  EXPECT_EQ(configurable.at("k"), "v");
  EXPECT_EQ(configurable.at("run_id"), "r1");
  EXPECT_EQ(configurable.at("thread_id"), "t1");
  EXPECT_EQ(configurable.at("assistant_id"), "a1");
  EXPECT_EQ(configurable.at("graph_id"), "echo");
  EXPECT_EQ(configurable.at("user-agent"), "test");
  EXPECT_EQ(run.kwargs.at("stream_mode"), json::array{"values"});
  EXPECT_EQ(run.kwargs.at("interrupt_before"), "*");
  EXPECT_EQ(run.kwargs.at("temporary"), false);
  auto request = BuildRunRequest(spec, ids, run, assistant);
  EXPECT_EQ(request.interrupt_before, std::vector<std::string>{"*"});
  EXPECT_FALSE(request.config.contains("metadata"));
}

}  // namespace
}  // namespace agentd::scheduler
