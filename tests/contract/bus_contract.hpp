#pragma once
// The contract every EventBus backend passes. A value-parameterised suite: instantiate it with
// a BusBackend (a name and a factory) per backend, as bus_contract_inproc_test.cpp (unit) and
// bus_contract_redis_test.cpp (integration) do. The bus's own executor is an io_context on a
// background thread owned by the fixture; subscribers run in RunCo on the test thread (and on
// extra threads in the fan-out test), so every backend is exercised across executors.

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "bus/event_log.hpp"
#include "support/run_co.hpp"

namespace agentd::bus::contract {

struct BusBackend {
  std::string name;
  // A fresh bus on `executor`; nullptr = backend unavailable here (the test is skipped).
  std::function<std::unique_ptr<EventBus>(boost::asio::any_io_executor executor)> make;
  // Two buses made by `make` share one store (Redis: two instances of a cluster). Tests of
  // cross-instance behaviour then use separate buses; otherwise they use the fixture's one.
  bool shared_store = false;
  // gtest prints the parameter of a failed test by this.
  friend void PrintTo(const BusBackend& backend, std::ostream* os) { *os << backend.name; }
};

class BusContract : public ::testing::TestWithParam<BusBackend> {
 protected:
  void SetUp() override {
    thread_ = std::thread([this] { io_.run(); });
    bus_ = GetParam().make(io_.get_executor());
    if (!bus_) GTEST_SKIP() << GetParam().name << " backend not available";
  }
  void TearDown() override {
    bus_.reset();
    work_.reset();
    thread_.join();
  }

  EventBus& bus() { return *bus_; }
  // Another instance on the same store when the backend has one (shared_store), else nullptr:
  // callers then use bus() for every role.
  std::unique_ptr<EventBus> MakeInstance() {
    return GetParam().shared_store ? GetParam().make(io_.get_executor()) : nullptr;
  }
  // Create / Find awaited on a fresh io_context of the test thread.
  Result<std::shared_ptr<RunEventLog>> CreateLog(const std::string& id, EventLogOptions o = {}) {
    return CreateLogOn(bus(), id, o);
  }
  static Result<std::shared_ptr<RunEventLog>> CreateLogOn(EventBus& on, const std::string& id,
                                                          EventLogOptions o = {}) {
    return agentd::testing::RunCo(on.Create(id, o));
  }
  std::shared_ptr<RunEventLog> FindLog(const std::string& id) { return FindLogOn(bus(), id); }
  static std::shared_ptr<RunEventLog> FindLogOn(EventBus& on, const std::string& id) {
    return agentd::testing::RunCo(on.Find(id));
  }
  // Run ids unique per test and process, so a shared Redis never mixes tests.
  std::string RunId(const std::string& tag = "r") {
    static std::atomic<int> counter{0};
    return tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" +
           std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
  }
  std::shared_ptr<RunEventLog> NewLog(EventLogOptions options = {}) {
    auto log = agentd::testing::RunCo(bus().Create(RunId(), options));
    if (!log) throw std::runtime_error("Create failed: " + log.error().message);
    return *log;
  }

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_ =
      boost::asio::make_work_guard(io_);
  std::thread thread_;
  std::unique_ptr<EventBus> bus_;
};

}  // namespace agentd::bus::contract
