#pragma once
// A Server on port 0 over two event loops, with routes added per test before StartServer().

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>
#include <memory>

#include <gtest/gtest.h>

#include "http/event_loops.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "observe/metrics.hpp"

namespace agentd::http::testing {

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override { loops_.Start(); }
  void TearDown() override {
    if (server_) server_->Stop();
    loops_.Stop();
  }
  void StartServer(ServerOptions options = {}) {
    options.host = "127.0.0.1";
    options.port = 0;
    server_ = std::make_unique<Server>(options, loops_, router_, metrics_);
    auto port = server_->Start();
    ASSERT_TRUE(port.has_value());
    port_ = *port;
  }

  // Polls until `pred` holds or `limit` passes: for effects the server records after the
  // client already has its answer (metrics are counted once the last byte is written).
  static bool WaitFor(const std::function<bool()>& pred,
                      std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return true;
  }

  EventLoops loops_{2};
  Router router_;
  observe::Metrics metrics_;
  std::unique_ptr<Server> server_;
  std::uint16_t port_ = 0;
};

}  // namespace agentd::http::testing
