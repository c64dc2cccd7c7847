#include "runtime/function_node.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include "common/json.hpp"

namespace agentd::runtime {

namespace asio = boost::asio;
namespace json = boost::json;

Result<FunctionAnswer> ParseFunctionAnswer(std::string_view body) {
  auto parsed = ParseJson(body);
  if (!parsed) return MakeError(Errc::kInvalidArgument, "the answer is not JSON");
  if (!parsed->is_object()) {
    return MakeError(Errc::kInvalidArgument, "the answer must be a JSON object {update?, goto?, interrupt?}");
  }
  FunctionAnswer answer;
  for (const auto& [key, value] : parsed->get_object()) {
    if (key == "update") {
      if (value.is_null()) continue;
      if (!value.is_object()) return MakeError(Errc::kInvalidArgument, "`update` must be an object of channels");
      answer.update = value.get_object();
    } else if (key == "goto") {
      if (value.is_null()) continue;
      bool ok = value.is_string();
      if (value.is_array()) {
        ok = std::all_of(value.get_array().begin(), value.get_array().end(),
                         [](const json::value& v) { return v.is_string(); });
      }
      if (!ok) return MakeError(Errc::kInvalidArgument, "`goto` must be a node name or a list of names");
      answer.go = value;
    } else if (key == "interrupt") {
      answer.interrupt = value;
    } else {
      return MakeError(Errc::kInvalidArgument,
                       fmt::format("unknown key \"{}\" in the answer (expected update, goto, interrupt)",
                                   std::string_view(key)));
    }
  }
  return answer;
}

asio::awaitable<Result<FunctionAnswer>> CallFunctionNode(const graph::NodeDef& node, FunctionCall call,
                                                         HttpTransport& http) {
  json::object body{{"graph_id", call.graph_id},      {"node", node.name},
                    {"thread_id", call.thread_id},    {"run_id", call.run_id},
                    {"state", std::move(call.state)}, {"config", std::move(call.config)},
                    {"context", std::move(call.context)}};
  if (call.resume) body["resume"] = *call.resume;
  const std::string text = ToJson(body);
  const std::chrono::milliseconds timeout(node.timeout_ms);
  auto fail = [&](std::string problem, Errc code = Errc::kInvalidArgument) {
    return MakeError(code, fmt::format("graph {} node {}: POST {}: {}", call.graph_id, node.name, node.url, problem));
  };
  std::string last_error;
  Errc last_code = Errc::kUnavailable;
  const int attempts = 1 + std::max(0, node.retries);
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    if (attempt > 1) {
      asio::steady_timer timer(co_await asio::this_coro::executor);
      timer.expires_after(std::chrono::milliseconds(50 * (attempt - 1)));
      auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return MakeError(Errc::kCancelled, "run cancelled");
    }
    HttpCall request;
    request.url = node.url;
    request.body = text;
    request.headers = {{"content-type", "application/json"}, {"accept", "application/json"}};
    for (const auto& [name, value] : node.headers) {
      if (value.env.empty()) {
        request.headers.emplace_back(name, value.literal);
      } else {
        const char* env = std::getenv(value.env.c_str());
        request.headers.emplace_back(name, env != nullptr ? env : "");
      }
    }
    request.connect_timeout = std::min(timeout, std::chrono::milliseconds(10'000));
    request.first_byte_timeout = timeout;
    request.idle_timeout = timeout;
    std::string reply_body;
    auto reply = co_await http.Send(std::move(request), [&reply_body](std::string_view bytes) -> Status {
      if (reply_body.size() + bytes.size() > kMaxFunctionReplyBytes) {
        return MakeError(Errc::kResourceExhausted, "answer larger than 1 MiB");
      }
      reply_body.append(bytes);
      return {};
    });
    if (!reply) {
      if (reply.error().code == Errc::kCancelled) co_return reply.error();
      last_error = reply.error().message;
      last_code = reply.error().code;
      if (reply.error().code == Errc::kUnavailable) continue;  // connect/IO: retried
      co_return fail(last_error, last_code);
    }
    if (reply->status >= 500) {
      last_error = fmt::format("HTTP {}: {}", reply->status, reply_body.substr(0, 300));
      last_code = Errc::kUnavailable;
      continue;
    }
    if (reply->status < 200 || reply->status >= 300) {
      co_return fail(fmt::format("HTTP {}: {}", reply->status, reply_body.substr(0, 300)));
    }
    auto answer = ParseFunctionAnswer(reply_body);
    if (!answer) co_return fail(answer.error().message);
    co_return answer;
  }
  co_return fail(fmt::format("{} (after {} attempts)", last_error, attempts), last_code);
}

}  // namespace agentd::runtime
