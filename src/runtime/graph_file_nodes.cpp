#include "runtime/graph_file_nodes.hpp"

#include <algorithm>
#include <utility>

#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include "common/json.hpp"
#include "graph/structured_output.hpp"
#include "runtime/function_node.hpp"
#include "runtime/model_node.hpp"
#include "runtime/model_registry.hpp"
#include "runtime/nodes.hpp"
#include "runtime/subgraph_node.hpp"
#include "runtime/tool_approval.hpp"

namespace agentd::runtime {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr std::string_view kStructuredTool = "structured_output";

struct Rendering {
  json::object knobs;
  graph::TemplateContext ctx;
};

Rendering RenderingFor(const RunContext& ctx, const GraphState& state, const graph::GraphDef& def) {
  Rendering r;
  r.knobs = ResolveKnobs(def, ctx.request.config, ctx.request.context);
  r.ctx.state = graph::StateView{&state.channels, &state.messages, nullptr};
  r.ctx.context = &ctx.request.context;
  r.ctx.thread_id = ctx.request.thread_id;
  r.ctx.run_id = ctx.request.run_id;
  return r;
}

// The node's `update` rendered against `view` ($cases picked by their conditions).
Result<json::object> RenderUpdate(const graph::NodeDef& node, const graph::TemplateContext& ctx) {
  json::object out;
  for (const auto& [channel, value] : node.update) {
    auto cases = node.cases.find(std::string(channel));
    if (cases == node.cases.end()) {
      out[channel] = graph::Render(value, ctx);
      continue;
    }
    for (const auto& c : cases->second) {
      bool holds = true;
      if (c.when) {
        auto r = graph::Evaluate(*c.when, ctx.state);
        if (!r) return r.error();
        holds = *r;
      }
      if (holds) {
        out[channel] = graph::Render(c.value, ctx);
        break;
      }
    }
  }
  return out;
}

Error NodeError(const RunContext& ctx, const graph::NodeDef& node, std::string_view problem,
                Errc code = Errc::kInvalidArgument) {
  return MakeError(code, fmt::format("graph {} node {}: {}", ctx.graph.graph_id, node.name, problem));
}

asio::awaitable<Result<json::object>> LlmNode(RunContext& ctx, const TaskInfo& task, const GraphState& state,
                                              const graph::GraphDef& def, const graph::NodeDef& node) {
  Rendering r = RenderingFor(ctx, state, def);
  r.ctx.config = &r.knobs;
  ModelCall call;
  call.model = node.model.is_string() ? graph::RenderText(node.model.get_string(), r.ctx) : ctx.graph.spec.model;
  if (node.system.is_string()) call.system_prompt = graph::RenderText(node.system.get_string(), r.ctx);
  for (const auto& t : node.tools) call.tools.push_back(t.ref.name);
  call.options.tool_choice = node.tool_choice;
  call.options.temperature = node.temperature;
  call.options.max_tokens = node.max_tokens;
  std::optional<graph::ProviderSchema> schema;
  std::string_view provider = "openai";
  if (node.output) {
    schema = graph::WrapSchema(node.output->schema);
    provider = ProviderOf(ctx.models.Find(call.model));
    if (provider == "anthropic") {
      // A forced tool whose input is the answer (docs/graphs.md).
      call.tools.clear();
      call.options.tool_choice = std::string(kStructuredTool);
      call.options.extra["tools"] = json::array{json::object{
          {"name", kStructuredTool}, {"description", "Answer with this tool."}, {"input_schema", schema->schema}}};
    } else {
      call.options.extra["response_format"] = json::object{
          {"type", "json_schema"},
          {"json_schema", json::object{{"name", kStructuredTool}, {"strict", true}, {"schema", schema->schema}}}};
    }
  }
  auto reply = co_await ModelNode(ctx, task, state, std::move(call));
  if (!reply) co_return reply.error();
  json::object update = std::move(*reply);
  json::object& message = update["messages"].as_array().front().as_object();
  if (schema) {
    std::optional<json::value> answer;
    if (provider == "anthropic") {
      // The forced call's input is the answer; the message keeps it as text, not as a tool
      // call nobody will answer.
      for (const auto& c : message["tool_calls"].as_array()) {
        if (c.as_object().at("name").as_string() == kStructuredTool) answer = c.as_object().at("args");
      }
      message["tool_calls"] = json::array{};
      message["additional_kwargs"] = json::object{};
      if (answer) message["content"] = ToJson(*answer);
    } else {
      const auto* content = message.if_contains("content");
      if (content != nullptr && content->is_string()) answer = ParseJson(content->get_string());
    }
    if (!answer) co_return NodeError(ctx, node, "structured output: the model's answer is not JSON");
    auto value = graph::Unwrap(*answer, schema->wrapped);
    if (!value) co_return NodeError(ctx, node, "structured output: the answer has no \"value\"");
    if (auto problem = graph::ValidateValue(node.output->schema, *value)) {
      co_return NodeError(ctx, node, fmt::format("structured output does not match the schema: {}", *problem));
    }
    update[node.output->channel.name] = std::move(*value);
  }
  if (!node.update.empty()) {
    // The update sees the state with this node's reply (and structured value) in it.
    json::object channels = state.channels;
    for (const auto& [k, v] : update) {
      if (k != "messages") channels[k] = v;
    }
    r.ctx.state = graph::StateView{&channels, &state.messages, &message};
    auto rendered = RenderUpdate(node, r.ctx);
    if (!rendered) co_return NodeError(ctx, node, rendered.error().message);
    for (auto& [k, v] : *rendered) update[k] = std::move(v);
  }
  co_return update;
}

}  // namespace

