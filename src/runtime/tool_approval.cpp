#include "runtime/tool_approval.hpp"

#include <set>
#include <utility>

#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include "common/json.hpp"
#include "runtime/graph_file_nodes.hpp"
#include "runtime/nodes.hpp"

namespace agentd::runtime {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

std::string_view StrOf(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

std::string_view TypeOf(const json::value& message) {
  return message.is_object() ? StrOf(message.get_object(), "type") : std::string_view();
}

// A value for an error message: its JSON, cut at 200 characters.
std::string Shown(const json::value& v) {
  std::string s = json::serialize(v);
  if (s.size() > 200) s = s.substr(0, 200) + "...";
  return s;
}

std::string CallNames(const json::array& calls) {
  std::string out;
  for (const auto& c : calls) {
    if (!out.empty()) out += ", ";
    out += c.is_object() ? std::string(StrOf(c.get_object(), "name")) : std::string("?");
  }
  return out;
}

// The answer to `call`, as the tools node writes it.
json::object ToolMessage(const json::object& call, std::string content, bool ok) {
  return MakeToolMessage(StrOf(call, "id"), StrOf(call, "name"), std::move(content), ok);
}

Error NodeError(const RunContext& ctx, const graph::NodeDef& node, std::string_view problem) {
  return MakeError(Errc::kInvalidArgument, fmt::format("graph {} node {}: {}", ctx.graph.graph_id, node.name, problem));
}

}  // namespace

UnansweredCalls FindUnansweredCalls(const json::array& messages) {
  UnansweredCalls out;
  std::set<std::string> answered;
  std::size_t i = messages.size();
  while (i > 0 && TypeOf(messages[i - 1]) == "tool") {
    answered.insert(std::string(StrOf(messages[i - 1].get_object(), "tool_call_id")));
    --i;
  }
  if (i == 0 || TypeOf(messages[i - 1]) != "ai") return out;
  const json::object& ai = messages[i - 1].get_object();
  const auto* calls = ai.if_contains("tool_calls");
  if (calls == nullptr || !calls->is_array() || calls->get_array().empty()) return out;
  out.ai = &ai;
  for (const auto& c : calls->get_array()) {
    if (!c.is_object()) continue;
    if (answered.count(std::string(StrOf(c.get_object(), "id"))) != 0) {
      out.some_answered = true;
      continue;
    }
    out.calls.push_back(c);
  }
  return out;
}

bool NeedsOutsideAnswer(const graph::GraphDef& def, const json::array& calls) {
  for (const auto& c : calls) {
    const std::string_view name = c.is_object() ? StrOf(c.get_object(), "name") : std::string_view();
    if (def.FindClientTool(name) != nullptr || def.RequiresApproval(name)) return true;
  }
  return false;
}

json::object ApprovalRequest(const json::array& calls) {
  json::array requests;
  json::array configs;
  std::set<std::string> configured;
  for (const auto& c : calls) {
    const json::object& call = c.get_object();
    const std::string name(StrOf(call, "name"));
    const json::value* args = call.if_contains("args");
    json::value shown = args != nullptr ? *args : json::value(json::object{});
    // LangChain's default description (HumanInTheLoopMiddleware's description_prefix).
    std::string description =
        fmt::format("Tool execution requires approval\n\nTool: {}\nArgs: {}", name, json::serialize(shown));
    requests.push_back(json::object{
        {"name", name}, {"args", std::move(shown)}, {"description", std::move(description)}, {"id", StrOf(call, "id")}});
    if (configured.insert(name).second) {
      configs.push_back(json::object{{"action_name", name}, {"allowed_decisions", json::array{"approve", "edit", "reject"}}});
    }
  }
  return json::object{{"action_requests", std::move(requests)}, {"review_configs", std::move(configs)}};
}

json::object ClientToolRequest(const json::object& call) {
  const json::value* args = call.if_contains("args");
  return json::object{
      {"type", "tool"},
      {"toolCall", json::object{{"id", StrOf(call, "id")},
                                {"name", StrOf(call, "name")},
                                {"args", args != nullptr ? *args : json::value(json::object{})}}}};
}

Result<std::vector<Decision>> CheckDecisions(const json::value& resume, const json::array& calls) {
  auto bad = [](std::string message) { return MakeError(Errc::kInvalidArgument, std::move(message)); };
  const json::value* list = resume.is_object() ? resume.get_object().if_contains("decisions") : nullptr;
  if (list == nullptr || !list->is_array()) {
    return bad(fmt::format("resume must be {{\"decisions\": [...]}} with one decision per action request "
                           "({}: {}), got {}",
                           calls.size(), CallNames(calls), Shown(resume)));
  }
  const json::array& decisions = list->get_array();
  if (decisions.size() != calls.size()) {
    return bad(fmt::format("resume.decisions has {} decision(s) for {} action request(s) ({}); send one per "
                           "request, in order",
                           decisions.size(), calls.size(), CallNames(calls)));
  }
  std::vector<Decision> out;
  for (std::size_t i = 0; i < decisions.size(); ++i) {
    const std::string at = fmt::format("resume.decisions[{}]", i);
    if (!decisions[i].is_object()) return bad(fmt::format("{}: expected an object {{type, ...}}, got {}", at, Shown(decisions[i])));
    const json::object& d = decisions[i].get_object();
    const json::value* type = d.if_contains("type");
    const std::string_view t = type != nullptr && type->is_string() ? std::string_view(type->get_string()) : "";
    Decision decision;
    if (t == "approve") {
      decision.type = Decision::Type::kApprove;
    } else if (t == "edit") {
      decision.type = Decision::Type::kEdit;
      const json::value* edited = d.if_contains("edited_action");
      if (edited == nullptr || !edited->is_object()) {
        return bad(fmt::format("{}.edited_action: an edit needs {{name, args}}", at));
      }
      const json::object& action = edited->get_object();
      const json::value* args = action.if_contains("args");
      if (args == nullptr || !args->is_object()) {
        return bad(fmt::format("{}.edited_action.args: expected an object, got {}", at,
                               args == nullptr ? std::string("nothing") : Shown(*args)));
      }
      const std::string_view call_name = StrOf(calls[i].get_object(), "name");
      if (const json::value* name = action.if_contains("name");
          name != nullptr && (!name->is_string() || name->get_string() != call_name)) {
        return bad(fmt::format("{}.edited_action.name: {} is not the call's tool \"{}\"; only its args can be edited",
                               at, Shown(*name), call_name));
      }
      decision.args = *args;
    } else if (t == "reject") {
      decision.type = Decision::Type::kReject;
      if (const json::value* m = d.if_contains("message"); m != nullptr && !m->is_null()) {
        if (!m->is_string()) return bad(fmt::format("{}.message: expected a string, got {}", at, Shown(*m)));
        decision.message = std::string(m->get_string());
      }
    } else {
      return bad(fmt::format("{}.type: expected approve, edit or reject, got {}", at,
                             type == nullptr ? std::string("nothing") : Shown(*type)));
    }
    out.push_back(std::move(decision));
  }
  return out;
}

std::optional<std::string> CheckApprovalResume(const GraphInfo& graph, const json::object& thread_interrupts,
                                               const json::object& command) {
  if (!graph.def) return std::nullopt;
  const json::value* resume = command.if_contains("resume");
  if (resume == nullptr) return std::nullopt;
  const graph::NodeDef* tools_node = nullptr;
  bool approvals = false;
  for (const auto& n : graph.def->nodes) {
    if (n.kind == graph::NodeKind::kTools && tools_node == nullptr) tools_node = &n;
    for (const auto& t : n.tools) approvals = approvals || t.approval_required;
  }
  if (!approvals || tools_node == nullptr) return std::nullopt;
  for (const auto& [task, list] : thread_interrupts) {
    if (!list.is_array()) continue;
    for (const auto& i : list.get_array()) {
      const json::value* value = i.is_object() ? i.get_object().if_contains("value") : nullptr;
      if (value == nullptr || !value->is_object()) continue;
      const json::value* requests = value->get_object().if_contains("action_requests");
      if (requests == nullptr || !requests->is_array() || !value->get_object().contains("review_configs")) continue;
      for (const auto& r : requests->get_array()) {
        if (!r.is_object()) return std::nullopt;  // not ours
      }
      if (auto checked = CheckDecisions(*resume, requests->get_array()); !checked) {
        return fmt::format("graph {} node {}: {}", graph.graph_id, tools_node->name, checked.error().message);
      }
    }
  }
  return std::nullopt;
}

asio::awaitable<Result<json::object>> OutsideAnswerToolsNode(RunContext& ctx, const TaskInfo& task,
                                                             const GraphState& state, const graph::NodeDef& node,
                                                             UnansweredCalls pending) {
  (void)state;
  const graph::GraphDef& def = *ctx.graph.def;
  const std::size_t n = pending.calls.size();
  if (n == 0) co_return json::object{{"messages", json::array{}}};
  std::vector<std::size_t> approvals, clients, others;
  for (std::size_t i = 0; i < n; ++i) {
    const std::string_view name = StrOf(pending.calls[i].get_object(), "name");
    if (def.FindClientTool(name) != nullptr) {
      clients.push_back(i);
    } else if (def.RequiresApproval(name)) {
      approvals.push_back(i);
    } else {
      others.push_back(i);
    }
  }
  std::vector<std::optional<json::object>> answers(n);
  std::vector<std::size_t> run;  // indices into pending.calls, run with `run_calls`
  json::array run_calls;
  std::optional<json::object> revised_ai;  // the AI message with edited args
  std::size_t clients_answered = 0;
  auto take_resume = [&]() {
    json::value v = std::move(*ctx.resume);
    ctx.resume.reset();
    return v;
  };
  if (!approvals.empty()) {
    json::array under_review;
    for (std::size_t i : approvals) under_review.push_back(pending.calls[i]);
    if (!ctx.resume) co_return json::object{{kInterruptKey, ApprovalRequest(under_review)}};
    const json::value resume = take_resume();
    auto decisions = CheckDecisions(resume, under_review);
    if (!decisions) co_return NodeError(ctx, node, decisions.error().message);
    for (std::size_t k = 0; k < approvals.size(); ++k) {
      const std::size_t i = approvals[k];
      const json::object& call = pending.calls[i].get_object();
      const Decision& d = (*decisions)[k];
      if (d.type == Decision::Type::kReject) {
        answers[i] = ToolMessage(call,
                                 d.message.empty() ? fmt::format("User rejected the tool call for `{}` with id {}",
                                                                 StrOf(call, "name"), StrOf(call, "id"))
                                                   : d.message,
                                 false);
        continue;
      }
      json::object to_run = call;
      if (d.type == Decision::Type::kEdit) {
        to_run["args"] = d.args;
        if (!revised_ai) revised_ai = *pending.ai;
        for (auto& c : (*revised_ai)["tool_calls"].as_array()) {
          if (c.is_object() && StrOf(c.get_object(), "id") == StrOf(call, "id")) c.as_object()["args"] = d.args;
        }
      }
      run.push_back(i);
      run_calls.push_back(std::move(to_run));
    }
    for (std::size_t i : others) {
      run.push_back(i);
      run_calls.push_back(pending.calls[i]);
    }
  } else if (!others.empty()) {
    for (std::size_t i : others) {
      run.push_back(i);
      run_calls.push_back(pending.calls[i]);
    }
  } else {
    // Only client calls left: the first one goes to the client.
    const json::object& call = pending.calls[clients.front()].get_object();
    if (!ctx.resume) co_return json::object{{kInterruptKey, ClientToolRequest(call)}};
    const json::value result = take_resume();
    answers[clients.front()] = ToolMessage(call, result.is_string() ? std::string(result.get_string()) : ToJson(result), true);
    clients_answered = 1;
  }
  if (!run_calls.empty()) {
    const auto filter = node.ToolFilter();
    auto ran = co_await RunToolCalls(ctx, task, run_calls, filter ? &*filter : nullptr);
    if (!ran) co_return ran.error();
    json::array& messages = (*ran)["messages"].as_array();
    for (std::size_t k = 0; k < run.size() && k < messages.size(); ++k) answers[run[k]] = std::move(messages[k].as_object());
  }
  json::array messages;
  if (revised_ai) messages.push_back(std::move(*revised_ai));  // same id: replaces the original
  for (auto& a : answers) {
    if (a) messages.push_back(std::move(*a));
  }
  json::object update{{"messages", std::move(messages)}};
  // Client calls still waiting: run this node again, which pauses for the next one.
  if (clients.size() > clients_answered) update[kGotoKey] = task.node;
  co_return update;
}

}  // namespace agentd::runtime
