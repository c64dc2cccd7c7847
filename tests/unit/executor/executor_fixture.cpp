#include "executor_fixture.hpp"

#include "common/uuid.hpp"
#include "runtime/messages.hpp"
#include "mock/mock_model.hpp"
#include "storage/memory/memory_storage.hpp"
#include "support/run_co.hpp"

namespace agentd::runtime::testing {

namespace asio = boost::asio;

std::vector<std::string> RecordingSink::Names() const {
  std::vector<std::string> out;
  for (const auto& [name, data] : events) out.push_back(name);
  return out;
}

asio::awaitable<Result<HttpReply>> FakeTransport::Send(HttpCall call, BodySink on_body) {
  calls.push_back(call);
  auto answer = handler(call);
  if (!answer) co_return answer.error();
  HttpReply reply;
  reply.status = answer->first;
  if (auto s = on_body(answer->second); !s) co_return s.error();
  co_return reply;
}

ExecutorTest::ExecutorTest() : storage_(storage::MakeMemoryStorage()) {
  config::ModelSpec fast;
  fast.name = "mock";
  fast.provider = "mock";
  fast.model = "mock";
  config::ModelSpec slow = fast;
  slow.name = "slow";
  slow.mock_latency = std::chrono::milliseconds(60'000);
  config_.models = {fast, slow};

  config::ToolSpec weather;
  weather.name = std::string(mock::kDemoToolName);
  weather.kind = "demo";
  weather.description = "Get the current weather for a city.";
  weather.parameters = mock::GetWeatherSchema();
  config::ToolSpec http_weather = weather;
  http_weather.name = "http_weather";
  http_weather.kind = "http";
  http_weather.url = "http://127.0.0.1:1/tools/get_weather";
  http_weather.retries = 1;
  config_.tools = {weather, http_weather};

  config::GraphSpec echo;
  echo.graph_id = "echo";
  echo.kind = "echo";
  echo.channels = {{"notes", "append"}, {"mood", "last_value"}};
  config::GraphSpec agent;
  agent.graph_id = "agent";
  agent.kind = "react";
  agent.model = "mock";
  agent.tools = {weather.name};
  config::GraphSpec slow_agent = agent;
  slow_agent.graph_id = "slow_agent";
  slow_agent.model = "slow";
  config::GraphSpec http_agent = agent;
  http_agent.graph_id = "http_agent";
  http_agent.tools = {"http_weather"};
  config_.graphs = {echo, agent, slow_agent, http_agent};

  http_.handler = [](const HttpCall& call) -> Result<std::pair<int, std::string>> {
    auto text = mock::GetWeatherFromBody(call.body);
    if (!text) return std::make_pair(400, std::string("bad body"));
    return std::make_pair(200, *text);
  };
  models_ = ModelRegistry::Build(config_.models, http_).value();
  graphs_ = GraphRegistry::FromConfig(config_).value();
  executor_ = std::make_unique<GraphExecutor>(storage_->checkpoints(), *models_, http_,
                                              config_.tools);
  thread_id_ = NewUuid4();
}

RunRequest ExecutorTest::Request(std::string_view graph, json::value input) const {
  RunRequest r;
  r.thread_id = thread_id_;
  r.run_id = NewUuid7();
  r.assistant_id = SystemAssistantId(graph);
  r.graph_id = std::string(graph);
  r.input = std::move(input);
  r.config = json::object{{"configurable", json::object{{"thread_id", thread_id_}}}};
  return r;
}

RunOutcome ExecutorTest::Run(std::string_view graph, RunRequest request, RecordingSink& sink) {
  return agentd::testing::RunCo(
      executor_->Run(Graph(graph), std::move(request), sink));
}

std::vector<model::Checkpoint> ExecutorTest::History() {
  storage::HistoryQuery q;
  q.thread_id = thread_id_;
  q.limit = 10'000;
  return agentd::testing::RunCo(storage_->checkpoints().List(q)).value();
}

json::array ExecutorTest::MessagesAt(const std::string& checkpoint_id) {
  auto writes = agentd::testing::RunCo(
      storage_->checkpoints().MessageWrites(thread_id_, checkpoint_id));
  return FoldMessages(writes.value());
}

json::value UserInput(std::string_view text) {
  return json::object{
      {"messages", json::array{json::object{{"role", "human"}, {"content", text}}}}};
}

}  // namespace agentd::runtime::testing
