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
#include "runtime/providers/chat_types.hpp"
#include "runtime/run_context.hpp"
#include "runtime/state.hpp"

namespace agentd::runtime {

boost::asio::awaitable<Result<boost::json::object>> ModelNode(RunContext& ctx,
                                                              const TaskInfo& task,
                                                              const GraphState& state);

// State messages -> provider messages (exposed for tests).
std::vector<providers::ChatMessage> ToChatMessages(const boost::json::array& messages,
                                                   const std::string& system_prompt);

}  // namespace agentd::runtime
