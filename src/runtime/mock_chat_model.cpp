#include "runtime/mock_chat_model.hpp"

#include <chrono>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "runtime/providers/chat_stream.hpp"
#include "runtime/providers/http_provider.hpp"
#include "runtime/providers/openai_stream.hpp"

namespace agentd::runtime {

namespace asio = boost::asio;
using providers::StreamDelta;

MockChatModel::MockChatModel(std::string name, mock::MockOptions options, std::string model,
                             std::size_t max_concurrency, observe::Metrics* metrics,
                             providers::ChatOptions defaults)
    : name_(std::move(name)),
      model_(std::move(model)),
      defaults_(std::move(defaults)),
      options_(options),
      semaphore_(max_concurrency),
      metrics_(metrics, name_) {}

asio::awaitable<Result<providers::ChatResult>> MockChatModel::Complete(ChatRequest request,
                                                                       DeltaSink on_delta) {
  ModelMetrics::Call call_metrics(metrics_);
  auto permit = co_await semaphore_.Acquire();
  if (!permit) co_return call_metrics.Finish(permit.error());
  call_metrics.Acquired();
  call_metrics.Attempt();

  // The body the openai provider would POST to mock-llm: same input, same reply. Neither the
  // body nor the request is needed once the reply is known: free them before the call waits
  // out its latency (~1.5 KB per concurrent call on a short thread, the whole history on a
  // long one).
  const mock::MockReply reply = mock::ComputeReply(
      providers::BuildOpenAiRequest(request.messages, request.tools, model_, /*stream=*/true,
                                    providers::WithDefaults(std::move(request.options), defaults_)),
      options_);
  request = ChatRequest{};

  providers::ChatAssembler assembler;
  auto emit = [&](StreamDelta delta) {
    assembler.Apply(delta);
    if (!std::holds_alternative<providers::MessageStart>(delta)) call_metrics.FirstToken();
    if (on_delta) on_delta(delta);
  };
  emit(providers::MessageStart{reply.completion_id});
  const bool tool_call = reply.kind == mock::ReplyKind::kToolCall;
  if (tool_call) emit(providers::ToolCallStart{0, reply.call_id, reply.tool_name});

  asio::steady_timer timer(co_await asio::this_coro::executor);
  const auto delay = reply.PieceDelay();
  for (const auto& piece : reply.pieces) {
    if (delay.count() > 0) {
      timer.expires_after(delay);
      auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
      if (ec) {
        co_return call_metrics.Finish(MakeError(Errc::kCancelled, "mock completion cancelled"));
      }
    } else if ((co_await asio::this_coro::cancellation_state).cancelled() !=
               asio::cancellation_type::none) {
      co_return call_metrics.Finish(MakeError(Errc::kCancelled, "mock completion cancelled"));
    }
    if (tool_call) {
      emit(providers::ToolCallArgsDelta{0, piece});
    } else {
      emit(providers::TextDelta{piece});
    }
  }
  emit(providers::Finish{std::string(reply.finish_reason())});
  emit(providers::Usage{reply.usage.prompt_tokens, reply.usage.completion_tokens});
  providers::ChatResult result = assembler.Take();
  result.model = model_;  // what the mock's replies name (agentd mock-llm: the request's model)
  co_return call_metrics.Finish(std::move(result));
}

}  // namespace agentd::runtime
