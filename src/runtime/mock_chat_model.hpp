#pragma once
// MockChatModel: the in-process `mock` provider (shared/docs/mock-llm.md). It computes the
// reply with the mock's pure functions (mock/mock_model.hpp) from the same OpenAI request body
// the openai provider would send, then streams it: ToolCallStart (tool-call replies), one
// TextDelta / ToolCallArgsDelta per piece, Finish, Usage — the deltas, in the order, that
// OpenAiStreamDecoder produces from `agentd mock-llm`, and the same assembled ChatResult.
// Latency is waited on steady_timers between pieces (never sleeps; cancellable).
//
// Threading: see ChatModel. Holds the model's concurrency limit like the HTTP providers, and
// counts the same agentd_llm_* series (model_metrics.hpp) when given a registry: one attempt
// per call, never a retry.

#include <cstddef>
#include <string>

#include "mock/mock_model.hpp"
#include "observe/metrics.hpp"
#include "runtime/chat_model.hpp"
#include "runtime/model_metrics.hpp"
#include "runtime/model_semaphore.hpp"

namespace agentd::runtime {

class MockChatModel final : public ChatModel {
 public:
  // `defaults`: the model's configured sampling settings and params, put in the request body
  // the mock computes its reply from (as the openai provider would send them).
  MockChatModel(std::string name, mock::MockOptions options, std::string model = "mock",
                std::size_t max_concurrency = 64, observe::Metrics* metrics = nullptr,
                providers::ChatOptions defaults = {});

  // Errors: kCancelled only (the mock always answers).
  boost::asio::awaitable<Result<providers::ChatResult>> Complete(ChatRequest request,
                                                                 DeltaSink on_delta) override;
  const std::string& name() const override { return name_; }
  const std::string& model() const override { return model_; }

 private:
  std::string name_;
  std::string model_;
  providers::ChatOptions defaults_;
  mock::MockOptions options_;
  ModelSemaphore semaphore_;
  ModelMetrics metrics_;
};

}  // namespace agentd::runtime
