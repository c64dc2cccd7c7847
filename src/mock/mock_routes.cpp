#include "mock/mock_routes.hpp"

#include <charconv>
#include <map>
#include <optional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/system/system_error.hpp>

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

// `cut_after`: after the role chunk and that many content chunks, cut the connection.
asio::awaitable<void> WriteFrames(std::shared_ptr<const std::vector<SseFrame>> frames,
                                  std::optional<std::size_t> cut_after, http::BodyWriter& writer) {
  std::size_t written = 0;
  for (const auto& frame : *frames) {
    if (cut_after && written == *cut_after + 1) {
      // The server cuts the connection when a stream producer throws (no terminating chunk),
      // and does not log operation_aborted: the client sees a truncated body, as when a real
      // upstream dies mid-stream.
      throw boost::system::system_error(asio::error::operation_aborted);
    }
    if (!co_await Wait(frame.delay_before)) co_return;
    if (!co_await writer.Write(frame.bytes)) co_return;  // client gone: stop producing
    ++written;
  }
}

// Fault injection for tests (README): failures consumed one per attempt, per x-mock-session.
class FaultState {
 public:
  // The 0-based attempt number of `session` (counting this one).
  std::size_t NextAttempt(const std::string& session) {
    std::lock_guard lock(mutex_);
    return attempts_[session]++;
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::size_t> attempts_;
};

std::optional<std::size_t> ParseCount(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  std::size_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// The status that x-mock-fail asks for on this attempt (0 = none).
int InjectedStatus(const Request& request, FaultState& faults) {
  auto fail = request.Header("x-mock-fail");
  if (!fail) return 0;
  const std::size_t attempt = faults.NextAttempt(std::string(request.Header("x-mock-session").value_or("")));
  std::string_view list = *fail;
  for (std::size_t i = 0;; ++i) {
    const std::size_t comma = list.find(',');
    const std::string_view item = list.substr(0, comma);
    if (i == attempt) {
      auto status = ParseCount(item);
      return status && *status >= 100 && *status <= 599 ? static_cast<int>(*status) : 0;
    }
    if (comma == std::string_view::npos) return 0;
    list.remove_prefix(comma + 1);
  }
}

Response JsonError(int status, std::string_view message) {
  json::object error{{"message", message}, {"type", status >= 500 ? "server_error" : "invalid_request_error"}};
  return Response::Json(status, json::serialize(json::object{{"error", std::move(error)}}));
}

asio::awaitable<Response> HandleCompletion(Request& request, MockOptions options,
                                           std::shared_ptr<FaultState> faults) {
  if (const int status = InjectedStatus(request, *faults); status != 0) {
    Response failure = JsonError(status, "mock-llm: injected failure (x-mock-fail)");
    if (status == 429) failure.SetHeader("Retry-After", "0");
    co_return failure;
  }
  std::optional<std::size_t> cut_after;
  if (auto cut = request.Header("x-mock-cut-after")) cut_after = ParseCount(*cut);
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
      200, "text/event-stream", [frames, cut_after](http::BodyWriter& writer) { return WriteFrames(frames, cut_after, writer); });
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
  auto faults = std::make_shared<FaultState>();
  auto completion = [options, faults](Request& request) {
    return HandleCompletion(request, options, faults);
  };
  router.Add(http::Method::kPost, "/v1/chat/completions", completion);
  router.Add(http::Method::kPost, "/chat/completions", completion);
  router.Add(http::Method::kGet, "/v1/models", HandleModels);
  router.Add(http::Method::kGet, "/models", HandleModels);
  router.Add(http::Method::kGet, "/health", HandleHealth);
  router.Add(http::Method::kPost, "/tools/get_weather", HandleWeather);
}

}  // namespace agentd::mock
