#pragma once
// A loopback http::Server (port 0) serving the mock LLM routes plus per-test routes, a real
// ClientPool, and helpers to run provider calls concurrently with bounded waits.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include "http/client_pool.hpp"
#include "http/event_loops.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "mock/mock_routes.hpp"
#include "observe/metrics.hpp"
#include "runtime/chat_model.hpp"
#include "runtime/providers/http_provider.hpp"

namespace agentd::runtime::providers::testing {

class ProviderServerTest : public ::testing::Test {
 protected:
  void SetUp() override { loops_.Start(); }
  void TearDown() override {
    if (server_) server_->Stop();
    loops_.Stop();
  }
  void StartServer() {
    mock::RegisterMockRoutes(router_, mock::MockOptions{});
    http::ServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.shutdown_grace = std::chrono::milliseconds(200);
    server_ = std::make_unique<http::Server>(options, loops_, router_, metrics_);
    auto port = server_->Start();
    ASSERT_TRUE(port.has_value());
    port_ = *port;
  }
  std::string BaseUrl(std::string_view suffix = "") const {
    return "http://127.0.0.1:" + std::to_string(port_) + std::string(suffix);
  }

  // Options with ~1 ms backoff, full jitter pinned to its ceiling, a sleep that only records
  // what it was asked to wait (no real waits in tests), and metrics_ (model "test-model").
  ProviderOptions FastOptions(std::string base_url) {
    ProviderOptions options;
    options.name = "test-model";
    options.model = "mock";
    options.base_url = std::move(base_url);
    options.api_key = "sk-test";
    options.timeout = std::chrono::seconds(5);
    options.retry.base_backoff = std::chrono::milliseconds(1);
    options.retry.max_backoff = std::chrono::milliseconds(8);
    options.random = [] { return 1.0; };
    options.sleep = [this](std::chrono::milliseconds delay) -> boost::asio::awaitable<Status> {
      sleeps_.push_back(delay);
      co_return Status{};
    };
    options.metrics = &metrics_;
    return options;
  }

  // The value of one agentd_llm_* series of `model` (extra label, if any, appended).
  std::uint64_t LlmCount(std::string_view name, std::string_view key = {},
                         std::string_view value = {}, std::string model = "test-model") {
    return metrics_.GetCounter(name, "", LlmLabels(std::move(model), key, value)).value();
  }
  double LlmGauge(std::string_view name, std::string model = "test-model") {
    return metrics_.GetGauge(name, "", LlmLabels(std::move(model))).value();
  }
  std::uint64_t LlmObservations(std::string_view name, std::string model = "test-model") {
    return metrics_.GetHistogram(name, "", LlmLabels(std::move(model))).count();
  }
  static observe::Labels LlmLabels(std::string model, std::string_view key = {},
                                   std::string_view value = {}) {
    observe::Labels labels = {{"model", std::move(model)}};
    if (!key.empty()) labels.emplace_back(std::string(key), std::string(value));
    return labels;
  }

  http::EventLoops loops_{1};
  http::Router router_;
  observe::Metrics metrics_;
  std::unique_ptr<http::Server> server_;
  std::uint16_t port_ = 0;
  http::ClientPool pool_;
  std::vector<std::chrono::milliseconds> sleeps_;
};

inline ChatRequest UserRequest(std::string text, bool with_weather_tool = false) {
  ChatRequest request;
  request.messages.push_back(ChatMessage{ChatRole::kUser, std::move(text), {}, ""});
  if (with_weather_tool) {
    ToolSpec tool;
    tool.name = "get_weather";
    tool.description = "Weather in a city";
    tool.parameters = boost::json::object{{"type", "object"}};
    request.tools.push_back(std::move(tool));
  }
  return request;
}

inline boost::asio::awaitable<void> Pause(std::chrono::milliseconds delay) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, delay);
  co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
}

}  // namespace agentd::runtime::providers::testing
