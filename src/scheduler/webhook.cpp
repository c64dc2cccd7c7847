// Webhooks (agent-protocol.md 5.9): POST the final Run to the client's URL, with retries and
// backoff. Failures are logged and never touch the run.
#include <chrono>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "common/json.hpp"
#include "common/time.hpp"
#include "scheduler/run_json.hpp"
#include "scheduler/run_manager.hpp"
#include "observe/log.hpp"

namespace agentd::scheduler {

namespace asio = boost::asio;
namespace json = boost::json;

asio::awaitable<void> RunManager::SendWebhook(std::shared_ptr<RunHandle> h, model::Run run,
                                              json::value values, std::string error,
                                              TimestampMs started, TimestampMs ended) {
  std::string url = *h->spec_.webhook;
  if (!url.empty() && url.front() == '/') {
    std::lock_guard lock(mutex_);
    url = self_base_url_ + url;
  }
  if (webhooks_ == nullptr) {
    spdlog::warn("{}: webhook {} dropped: no HTTP client", observe::RunLog{run.run_id}, url);
    co_return;
  }
  json::object body = RunJson(run);
  body["run_started_at"] = FormatIso8601(started);
  body["run_ended_at"] = FormatIso8601(ended);
  body["webhook_sent_at"] = FormatIso8601(NowMs());
  if (!values.is_null()) body["values"] = std::move(values);
  if (!error.empty()) body["error"] = error;
  std::string payload = ToJson(body);

  auto backoff = options_.webhook_backoff;
  for (int attempt = 1; attempt <= options_.webhook_attempts; ++attempt) {
    runtime::HttpCall call;
    call.method = "POST";
    call.url = url;
    call.headers = {{"content-type", "application/json"}};
    call.body = payload;
    call.first_byte_timeout = std::chrono::seconds(30);
    auto reply = co_await webhooks_->Send(std::move(call), [](std::string_view) { return Status{}; });
    if (reply && reply->status >= 200 && reply->status < 300) co_return;
    spdlog::warn("{}: webhook {} attempt {} failed: {}", observe::RunLog{run.run_id}, url, attempt,
                 reply ? "HTTP " + std::to_string(reply->status) : reply.error().message);
    if (attempt == options_.webhook_attempts) break;
    asio::steady_timer timer(co_await asio::this_coro::executor, backoff);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    backoff *= 2;
  }
}

}  // namespace agentd::scheduler
