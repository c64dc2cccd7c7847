// Broadcast channels over HTTP (docs/broadcast.md): publish with POST, follow over SSE or
// WebSocket. The channel is the principal's tenant + the path's name, so one tenant never sees
// another's messages. Delivery is at most once, with no replay.
//
//   POST /broadcast/{channel}            {"data": <any>} -> 202 {"channel", "id"}
//   GET  /broadcast/{channel}/stream     SSE: `event: message` frames, `: hb` heartbeats
//   GET  /broadcast/{channel}/ws         WebSocket: server -> client the same JSON; client
//                                        text messages {"data": <any>} are published

#include <string>
#include <utility>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/json/object.hpp>
#include <fmt/core.h>

#include "api/errors.hpp"
#include "api/handlers.hpp"
#include "api/sse.hpp"
#include "api/validate.hpp"
#include "broadcast/hub.hpp"
#include "common/json.hpp"

namespace agentd::api::detail {

namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;

namespace {

// RFC 6455 close codes the session uses.
constexpr std::uint16_t kCloseGoingAway = 1001;
constexpr std::uint16_t kClosePolicy = 1008;

Response Unavailable(std::string_view message, bool retry) {
  auto r = ErrorReply(503, ErrorCode(Errc::kUnavailable), message);
  if (retry) r.SetHeader("Retry-After", "1");
  return r;
}

json::object Issue(std::string_view field, std::string_view code, std::string message) {
  return json::object{{"code", code},
                      {"path", json::array{json::value(field)}},
                      {"message", std::move(message)}};
}

// The hub and a valid channel name, or the refusal to send.
std::optional<Response> CheckChannel(const ApiContext& ctx, const Request& request) {
  if (ctx.broadcast == nullptr) return Unavailable("broadcast channels are not enabled", false);
  if (!broadcast::IsValidChannelName(request.PathParam("channel"))) {
    Validator v;
    v.AddIssue(Issue("channel", "invalid_string",
                     fmt::format("Channel names are 1-{} characters of A-Z a-z 0-9 . _ : -",
                                 broadcast::kMaxChannelNameLength)));
    return v.Response();
  }
  return std::nullopt;
}

// Publishes the `data` of a parsed body ({"data": <any>}); 202 with the id, or the
// 400/422/503 to answer (a body ParseBody refused is answered as it refused it).
asio::awaitable<Response> PublishBody(broadcast::Hub& hub, std::string tenant, std::string name,
                                      BodyResult<json::object> body) {
  if (!body) co_return std::move(body.error());
  auto* data = body->if_contains("data");
  if (data == nullptr) {
    Validator v;
    v.AddIssue({{"code", "invalid_type"},
                {"expected", "any"},
                {"received", "undefined"},
                {"path", json::array{"data"}},
                {"message", "Required"}});
    co_return v.Response();
  }
  auto id = co_await hub.Publish(std::move(tenant), name, std::move(*data));
  if (!id) {
    if (id.error().code == Errc::kInvalidArgument) {
      Validator v;
      v.AddIssue(Issue("data", "too_big", id.error().message));
      co_return v.Response();
    }
    co_return Unavailable(id.error().message, true);
  }
  co_return JsonReply(json::object{{"channel", name}, {"id", *id}}, 202);
}

Reply PublishMessage(ApiContext& ctx, Request& request) {
  if (auto refusal = CheckChannel(ctx, request)) co_return std::move(*refusal);
  co_return co_await PublishBody(*ctx.broadcast, Tenant(request),
                                 std::string(request.PathParam("channel")),
                                 ParseBody(request, ctx.config.server.json_max_depth));
}

Reply StreamChannel(ApiContext& ctx, Request& request) {
  if (auto refusal = CheckChannel(ctx, request)) co_return std::move(*refusal);
  // Subscribed before the head goes out: once a client sees 200, it receives what follows.
  std::shared_ptr<bus::Subscription> sub = ctx.broadcast->Subscribe(
      Tenant(request), request.PathParam("channel"), broadcast::Format::kSse);
  auto response = Response::Stream(200, "text/event-stream", [sub](http::BodyWriter& out) {
    return ServeSse(sub, out, {});
  });
  SetSseHeaders(response);
  co_return response;
}

// Hub -> client. Ends on a cut (an error message, then close 1008), on the hub's close (1001),
// or when the client is gone.
asio::awaitable<void> PumpToSocket(std::shared_ptr<bus::Subscription> sub, http::WebSocket& ws) {
  for (;;) {
    auto frames = co_await sub->Next();
    if (!frames) {
      if (frames.error().code == Errc::kResourceExhausted) {
        json::object error{{"error", "StreamError"}, {"message", frames.error().message}};
        co_await ws.Send(ToJson(error));
        co_await ws.Close(kClosePolicy, "subscriber fell behind");
      }
      co_return;  // kCancelled: the client left first
    }
    if (frames->empty()) {
      co_await ws.Close(kCloseGoingAway, "server shutting down");
      co_return;
    }
    for (auto& frame : *frames) {
      if (!co_await ws.Send(std::move(frame))) co_return;
    }
  }
}

// The refusal of a published WebSocket message: the HTTP refusal's {"error", "detail"} (a
// validation refusal's code is "invalid_request", its issues kept) plus its "status".
std::string SocketRefusal(const Response& reply) {
  json::object out;
  auto body = ParseJson(reply.body);
  const json::object* o = body ? body->if_object() : nullptr;
  const json::value* code = o ? o->if_contains("error") : nullptr;
  const json::value* detail = o ? o->if_contains("detail") : nullptr;
  out["error"] = code && code->is_string() ? *code : json::value("invalid_request");
  out["detail"] = detail && detail->is_string() ? *detail : json::value(reply.body);
  if (code && code->is_object()) {
    if (const auto* issues = code->get_object().if_contains("issues")) out["issues"] = *issues;
  }
  if (const json::value* path = o ? o->if_contains("path") : nullptr) out["path"] = *path;
  out["status"] = reply.status;
  return ToJson(out);
}

// Client -> hub: each message is a publish body, parsed as a request body is; only refusals
// are answered (SocketRefusal), so the socket carries nothing else for a well-behaved client.
asio::awaitable<void> PublishFromSocket(broadcast::Hub& hub, std::string tenant, std::string name,
                                        std::size_t max_depth, http::WebSocket& ws) {
  for (;;) {
    auto text = co_await ws.Receive();
    if (!text) co_return;
    BodyResult<json::object> body = json::object{};
    if (auto parsed = ParseJsonBody(*text, max_depth); !parsed) {
      body = std::move(parsed.error());
    } else if (!parsed->is_object()) {
      body = ErrorReply(400, code::kInvalidBody,
                        fmt::format("A message must be a JSON object, received {}",
                                    JsonTypeName(*parsed)));
    } else {
      body = std::move(parsed->get_object());
    }
    auto reply = co_await PublishBody(hub, tenant, name, std::move(body));
    if (reply.status != 202) {
      if (!co_await ws.Send(SocketRefusal(reply))) co_return;
    }
  }
}

asio::awaitable<void> ServeSocket(broadcast::Hub& hub, std::shared_ptr<bus::Subscription> sub,
                                  std::string tenant, std::string name, std::size_t max_depth,
                                  http::WebSocket& ws) {
  // Whichever side ends first cancels the other: the client leaving ends the pump, a cut or
  // the hub's close ends the reader.
  co_await (PumpToSocket(std::move(sub), ws) ||
            PublishFromSocket(hub, std::move(tenant), std::move(name), max_depth, ws));
}

Reply FollowOverWebSocket(ApiContext& ctx, Request& request) {
  if (auto refusal = CheckChannel(ctx, request)) co_return std::move(*refusal);
  std::shared_ptr<bus::Subscription> sub = ctx.broadcast->Subscribe(
      Tenant(request), request.PathParam("channel"), broadcast::Format::kJson);
  broadcast::Hub* hub = ctx.broadcast;
  co_return Response::WebSocketUpgrade(
      [hub, sub, tenant = Tenant(request), name = std::string(request.PathParam("channel")),
       max_depth = ctx.config.server.json_max_depth](http::WebSocket& ws) {
        return ServeSocket(*hub, sub, tenant, name, max_depth, ws);
      });
}

}  // namespace

void RegisterBroadcastRoutes(http::Router& router, ApiContext& ctx) {
  Route(router, http::Method::kPost, "/broadcast/{channel}", ctx, PublishMessage);
  Route(router, http::Method::kGet, "/broadcast/{channel}/stream", ctx, StreamChannel);
  Route(router, http::Method::kGet, "/broadcast/{channel}/ws", ctx, FollowOverWebSocket);
}

}  // namespace agentd::api::detail
