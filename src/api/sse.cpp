#include "api/sse.hpp"

#include <utility>
#include <variant>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/object.hpp>
#include <spdlog/spdlog.h>

#include "common/json.hpp"

namespace agentd::api {

namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;

namespace {

// True when the heartbeat interval elapsed. The heartbeat branch of `Next() || Sleep()` is
// cancelled after almost every event: as_tuple makes that a plain `false`, not a thrown
// operation_aborted (an exception per event was ~3% of the server's CPU in a 1,000-stream
// burst; docs/performance.md).
asio::awaitable<bool> Sleep(std::chrono::milliseconds d) {
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  co_return !ec;
}

}  // namespace

asio::awaitable<void> ServeSse(std::shared_ptr<bus::Subscription> subscription,
                               http::BodyWriter& out, std::function<void()> on_disconnect,
                               std::chrono::milliseconds heartbeat) {
  for (;;) {
    auto next = co_await (subscription->Next() || Sleep(heartbeat));
    if (next.index() == 1) {
      if (!std::get<1>(next)) {
        // Only a cancellation from outside completes the heartbeat first without elapsing:
        // end as a cancelled Next() does.
        co_await out.Write(SseErrorFrame("StreamError", "event stream wait cancelled"));
        co_return;
      }
      if (!co_await out.Write(std::string_view(": hb\n"))) break;
      continue;
    }
    auto& frames = std::get<0>(next);
    if (!frames) {
      // Cut for falling behind (or cancelled): say why, then end the body.
      co_await out.Write(SseErrorFrame("StreamError", frames.error().message));
      co_return;
    }
    if (frames->empty()) co_return;  // the run ended and everything was delivered
    bool ok = true;
    if (frames->size() == 1) {
      ok = co_await out.Write(frames->front());
    } else {
      std::string batch;
      for (const auto& f : *frames) batch += *f;
      ok = co_await out.Write(std::string_view(batch));
    }
    if (!ok) break;
  }
  if (on_disconnect) on_disconnect();
}

std::string SseErrorFrame(std::string_view error, std::string_view message) {
  boost::json::object data{{"error", error}, {"message", message}};
  return "event: error\ndata: " + ToJson(data) + "\n\n";
}

std::string SseValuesFrame(const boost::json::value& values) {
  return "event: values\ndata: " + ToJson(values) + "\n\n";
}

std::string SseQueueFrame(std::size_t position, std::int64_t estimated_wait_ms) {
  boost::json::object data{{"position", position}, {"estimated_wait_ms", estimated_wait_ms}};
  return "event: queue\ndata: " + ToJson(data) + "\n\n";
}

void SetSseHeaders(http::Response& response) {
  response.SetHeader("Cache-Control", "no-cache");
  response.SetHeader("X-Accel-Buffering", "no");
}

}  // namespace agentd::api