json::object ResolveKnobs(const graph::GraphDef& def, const json::object& config, const json::object& context) {
  return ResolveKnobs(def.knobs, config, context);
}

json::object ResolveKnobs(const std::vector<graph::KnobDef>& declared, const json::object& config,
                          const json::object& context) {
  json::object knobs;
  const json::object* configurable = nullptr;
  if (const auto* c = config.if_contains("configurable"); c != nullptr && c->is_object()) {
    configurable = &c->get_object();
  }
  for (const auto& k : declared) {
    const json::value* given = configurable != nullptr ? configurable->if_contains(k.name) : nullptr;
    if (given == nullptr) given = context.if_contains(k.name);
    knobs[k.name] = given != nullptr ? *given : k.default_value;
  }
  return knobs;
}

asio::awaitable<Result<json::object>> RunGraphFileNode(RunContext& ctx, const TaskInfo& task,
                                                       const GraphState& state) {
  const graph::GraphDef& def = *ctx.graph.def;
  const graph::NodeDef* node = def.FindNode(task.node);
  if (node == nullptr) {
    co_return MakeError(Errc::kInvalidArgument, fmt::format("graph {}: unknown node \"{}\"", def.graph_id, task.node));
  }
  switch (node->kind) {
    case graph::NodeKind::kLlm:
      co_return co_await LlmNode(ctx, task, state, def, *node);
    case graph::NodeKind::kSet: {
      Rendering r = RenderingFor(ctx, state, def);
      r.ctx.config = &r.knobs;
      auto rendered = RenderUpdate(*node, r.ctx);
      if (!rendered) co_return NodeError(ctx, *node, rendered.error().message);
      co_return std::move(*rendered);
    }
    case graph::NodeKind::kTools: {
      // Approval-required and client tools pause first (tool_approval.hpp); the node's
      // filter applies to what it then runs either way.
      UnansweredCalls pending = FindUnansweredCalls(state.messages);
      if (pending.ai != nullptr && (pending.some_answered || NeedsOutsideAnswer(def, pending.calls))) {
        co_return co_await OutsideAnswerToolsNode(ctx, task, state, *node, std::move(pending));
      }
      const auto filter = node->ToolFilter();
      co_return co_await ToolsNodeFor(ctx, task, state, filter ? &*filter : nullptr);
    }
    case graph::NodeKind::kInterrupt: {
      if (ctx.resume) {
        json::value value = std::move(*ctx.resume);
        ctx.resume.reset();
        json::object update;
        if (!node->update.empty()) {
          // The node's `update`, rendered with {{resume}} and `resume` conditions on the value.
          Rendering r = RenderingFor(ctx, state, def);
          r.ctx.config = &r.knobs;
          r.ctx.state.resume = &value;
          auto rendered = RenderUpdate(*node, r.ctx);
          if (!rendered) co_return NodeError(ctx, *node, rendered.error().message);
          update = std::move(*rendered);
        }
        if (node->resume_to) update[node->resume_to->name] = std::move(value);
        co_return update;
      }
      Rendering r = RenderingFor(ctx, state, def);
      r.ctx.config = &r.knobs;
      co_return json::object{{kInterruptKey, graph::Render(node->value, r.ctx)}};
    }
    case graph::NodeKind::kSubgraph:
    case graph::NodeKind::kAgent:
      co_return co_await SubgraphNode(ctx, task, state, *node);
    case graph::NodeKind::kFunction: {
      FunctionCall call;
      call.graph_id = def.graph_id;
      call.thread_id = ctx.request.thread_id;
      call.run_id = ctx.request.run_id;
      call.state = state.Values();
      call.config = ctx.request.config;
      call.context = ctx.request.context;
      if (ctx.resume) {
        call.resume = std::move(*ctx.resume);
        ctx.resume.reset();
      }
      auto answer = co_await CallFunctionNode(*node, std::move(call), ctx.http);
      if (!answer) co_return answer.error();
      if (answer->interrupt) co_return json::object{{kInterruptKey, std::move(*answer->interrupt)}};
      json::object update = std::move(answer->update);
      if (answer->go) {
        // Only the graph's nodes (or __end__): a typo must not silently end the run.
        std::vector<std::string> targets;
        if (answer->go->is_string()) targets.emplace_back(answer->go->get_string());
        if (answer->go->is_array()) {
          for (const auto& t : answer->go->get_array()) targets.emplace_back(t.get_string());
        }
        for (const auto& t : targets) {
          if (t != graph::kEnd && def.FindNode(t) == nullptr) {
            co_return NodeError(ctx, *node, fmt::format("goto names unknown node \"{}\"", t));
          }
        }
        update[kGotoKey] = *answer->go;
      }
      co_return update;
    }
    default:
      co_return NodeError(ctx, *node,
                          fmt::format("{} nodes are not supported by this build yet", graph::NodeKindName(node->kind)),
                          Errc::kUnsupported);
  }
}

