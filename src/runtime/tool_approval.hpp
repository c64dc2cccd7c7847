#pragma once
// A graph file's `tools` node when a call needs someone outside the server (docs/graphs.md
// "Approval before tools", "Client-side tools"):
//
// - A call to a tool marked `approval: required` (by any tool entry of the graph) pauses the
//   node before any call of the AI message runs, with LangChain's human-in-the-loop request as
//   the interrupt value: {action_requests: [{name, args, description, id}], review_configs:
//   [{action_name, allowed_decisions: [approve, edit, reject]}]}. command.resume must be
//   {decisions: [...]}, one per action request in order: approve runs the call, edit runs it
//   with `edited_action.args`, reject answers it with `message` (status error) without running
//   it. The other calls of the message run with them.
// - A call to a client tool (`{name, kind: client, ...}`) pauses with {type: "tool", toolCall:
//   {id, name, args}}; command.resume is the result, which becomes its tool message.
//
// Pauses go through the interrupt mechanism of the interrupt node (kInterruptKey, ctx.resume).
// A message whose calls need several pauses (approvals, then each client call) answers what it
// can, writes those tool messages and runs the node again (kGotoKey to itself): the calls still
// unanswered are those of the last AI message with no tool message after it.
//
// A resume of the wrong shape is refused before anything runs: CheckDecisions names the
// problem; the API refuses such a run with 422 (CheckApprovalResume), the node with a run error
// naming graph and node. Tests: tests/unit/runtime/tool_approval_test.cpp,
// tests/integration/graph_files_test.cpp (ApprovalBinary).

#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "common/error.hpp"
#include "graph/graph_def.hpp"
#include "runtime/graph_registry.hpp"
#include "runtime/run_context.hpp"
#include "runtime/state.hpp"

namespace agentd::runtime {

// The tool calls of the last AI message that have no tool message yet (in order), and that
// message; `ai` is null when the messages do not end with an AI message with calls followed
// only by tool messages.
struct UnansweredCalls {
  const boost::json::object* ai = nullptr;
  boost::json::array calls;
  bool some_answered = false;
};
UnansweredCalls FindUnansweredCalls(const boost::json::array& messages);

// Whether any of `calls` needs an approval or the client (then the node takes the path below).
bool NeedsOutsideAnswer(const graph::GraphDef& def, const boost::json::array& calls);

// The interrupt value asking to review `calls` (LangChain's HITLRequest).
boost::json::object ApprovalRequest(const boost::json::array& calls);

// The interrupt value asking the client to run `call`.
boost::json::object ClientToolRequest(const boost::json::object& call);

struct Decision {
  enum class Type { kApprove, kEdit, kReject };
  Type type = Type::kApprove;
  boost::json::value args;  // edit: the new args
  std::string message;      // reject: the tool message ("" = LangChain's default text)
};

// `resume` checked against the calls under review: one decision per call, in order.
// kInvalidArgument naming the problem ("resume.decisions[1].type: ...") otherwise.
Result<std::vector<Decision>> CheckDecisions(const boost::json::value& resume,
                                            const boost::json::array& calls);

// For the API, before a run is created: when the thread is paused on an approval request of
// this graph file (an interrupt value with action_requests), the run's command.resume must
// answer it. The 422 message ("graph <id> node <node>: resume...") or nullopt.
std::optional<std::string> CheckApprovalResume(const GraphInfo& graph, const boost::json::object& thread_interrupts,
                                               const boost::json::object& command);

// The graph file `tools` node for calls that need an approval or the client (above).
boost::asio::awaitable<Result<boost::json::object>> OutsideAnswerToolsNode(RunContext& ctx, const TaskInfo& task,
                                                                           const GraphState& state,
                                                                           const graph::NodeDef& node,
                                                                           UnansweredCalls pending);

}  // namespace agentd::runtime
