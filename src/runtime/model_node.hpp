#pragma once
// The react graph's `model` node: state messages -> ChatRequest (system prompt prepended,
// the graph's tools offered), one streamed ChatModel::Complete, every delta forwarded as a
// messages-tuple chunk (7.4), legacy messages/partial (7.5) and `events` on_chat_model_stream;
// returns {"messages": [<the ai message>]}. All chunks and the final message share one id.

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <string>
#include <vector>

#include "common/error.hpp"
#include "runtime/chat_model.hpp"
#include "runtime/providers/chat_types.hpp"
#include "runtime/run_context.hpp"
#include "runtime/state.hpp"

namespace agentd::runtime {

boost::asio::awaitable<Result<boost::json::object>> ModelNode(RunContext& ctx,
                                                              const TaskInfo& task,
                                                              const GraphState& state);

// What one model call uses: the react graph's spec, or a graph file's llm node
// (runtime/graph_file_nodes.hpp) with its rendered prompt, its tools and options.
struct ModelCall {
  std::string model;                // a configured model name
  std::string system_prompt;        // "" = none
  std::vector<std::string> tools;   // offered tool names
  providers::ChatOptions options;
};
ModelCall ModelCallOf(const GraphInfo& graph);
boost::asio::awaitable<Result<boost::json::object>> ModelNode(RunContext& ctx, const TaskInfo& task,
                                                              const GraphState& state,
                                                              ModelCall call);

// "openai" or "anthropic": the provider shape a model speaks (the mock speaks OpenAI's).
std::string_view ProviderOf(const ChatModel* model);

// State messages -> provider messages (exposed for tests).
std::vector<providers::ChatMessage> ToChatMessages(const boost::json::array& messages,
                                                   const std::string& system_prompt);

}  // namespace agentd::runtime