std::optional<std::string> CheckKnobTypes(const GraphInfo& graph, const json::object& config,
                                          const json::object& context) {
  const json::object* configurable = nullptr;
  if (const auto* c = config.if_contains("configurable"); c != nullptr && c->is_object()) {
    configurable = &c->get_object();
  }
  for (const auto& knob : graph.knobs) {
    const auto* type = knob.schema.is_object() ? knob.schema.get_object().if_contains("type") : nullptr;
    const auto* one_of = knob.schema.is_object() ? knob.schema.get_object().if_contains("enum") : nullptr;
    if (type == nullptr && one_of == nullptr) continue;
    for (const auto& [where, source] : {std::pair<std::string_view, const json::object*>{"config.configurable", configurable},
                                        {"context", &context}}) {
      const json::value* given = source != nullptr ? source->if_contains(knob.name) : nullptr;
      if (given == nullptr || given->is_null()) continue;
      bool ok = type == nullptr;
      if (type != nullptr && type->is_string()) ok = graph::HasType(*given, type->get_string());
      if (type != nullptr && type->is_array()) {
        for (const auto& t : type->get_array()) ok = ok || (t.is_string() && graph::HasType(*given, t.get_string()));
      }
      if (!ok) {
        return fmt::format("{}.{}: graph {} declares this knob as {}, got {}", where, knob.name, graph.graph_id,
                           json::serialize(*type), json::serialize(*given));
      }
      if (one_of != nullptr && one_of->is_array()) {
        const auto& values = one_of->get_array();
        if (std::find(values.begin(), values.end(), *given) == values.end()) {
          return fmt::format("{}.{}: graph {} accepts one of {} for this knob, got {}", where, knob.name,
                             graph.graph_id, json::serialize(*one_of), json::serialize(*given));
        }
      }
    }
  }
  return std::nullopt;
}

Result<std::vector<std::string>> RouteGraphFile(const GraphInfo& graph, std::string_view node,
                                                const GraphState& state) {
  std::vector<std::string> next;
  auto add = [&](const std::string& to) {
    if (to != graph::kEnd && std::find(next.begin(), next.end(), to) == next.end()) next.push_back(to);
  };
  const graph::StateView view{&state.channels, &state.messages, nullptr};
  for (const auto& edge : graph.def->edges) {
    bool from_here = false;
    for (const auto& f : edge.from) from_here = from_here || f.name == node;
    if (!from_here) continue;
    for (const auto& to : edge.to) add(to.name);
    if (edge.branches.empty()) continue;
    bool matched = false;
    for (const auto& branch : edge.branches) {
      bool holds = true;
      if (branch.when) {
        auto r = graph::Evaluate(*branch.when, view);
        if (!r) return r.error();
        holds = *r;
      }
      if (holds) {
        for (const auto& to : branch.to) add(to.name);
        matched = true;
        break;
      }
    }
    if (!matched) {
      return MakeError(Errc::kInvalidArgument,
                       fmt::format("graph {} node {}: no branch of {} matched and there is no default",
                                   graph.graph_id, node, edge.path));
    }
  }
  return next;
}

}  // namespace agentd::runtime
