// POST /mcp: agentd as an MCP server (Streamable HTTP, stateless; docs/interop.md). Each
// assistant the caller may see is a tool; tools/call runs it through the RunManager exactly as
// POST /runs/wait does and answers when the run ends.
#include <charconv>
#include <chrono>
#include <utility>

#include <fmt/core.h>

#include "api/errors.hpp"
#include "api/handlers.hpp"
#include "api/mcp_endpoint.hpp"
#include "api/run_answer.hpp"
#include "common/json.hpp"
#include "common/uuid.hpp"
#include "mcp/jsonrpc.hpp"
#include "scheduler/refusal.hpp"

namespace agentd::api::detail {
namespace {

namespace asio = boost::asio;

// JSON-RPC error codes (JSON-RPC 2.0 section 5.1).
constexpr int kParseError = -32700;
constexpr int kInvalidRequest = -32600;
constexpr int kMethodNotFound = -32601;
constexpr int kInvalidParams = -32602;
constexpr int kInternalError = -32603;

constexpr std::int64_t kToolsPageSize = 100;

Response RpcReply(std::string body, int status = 200) {
  return Response::Json(status, std::move(body));
}
Response RpcError(const json::value& id, int code, std::string_view message, int status = 200) {
  return RpcReply(mcp::EncodeError(id, code, message), status);
}

// The assistant a tool name stands for (McpToolName), read for the caller's tenant.
asio::awaitable<Result<model::Assistant>> FindTool(ApiContext& ctx, const Request& req,
                                                   std::string_view name) {
  std::string id;
  if (auto tail = ToolNameAssistantId(name)) {
    id = *tail;
  } else {
    for (const auto& g : ctx.graphs.all()) {
      if (SanitizeToolName(g.graph_id, 128) == name) id = SystemAssistantId(g.graph_id);
    }
  }
  if (id.empty()) co_return MakeError(Errc::kNotFound, fmt::format("Unknown tool: {}", name));
  auto a = co_await ctx.storage.assistants().Get(Tenant(req), id);
  if (!a) co_return MakeError(Errc::kNotFound, fmt::format("Unknown tool: {}", name));
  if (McpToolName(*a) != name) co_return MakeError(Errc::kNotFound, fmt::format("Unknown tool: {}", name));
  co_return a;
}

Reply ToolsList(ApiContext& ctx, Request& req, const json::value& id, const json::value& params) {
  std::int64_t offset = 0;
  if (const json::object* p = params.if_object()) {
    if (const json::value* cursor = p->if_contains("cursor")) {
      std::int64_t n = -1;
      if (cursor->is_string()) {
        std::string_view text = cursor->get_string();
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
        if (ec != std::errc() || end != text.data() + text.size()) n = -1;
      }
      if (n < 0) co_return RpcError(id, kInvalidParams, "invalid cursor");
      offset = n;
    }
  }
  storage::AssistantQuery q;
  q.tenant = Tenant(req);
  q.limit = kToolsPageSize;
  q.offset = offset;
  q.sort_by = "assistant_id";
  q.sort_order = model::SortOrder::kAsc;
  auto page = co_await ctx.storage.assistants().Search(std::move(q));
  if (!page) co_return RpcError(id, kInternalError, "could not list the assistants");
  json::array tools;
  for (const auto& a : page->items) tools.push_back(McpToolJson(a, ctx.graphs.Find(a.graph_id).get()));
  json::object result{{"tools", std::move(tools)}};
  if (offset + kToolsPageSize < page->total) {
    result["nextCursor"] = std::to_string(offset + kToolsPageSize);
  }
  co_return RpcReply(mcp::EncodeResult(id, std::move(result)));
}

json::value ToolResult(const scheduler::RunHandle& h, const RunAnswer& answer) {
  json::object meta{{"agentd/thread_id", h.thread_id()}, {"agentd/run_id", h.run_id()}};
  json::object result;
  switch (answer.kind) {
    case RunAnswer::Kind::kDone: {
      json::object structured = answer.values;
      structured["thread_id"] = h.thread_id();
      result["content"] = json::array{json::object{{"type", "text"}, {"text", answer.text}}};
      result["structuredContent"] = std::move(structured);
      result["isError"] = false;
      break;
    }
    case RunAnswer::Kind::kError:
      result["content"] = json::array{json::object{{"type", "text"}, {"text", answer.text}}};
      result["isError"] = true;
      break;
    case RunAnswer::Kind::kInterrupted:
      result["content"] = json::array{json::object{
          {"type", "text"},
          {"text", fmt::format("The run stopped at an interrupt on thread {} and waits for input: {}",
                               h.thread_id(), answer.text)}}};
      result["isError"] = true;
      break;
  }
  result["_meta"] = std::move(meta);
  return result;
}

json::value ToolError(std::string_view message) {
  return json::object{
      {"content", json::array{json::object{{"type", "text"}, {"text", message}}}},
      {"isError", true}};
}

Reply ToolsCall(ApiContext& ctx, Request& req, const json::value& id, const json::value& params) {
  const json::object* p = params.if_object();
  const json::value* name = p != nullptr ? p->if_contains("name") : nullptr;
  if (name == nullptr || !name->is_string()) {
    co_return RpcError(id, kInvalidParams, "params.name (the tool) is required");
  }
  auto assistant = co_await FindTool(ctx, req, name->get_string());
  if (!assistant) co_return RpcError(id, kInvalidParams, assistant.error().message);
  const std::shared_ptr<const runtime::GraphInfo> graph = ctx.graphs.Find(assistant->graph_id);
  const json::value* raw_args = p->if_contains("arguments");
  auto args = ReadToolCallArgs(graph.get(), raw_args != nullptr ? *raw_args : json::value());
  if (!args) co_return RpcError(id, kInvalidParams, args.error().message);
  if (ctx.runs == nullptr) co_return RpcError(id, kInternalError, "runs are not available");

  scheduler::RunSpec spec;
  spec.assistant_id = assistant->assistant_id;
  spec.input = std::move(args->input);
  spec.multitask_strategy = scheduler::MultitaskStrategy::kEnqueue;
  spec.delete_on_completion = false;  // the new thread stays, so the answer can be continued
  spec.metadata = json::object{{"source", "mcp"}};
  auto created = co_await ctx.runs->Create(req.principal, args->thread_id, std::move(spec));
  if (!created) {
    // Overload answers as HTTP (429/503 with Retry-After), like every run creation; anything
    // else about this call (a missing or busy thread) is the tool's error.
    const Error& e = created.error();
    if (scheduler::ParseRefusal(e) || e.code == Errc::kUnavailable ||
        e.code == Errc::kResourceExhausted) {
      co_return ErrorResponse(e);
    }
    co_return RpcReply(mcp::EncodeResult(id, ToolError(created.error().message)));
  }
  std::shared_ptr<scheduler::RunHandle> h = created->handle;
  scheduler::RunManager* runs = ctx.runs;
  json::value rpc_id = id;
  // As /runs/wait: 200 at once, a newline every 5 s (JSON allows leading whitespace, so the
  // SDKs' JSON parsers take the body as it is), then the JSON-RPC response. A client that goes
  // away cancels the run.
  auto producer = [h, runs, rpc_id](http::BodyWriter& out) -> asio::awaitable<void> {
    while (!co_await h->WaitDone(std::chrono::seconds(5))) {
      if (!co_await out.Write(std::string_view("\n"))) {
        runs->RequestCancel(h->run_id(), scheduler::CancelAction::kInterrupt);
        co_return;
      }
    }
    std::string body = mcp::EncodeResult(rpc_id, ToolResult(*h, ReadAnswer(h->final_body())));
    co_await out.Write(std::string_view(body));
  };
  Response response = Response::Stream(200, "application/json", std::move(producer));
  response.SetHeader("Content-Location", "/threads/" + h->thread_id() + "/runs/" + h->run_id());
  co_return response;
}

Reply McpPost(ApiContext& ctx, Request& req) {
  if (!McpOriginAllowed(ctx.config.server.host, req.Header("origin"), ctx.config.server.cors_origins)) {
    co_return RpcError(nullptr, kInvalidRequest,
                       "Origin not allowed: a server on a loopback address accepts browser "
                       "requests to /mcp only from loopback origins or those in cors_origins",
                       403);
  }
  if (auto v = req.Header("mcp-protocol-version"); v && !IsSupportedMcpVersion(*v)) {
    co_return RpcError(nullptr, kInvalidRequest,
                       fmt::format("unsupported MCP-Protocol-Version: {}", *v), 400);
  }
  auto message = mcp::ParseMessage(req.body);
  if (!message) {
    const bool not_json = message.error().message.rfind("not JSON", 0) == 0;
    co_return RpcError(nullptr, not_json ? kParseError : kInvalidRequest, message.error().message,
                       400);
  }
  // Notifications (initialized, cancelled...) and responses: accepted, nothing to answer.
  if (message->kind != mcp::MessageKind::kRequest) co_return Response::Empty(202);
  const json::value& id = message->id;
  const std::string& method = message->method;
  if (method == "initialize") {
    std::string requested;
    if (const json::object* p = message->params.if_object()) {
      if (const json::value* v = p->if_contains("protocolVersion"); v && v->is_string()) {
        requested = std::string(v->get_string());
      }
    }
    co_return RpcReply(mcp::EncodeResult(id, McpInitializeResult(requested, ctx.version)));
  }
  if (method == "ping") co_return RpcReply(mcp::EncodeResult(id, json::object{}));
  if (method == "tools/list") co_return co_await ToolsList(ctx, req, id, message->params);
  if (method == "tools/call") co_return co_await ToolsCall(ctx, req, id, message->params);
  co_return RpcError(id, kMethodNotFound, fmt::format("Method not found: {}", method));
}

// No server-to-client stream and no sessions to end (stateless).
Reply McpNotAllowed(ApiContext&, Request&) {
  Response r = ErrorReply(405, "method_not_allowed",
                          "agentd's /mcp is stateless: POST JSON-RPC messages (no GET stream, no "
                          "session to DELETE)");
  r.SetHeader("Allow", "POST");
  co_return r;
}

}  // namespace

void RegisterMcpRoutes(http::Router& router, ApiContext& ctx) {
  using http::Method;
  Route(router, Method::kPost, "/mcp", ctx, &McpPost);
  Route(router, Method::kGet, "/mcp", ctx, &McpNotAllowed);
  Route(router, Method::kDelete, "/mcp", ctx, &McpNotAllowed);
}

}  // namespace agentd::api::detail
