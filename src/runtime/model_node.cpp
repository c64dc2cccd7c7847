#include "runtime/model_node.hpp"

#include <utility>

#include <fmt/format.h>

#include "common/json.hpp"
#include "common/uuid.hpp"
#include "runtime/chat_model.hpp"
#include "runtime/graph_file_nodes.hpp"
#include "runtime/messages.hpp"
#include "runtime/model_registry.hpp"
#include "runtime/run_observer.hpp"
#include "runtime/providers/anthropic_provider.hpp"

namespace agentd::runtime {

namespace asio = boost::asio;
namespace json = boost::json;
using providers::ChatMessage;
using providers::ChatRole;

namespace {

std::string_view Str(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

// Streaming state of one completion: what the chunks and the legacy partials need.
struct ChunkBuilder {
  std::string id;
  std::string provider;
  std::string text;
  json::array partial_tool_calls;  // legacy partial: [{name, args (text so far), id}]
  bool started = false;

  json::object Base(std::string content) const {
    return {
        {"content", std::move(content)},
        {"tool_call_chunks", json::array{}},
        {"additional_kwargs", json::object{}},
        {"id", id},
        {"response_metadata", json::object{{"model_provider", provider}, {"usage", json::object{}}}},
        {"tool_calls", json::array{}},
        {"invalid_tool_calls", json::array{}},
        {"type", "ai"},
    };
  }
};

json::object ChunkFor(ChunkBuilder& b, const providers::StreamDelta& delta) {
  if (const auto* t = std::get_if<providers::TextDelta>(&delta)) {
    b.text += t->text;
    return b.Base(t->text);
  }
  if (const auto* s = std::get_if<providers::ToolCallStart>(&delta)) {
    json::object chunk = b.Base("");
    chunk["tool_call_chunks"] = json::array{json::object{{"name", s->name},
                                                         {"args", ""},
                                                         {"id", s->id},
                                                         {"index", s->index},
                                                         {"type", "tool_call_chunk"}}};
    chunk["additional_kwargs"] = json::object{
        {"tool_calls",
         json::array{json::object{{"index", s->index},
                                  {"id", s->id},
                                  {"type", "function"},
                                  {"function", json::object{{"name", s->name}, {"arguments", ""}}}}}}};
    chunk["tool_calls"] = json::array{json::object{
        {"name", s->name}, {"args", json::object{}}, {"id", s->id}, {"type", "tool_call"}}};
    b.partial_tool_calls.push_back(json::object{{"name", s->name}, {"args", ""}, {"id", s->id}});
    return chunk;
  }
  if (const auto* a = std::get_if<providers::ToolCallArgsDelta>(&delta)) {
    json::object chunk = b.Base("");
    chunk["tool_call_chunks"] = json::array{json::object{
        {"args", a->fragment}, {"index", a->index}, {"type", "tool_call_chunk"}}};
    chunk["additional_kwargs"] = json::object{
        {"tool_calls", json::array{json::object{
                           {"index", a->index},
                           {"function", json::object{{"arguments", a->fragment}}}}}}};
    // LangChain parses each chunk's own fragment: an object becomes a (nameless) tool call,
    // anything else an invalid one. Clients merge by index and ignore these.
    auto parsed = ParseJson(a->fragment);
    if (parsed && parsed->is_object()) {
      chunk["tool_calls"] = json::array{
          json::object{{"name", ""}, {"args", *parsed}, {"type", "tool_call"}}};
    } else {
      chunk["invalid_tool_calls"] = json::array{json::object{{"name", ""},
                                                             {"args", a->fragment},
                                                             {"error", "Malformed args."},
                                                             {"type", "invalid_tool_call"}}};
    }
    if (a->index < b.partial_tool_calls.size()) {
      auto& call = b.partial_tool_calls[a->index].as_object();
      call["args"] = std::string(call["args"].as_string()) + a->fragment;
    }
    return chunk;
  }
  if (const auto* u = std::get_if<providers::Usage>(&delta)) {
    json::object chunk = b.Base("");
    const auto total = u->prompt_tokens + u->completion_tokens;
    chunk["response_metadata"] = json::object{
        {"usage", json::object{{"prompt_tokens", u->prompt_tokens},
                               {"completion_tokens", u->completion_tokens},
                               {"total_tokens", total}}}};
    chunk["usage_metadata"] = json::object{{"input_tokens", u->prompt_tokens},
                                           {"output_tokens", u->completion_tokens},
                                           {"total_tokens", total},
                                           {"input_token_details", json::object{}},
                                           {"output_token_details", json::object{}}};
    return chunk;
  }
  return b.Base("");  // Finish: an empty chunk, as the provider's final chunk
}

// The legacy messages/partial view: the message so far.
json::object PartialMessage(const ChunkBuilder& b) {
  json::object m = b.Base(b.text);
  m.erase("tool_call_chunks");
  json::array calls;
  for (const auto& c : b.partial_tool_calls) {
    const auto& o = c.get_object();
    auto args = ParseJson(Str(o, "args"));
    calls.push_back(json::object{{"name", o.at("name")},
                                 {"args", args && args->is_object() ? *args : json::object{}},
                                 {"id", o.at("id")},
                                 {"type", "tool_call"}});
  }
  m["tool_calls"] = std::move(calls);
  return m;
}

json::object FinalMessage(const providers::ChatResult& result, const std::string& id,
                          const std::string& provider, const std::string& model_name) {
  json::array tool_calls, invalid_tool_calls, raw_calls;
  std::size_t index = 0;
  for (const auto& call : result.tool_calls) {
    auto args = call.arguments_json.empty() ? std::optional<json::value>(json::object{})
                                            : ParseJson(call.arguments_json);
    if (args && args->is_object()) {
      tool_calls.push_back(json::object{
          {"name", call.name}, {"args", *args}, {"id", call.id}, {"type", "tool_call"}});
    } else {
      invalid_tool_calls.push_back(json::object{{"name", call.name},
                                                {"args", call.arguments_json},
                                                {"id", call.id},
                                                {"error", "Malformed args."},
                                                {"type", "invalid_tool_call"}});
    }
    raw_calls.push_back(json::object{
        {"index", index++},
        {"id", call.id},
        {"type", "function"},
        {"function", json::object{{"name", call.name}, {"arguments", call.arguments_json}}}});
  }
  json::object response_metadata{{"finish_reason", result.finish_reason},
                                  {"model_name", model_name},
                                  {"model_provider", provider}};
  json::object message{
      {"content", result.text},
      {"additional_kwargs",
       raw_calls.empty() ? json::object{} : json::object{{"tool_calls", std::move(raw_calls)}}},
      {"response_metadata", json::object{}},
      {"tool_calls", std::move(tool_calls)},
      {"invalid_tool_calls", std::move(invalid_tool_calls)},
      {"id", id},
      {"type", "ai"},
  };
  if (result.usage) {
    const auto total = result.usage->prompt_tokens + result.usage->completion_tokens;
    response_metadata["usage"] = json::object{{"prompt_tokens", result.usage->prompt_tokens},
                                              {"completion_tokens", result.usage->completion_tokens},
                                              {"total_tokens", total}};
    message["usage_metadata"] = json::object{{"input_tokens", result.usage->prompt_tokens},
                                             {"output_tokens", result.usage->completion_tokens},
                                             {"total_tokens", total},
                                             {"input_token_details", json::object{}},
                                             {"output_token_details", json::object{}}};
  }
  message["response_metadata"] = std::move(response_metadata);
  return message;
}

// What merging a completion's chunks gives: one tool_call_chunk per call, args whole.
json::array AggregatedToolCallChunks(const providers::ChatResult& result) {
  json::array chunks;
  std::size_t index = 0;
  for (const auto& call : result.tool_calls) {
    chunks.push_back(json::object{{"name", call.name},
                                  {"args", call.arguments_json},
                                  {"id", call.id},
                                  {"index", index++},
                                  {"type", "tool_call_chunk"}});
  }
  return chunks;
}

// The tools `names` as the model sees them (name, description and arguments schema), from the
// run's resolved tools: a graph's names are all in ctx.tools (the registry checked them at
// start), so a model is never offered a tool the run cannot call.
std::vector<providers::ToolSpec> OfferedTools(const RunContext& ctx,
                                              const std::vector<std::string>& names) {
  std::vector<providers::ToolSpec> out;
  out.reserve(names.size());
  for (const auto& name : names) {
    for (const config::ToolSpec* spec : ctx.tools) {
      if (spec->name == name) {
        out.push_back(providers::ToolSpec{spec->name, spec->description, spec->parameters});
        break;
      }
    }
  }
  return out;
}

}  // namespace

std::vector<ChatMessage> ToChatMessages(const json::array& messages,
                                        const std::string& system_prompt) {
  std::vector<ChatMessage> out;
  if (!system_prompt.empty()) out.push_back(ChatMessage{ChatRole::kSystem, system_prompt, {}, {}});
  for (const auto& v : messages) {
    if (!v.is_object()) continue;
    const auto& m = v.get_object();
    const std::string_view type = Str(m, "type");
    ChatMessage cm;
    const auto* content = m.if_contains("content");
    cm.content = content != nullptr ? ContentText(*content) : std::string();
    if (type == "human") {
      cm.role = ChatRole::kUser;
    } else if (type == "system") {
      cm.role = ChatRole::kSystem;
    } else if (type == "tool") {
      cm.role = ChatRole::kTool;
      cm.tool_call_id = Str(m, "tool_call_id");
    } else if (type == "ai") {
      cm.role = ChatRole::kAssistant;
      const auto* calls = m.if_contains("tool_calls");
      if (calls != nullptr && calls->is_array()) {
        for (const auto& c : calls->get_array()) {
          if (!c.is_object()) continue;
          const auto& call = c.get_object();
          const auto* args = call.if_contains("args");
          cm.tool_calls.push_back(providers::ToolCall{
              std::string(Str(call, "id")), std::string(Str(call, "name")),
              args != nullptr ? ToJson(*args) : std::string("{}")});
        }
      }
    } else {
      continue;  // remove markers never reach the model
    }
    out.push_back(std::move(cm));
  }
  return out;
}

std::string_view ProviderOf(const ChatModel* model) {
  return dynamic_cast<const providers::AnthropicProvider*>(model) ? "anthropic" : "openai";
}

ModelCall ModelCallOf(const GraphInfo& graph) {
  return ModelCall{graph.spec.model, graph.spec.system_prompt, graph.spec.tools, {}};
}

asio::awaitable<Result<json::object>> ModelNode(RunContext& ctx, const TaskInfo& task,
                                                const GraphState& state) {
  ModelCall call = ModelCallOf(ctx.graph);
  if (!ctx.graph.knobs.empty() && !ctx.graph.def) {
    // The built-in react graph's knobs: the run's config.configurable (the assistant's merged
    // with the run's), else its context, else the configuration (null = unset).
    const json::object knobs = ResolveKnobs(ctx.graph.knobs, ctx.request.config, ctx.request.context);
    if (const auto* m = knobs.if_contains("model"); m != nullptr && m->is_string()) {
      call.model = std::string(m->get_string());
    }
    if (const auto* p = knobs.if_contains("system_prompt"); p != nullptr && p->is_string()) {
      call.system_prompt = std::string(p->get_string());
    }
  }
  co_return co_await ModelNode(ctx, task, state, std::move(call));
}

asio::awaitable<Result<json::object>> ModelNode(RunContext& ctx, const TaskInfo& task,
                                                const GraphState& state, ModelCall call) {
  ChatModel* model = ctx.models.Find(call.model);
  if (model == nullptr) {
    co_return MakeError(Errc::kInvalidArgument,
                        fmt::format("graph {} uses model \"{}\", which is not configured",
                                    ctx.graph.graph_id, call.model));
  }
  ChunkBuilder builder;
  builder.provider = std::string(ProviderOf(model));
  // LangChain's names: ls_model_name and response_metadata.model_name are the provider's model
  // (the configured models[].model; the reply's own `model` when it names one), not our name.
  const std::string& model_name = model->model();

  ChatRequest request;
  request.messages = ToChatMessages(state.messages, call.system_prompt);
  request.tools = OfferedTools(ctx, call.tools);
  request.options = std::move(call.options);

  json::object metadata = TaskMessageMetadata(ctx, task);
  metadata["ls_provider"] = builder.provider;
  metadata["ls_model_name"] = model_name;
  metadata["ls_model_type"] = "chat";
  const std::string llm_run_id = NewUuid4();
  // Events name the model by its LangChain class, as the reference does ("ChatOpenAI"; the
  // mock speaks OpenAI's protocol); the provider's model is in metadata.ls_model_name.
  const std::string_view llm_name =
      builder.provider == "anthropic" ? "ChatAnthropic" : "ChatOpenAI";
  // The chat model's input as events mode shows it: a copy of the whole history, so it is
  // built only when events were asked for (every turn of a long thread paid it otherwise).
  const bool events = ctx.Wants(StreamMode::kEvents);
  const json::object llm_input =
      events ? json::object{{"messages", json::array{state.messages}}} : json::object{};
  auto llm_event = [&](std::string_view event, json::object data) {
    json::object record = ChildEvent(ctx, task, event, llm_name, llm_run_id,
                                     "langchain_chat_model", std::move(data));
    auto& meta = record["metadata"].as_object();
    for (const char* key : {"ls_provider", "ls_model_name", "ls_model_type"}) {
      meta[key] = metadata.at(key);
    }
    return record;
  };
  if (events) {
    ctx.Emit("events", llm_event("on_chat_model_start", json::object{{"input", llm_input}}));
  }
  std::optional<ModelCallInfo> traced;  // the run's trace, when observed
  if (ctx.request.observer != nullptr) traced = BeginModelCall(model_name, request);
  auto on_delta = [&](const providers::StreamDelta& delta) {
    if (traced) NoteModelDelta(*traced, delta);
    if (const auto* start = std::get_if<providers::MessageStart>(&delta)) {
      // Every chunk and the final message carry the provider's reply id (7.3). Before any
      // chunk went out a retry may replace it; after that the first one stays.
      if (!builder.started) builder.id = start->id;
      return;
    }
    // A provider that reveals no id: the message gets one here, as LangChain does.
    if (builder.id.empty()) builder.id = "run-" + NewUuid4();
    const bool text = std::holds_alternative<providers::TextDelta>(delta);
    const bool first = !builder.started;
    builder.started = true;
    // The provider's opening role chunk (empty content) precedes the first text piece.
    // Every chunk, that one included, is one events-mode stream record, one messages tuple
    // and one legacy partial (captured: the finish and usage chunks repeat the partial).
    // Captured order: the first events record precedes messages/metadata.
    bool announce = first && ctx.Wants(StreamMode::kMessages);
    auto emit_chunk = [&](json::object chunk) {
      if (ctx.Wants(StreamMode::kEvents)) {
        ctx.Emit("events", llm_event("on_chat_model_stream", json::object{{"chunk", chunk}}));
      }
      if (announce) {
        ctx.Emit("messages/metadata",
                 json::object{{builder.id, json::object{{"metadata", metadata}}}});
        announce = false;
      }
      if (ctx.Wants(StreamMode::kMessagesTuple)) {
        ctx.Emit("messages", json::array{std::move(chunk), metadata});
      }
      if (ctx.Wants(StreamMode::kMessages)) {
        ctx.Emit("messages/partial", json::array{PartialMessage(builder)});
      }
    };
    if (first && text) emit_chunk(builder.Base(""));
    emit_chunk(ChunkFor(builder, delta));
  };
  auto result = co_await model->Complete(std::move(request), on_delta);
  if (traced) {
    EndModelCall(*traced, result);
    ctx.request.observer->ModelCalled(task, *traced);
  }
  if (!result) co_return result.error();
  if (result->usage) {
    ctx.usage.input_tokens += result->usage->prompt_tokens;
    ctx.usage.output_tokens += result->usage->completion_tokens;
  }
  if (builder.id.empty()) builder.id = result->id.empty() ? "run-" + NewUuid4() : result->id;
  json::object message = FinalMessage(*result, builder.id, builder.provider,
                                      result->model.empty() ? model_name : result->model);
  if (events) {
    // The end record's output is the aggregated chunk: the message plus its tool call chunks.
    json::object output = message;
    output["tool_call_chunks"] = AggregatedToolCallChunks(*result);
    ctx.Emit("events", llm_event("on_chat_model_end", json::object{{"output", std::move(output)},
                                                                   {"input", llm_input}}));
  }
  co_return json::object{{"messages", json::array{std::move(message)}}};
}

}  // namespace agentd::runtime
