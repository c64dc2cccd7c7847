#include "mock/mock_routes.hpp"

#include <memory>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace agentd::mock {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using http::Request;
using http::Response;

// Waits `delay` on a timer; false when the wait was cancelled (server stopping).
asio::awaitable<bool> Wait(std::chrono::microseconds delay) {
  if (delay.count() <= 0) co_return true;
  asio::steady_timer timer(co_await asio::this_coro::executor, delay);
  auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  co_return !ec;
}

asio::awaitable<void> WriteFrames(std::shared_ptr<const std::vector<SseFrame>> frames, http::BodyWriter& writer) {
  for (const auto& frame : *frames) {
    if (!co_await Wait(frame.delay_before)) co_return;
    if (!co_await writer.Write(frame.bytes)) co_return;  // client gone: stop producing
  }
}

Response JsonError(int status, std::string_view message) {
  json::object error{{"message", message}, {"type", status >= 500 ? "server_error" : "invalid_request_error"}};
  return Response::Json(status, json::serialize(json::object{{"error", std::move(error)}}));
}

asio::awaitable<Response> HandleCompletion(Request& request, MockOptions options) {
  boost::system::error_code ec;
  json::value body = json::parse(request.body.empty() ? std::string_view("{}") : request.body, ec);
  if (ec) co_return JsonError(400, "invalid JSON body");
  // The reference reads fields off whatever was sent; anything but an object has none.
  const json::object parsed = body.is_object() ? std::move(body.get_object()) : json::object();
  const MockReply reply = ComputeReply(parsed, options);

  if (!Truthy(parsed.if_contains("stream"))) {
    if (!co_await Wait(std::chrono::duration_cast<std::chrono::microseconds>(reply.latency))) {
      co_return JsonError(503, "shutting down");
    }
    co_return Response::Json(200, RenderCompletion(parsed, reply));
  }
  auto frames = std::make_shared<const std::vector<SseFrame>>(RenderStream(parsed, reply));
  Response response = Response::Stream(
      200, "text/event-stream", [frames](http::BodyWriter& writer) { return WriteFrames(frames, writer); });
  response.SetHeader("Cache-Control", "no-cache");
  co_return response;
}

asio::awaitable<Response> HandleWeather(Request& request) {
  auto text = GetWeatherFromBody(request.body);
  if (!text) co_return JsonError(400, "invalid JSON body");
  co_return Response::Text(200, std::move(*text));
}

asio::awaitable<Response> HandleModels(Request&) { co_return Response::Json(200, RenderModels()); }

asio::awaitable<Response> HandleHealth(Request&) { co_return Response::Json(200, R"({"ok":true})"); }

}  // namespace

void RegisterMockRoutes(http::Router& router, const MockOptions& options) {
  auto completion = [options](Request& request) { return HandleCompletion(request, options); };
  router.Add(http::Method::kPost, "/v1/chat/completions", completion);
  router.Add(http::Method::kPost, "/chat/completions", completion);
  router.Add(http::Method::kGet, "/v1/models", HandleModels);
  router.Add(http::Method::kGet, "/models", HandleModels);
  router.Add(http::Method::kGet, "/health", HandleHealth);
  router.Add(http::Method::kPost, "/tools/get_weather", HandleWeather);
}

}  // namespace agentd::mock
