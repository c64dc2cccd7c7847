#pragma once
// Shared setup for executor tests: a config with the demo graphs (echo, agent on a zero-latency
// mock model, slow_agent on a slow one, http_agent with an HTTP tool), memory storage, a
// scripted HttpTransport double and a sink that records every event.

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "config/config.hpp"
#include "runtime/executor.hpp"
#include "runtime/graph_registry.hpp"
#include "runtime/http_transport.hpp"
#include "runtime/model_registry.hpp"
#include "storage/storage.hpp"

namespace agentd::runtime::testing {

namespace json = boost::json;

class RecordingSink : public RunEventSink {
 public:
  explicit RecordingSink(std::set<StreamMode> modes) : modes_(std::move(modes)) {}
  bool Wants(StreamMode mode) const override { return modes_.contains(mode); }
  void Emit(std::string_view event, json::value data) override {
    events.emplace_back(std::string(event), std::move(data));
    if (on_emit) on_emit(events.back().first);
  }
  std::vector<std::string> Names() const;
  std::vector<std::pair<std::string, json::value>> events;
  std::function<void(const std::string&)> on_emit;

 private:
  std::set<StreamMode> modes_;
};

// Answers every Send from `handler` (status, body) or a transport error.
class FakeTransport : public HttpTransport {
 public:
  using Handler = std::function<Result<std::pair<int, std::string>>(const HttpCall&)>;
  boost::asio::awaitable<Result<HttpReply>> Send(HttpCall call, BodySink on_body) override;
  Handler handler;
  std::vector<HttpCall> calls;
};

class ExecutorTest : public ::testing::Test {
 protected:
  ExecutorTest();
  const GraphInfo& Graph(std::string_view id) const { return *graphs_->Find(id); }
  RunRequest Request(std::string_view graph, json::value input) const;
  RunOutcome Run(std::string_view graph, RunRequest request, RecordingSink& sink);
  std::vector<model::Checkpoint> History();  // newest first
  json::array MessagesAt(const std::string& checkpoint_id);

  config::Config config_;
  std::unique_ptr<storage::Storage> storage_;
  FakeTransport http_;
  std::unique_ptr<ModelRegistry> models_;
  std::optional<GraphRegistry> graphs_;
  std::unique_ptr<GraphExecutor> executor_;
  std::string thread_id_;
};

json::value UserInput(std::string_view text);

}  // namespace agentd::runtime::testing
