#include "runtime/tools.hpp"

#include <algorithm>
#include <chrono>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include "common/json.hpp"
#include "mock/mock_model.hpp"

namespace agentd::runtime {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

ToolOutcome RunDemo(std::string_view name, const json::value& args) {
  if (name == mock::kDemoToolName) {
    const auto* city = args.is_object() ? args.get_object().if_contains("city") : nullptr;
    if (city == nullptr || !city->is_string()) {
      return {"Error: get_weather needs a string argument \"city\"", false};
    }
    return {mock::GetWeather(city->get_string()), true};
  }
  return {fmt::format("Error: unknown demo tool \"{}\"", name), false};
}

// The body of a reply as the tool message content: a JSON string reply becomes its text,
// anything else (plain text, other JSON) is kept as sent.
std::string ContentOf(const std::string& body) {
  if (auto parsed = ParseJson(body); parsed && parsed->is_string()) {
    return std::string(parsed->get_string());
  }
  return body;
}

asio::awaitable<ToolOutcome> RunHttp(const config::ToolSpec& spec, const json::value& args,
                                     HttpTransport& http) {
  const std::string body = ToJson(args.is_null() ? json::value(json::object{}) : args);
  const int attempts = 1 + std::max(0, spec.retries);
  std::string last_error;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    if (attempt > 1) {
      // Short, growing pause between attempts; a timer so cancellation cuts it.
      asio::steady_timer timer(co_await asio::this_coro::executor);
      timer.expires_after(std::chrono::milliseconds(50 * (attempt - 1)));
      auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return ToolOutcome{"Error: tool call cancelled", false};
    }
    HttpCall call;
    call.url = spec.url;
    call.body = body;
    call.headers = {{"content-type", "application/json"}, {"accept", "*/*"}};
    call.connect_timeout = std::min(spec.timeout, std::chrono::milliseconds(10'000));
    call.first_byte_timeout = spec.timeout;
    call.idle_timeout = spec.timeout;
    call.deadline = std::chrono::steady_clock::now() + spec.timeout;  // the attempt, whole
    std::string reply_body;
    auto reply = co_await http.Send(std::move(call), [&reply_body](std::string_view bytes) -> Status {
      reply_body.append(bytes);
      return {};
    });
    if (!reply) {
      const Error& error = reply.error();
      if (error.code == Errc::kTimeout) {
        co_return ToolOutcome{fmt::format("Error: tool {} timed out after {} ms (timeout_ms; "
                                          "not retried): {}",
                                          spec.name, spec.timeout.count(), error.message),
                              false};
      }
      last_error = fmt::format("Error: tool {} failed: {}", spec.name, error.message);
      if (error.code == Errc::kUnavailable) continue;
      co_return ToolOutcome{last_error, false};
    }
    if (reply->status >= 500) {
      last_error = fmt::format("Error: tool {} answered HTTP {}: {}", spec.name, reply->status,
                               reply_body.substr(0, 500));
      continue;
    }
    if (reply->status >= 400) {
      co_return ToolOutcome{fmt::format("Error: tool {} answered HTTP {}: {}", spec.name,
                                        reply->status, reply_body.substr(0, 500)),
                            false};
    }
    co_return ToolOutcome{ContentOf(reply_body), true};
  }
  if (attempts > 1) last_error += fmt::format(" (gave up after {} attempts)", attempts);
  co_return ToolOutcome{last_error, false};
}

}  // namespace

asio::awaitable<ToolOutcome> InvokeTool(const config::ToolSpec& spec, json::value args,
                                        HttpTransport& http) {
  if (spec.kind == "demo") co_return RunDemo(spec.name, args);
  if (spec.kind == "http") co_return co_await RunHttp(spec, args, http);
  co_return ToolOutcome{
      fmt::format("Error: tool {} has unknown kind \"{}\"", spec.name, spec.kind), false};
}

}  // namespace agentd::runtime
