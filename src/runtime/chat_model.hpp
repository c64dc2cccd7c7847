#pragma once
// A chat model as the run engine sees it: one completion per call, streamed. Implementations:
// the in-process mock (mock-llm.md), and the openai/anthropic providers over an HttpTransport.
// One ChatModel object per configured model, shared by every run: it owns the per-model
// concurrency limit (callers over the limit queue inside Complete, they do not fail).
//
// Threading: Complete() may be called concurrently from any event loop; it completes on the
// caller's executor. Cancellation: the awaiting coroutine's cancellation slot (e.g. the run
// being cancelled) ends the call promptly with Errc::kCancelled, releasing its connection.
//
// Errors callers must handle: kUnavailable (upstream unreachable, 5xx after retries, stream
// cut), kResourceExhausted (429 after retries), kInvalidArgument (the provider refused the
// request), kTimeout (connect/first-byte/idle timeout), kCancelled. The message says what
// happened upstream, for the run's `error` event.

#include <functional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "common/error.hpp"
#include "runtime/providers/chat_types.hpp"

namespace agentd::runtime {

struct ChatRequest {
  std::vector<providers::ChatMessage> messages;
  std::vector<providers::ToolSpec> tools;
  providers::ChatOptions options;
};

// Receives deltas as they arrive (text tokens, tool-call pieces, usage). Called on the
// caller's executor, in order; must not block.
using DeltaSink = std::function<void(const providers::StreamDelta&)>;

class ChatModel {
 public:
  virtual ~ChatModel() = default;
  virtual boost::asio::awaitable<Result<providers::ChatResult>> Complete(ChatRequest request,
                                                                         DeltaSink on_delta) = 0;
  // The configured model name (config models[].name), for logs and metrics.
  virtual const std::string& name() const = 0;
  // The provider's model as configured (models[].model, e.g. "gpt-4o-mini"): what a reply
  // that does not name its model is labelled with.
  virtual const std::string& model() const = 0;
};

}  // namespace agentd::runtime
