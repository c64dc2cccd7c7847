#pragma once
// The contract every PubSub backend (bus/pubsub.hpp) passes, value-parameterised like
// BusContract: instantiated in bus_contract_inproc_test.cpp (unit) and
// bus_contract_redis_test.cpp (integration). Handlers run on the fixture's io_context thread;
// the test thread publishes and waits (bounded) on a Recorder.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "bus/pubsub.hpp"

namespace agentd::bus::contract {

struct PubSubBackend {
  std::string name;
  // A fresh PubSub on `executor`; nullptr = backend unavailable here (the test is skipped).
  std::function<std::unique_ptr<PubSub>(boost::asio::any_io_executor executor)> make;
};

// Collects what a handler received; waits are bounded.
class Recorder {
 public:
  PubSub::Handler Handler() {
    return [this](std::string_view channel, std::string_view payload) {
      std::lock_guard lock(mu_);
      got_.push_back(std::string(channel) + "=" + std::string(payload));
      cv_.notify_all();
    };
  }
  // True once at least `n` messages arrived (within `timeout`).
  bool WaitFor(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return got_.size() >= n; });
  }
  std::vector<std::string> got() const {
    std::lock_guard lock(mu_);
    return got_;
  }
  void Clear() {
    std::lock_guard lock(mu_);
    got_.clear();
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> got_;
};

class PubSubContract : public ::testing::TestWithParam<PubSubBackend> {
 protected:
  void SetUp() override {
    thread_ = std::thread([this] { io_.run(); });
    pubsub_ = GetParam().make(io_.get_executor());
    if (!pubsub_) GTEST_SKIP() << GetParam().name << " backend not available";
  }
  void TearDown() override {
    pubsub_.reset();
    work_.reset();
    thread_.join();
  }

  PubSub& pubsub() { return *pubsub_; }
  Status Publish(const std::string& channel, const std::string& payload);
  // Channel names unique per test and process, so a shared Redis never mixes tests.
  std::string Channel(const std::string& tag = "c");
  // Subscriptions may take a round trip to become active (Redis): publishes a probe on
  // `channel` until `recorder` saw one, then clears it. False when none arrived in time.
  bool AwaitListening(const std::string& channel, Recorder& recorder);

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_ =
      boost::asio::make_work_guard(io_);
  std::thread thread_;
  std::unique_ptr<PubSub> pubsub_;
};

}  // namespace agentd::bus::contract
