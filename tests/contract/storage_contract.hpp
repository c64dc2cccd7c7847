#pragma once
// The contract every Storage backend passes. A value-parameterised suite: instantiate it with
// a StorageBackend (a name and a factory) per backend, as storage_contract_test.cpp does for
// memory and SQLite. Each test gets a fresh, empty storage driven by a fake clock it owns, so
// timestamps and TTL expiry are deterministic and nothing sleeps.

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "common/error.hpp"
#include "storage/clock.hpp"
#include "storage/storage.hpp"
#include "support/run_co.hpp"

namespace agentd::storage::contract {

struct StorageBackend {
  std::string name;
  // A fresh, empty storage reading time from `clock`.
  std::function<std::unique_ptr<Storage>(Clock clock)> make;
};

class StorageContract : public ::testing::TestWithParam<StorageBackend> {
 protected:
  static constexpr TimestampMs kStart = 1'700'000'000'000;

  void SetUp() override {
    storage_ = GetParam().make([this] { return now_.load(); });
    ASSERT_NE(storage_, nullptr);
  }

  Storage& s() { return *storage_; }
  TimestampMs Now() const { return now_.load(); }
  void Advance(TimestampMs ms) { now_ += ms; }

  template <class T>
  T Run(Task<T> task) {
    return agentd::testing::RunCo(std::move(task), std::chrono::seconds(10));
  }
  // The value of a result that must have succeeded (the test fails otherwise).
  template <class T>
  T Ok(Task<Result<T>> task) {
    Result<T> r = Run(std::move(task));
    if (!r) throw std::runtime_error("expected success, got: " + r.error().message);
    return std::move(*r);
  }
  void Ok(Task<Status> task) {
    Status r = Run(std::move(task));
    if (!r) throw std::runtime_error("expected success, got: " + r.error().message);
  }
  template <class T>
  Errc Fails(Task<Result<T>> task) {
    Result<T> r = Run(std::move(task));
    if (r) throw std::runtime_error("expected an error, got success");
    return r.error().code;
  }
  Errc Fails(Task<Status> task) {
    Status r = Run(std::move(task));
    if (r) throw std::runtime_error("expected an error, got success");
    return r.error().code;
  }

  static json::object Obj(std::string_view text) { return json::parse(text).as_object(); }
  static json::value Val(std::string_view text) { return json::parse(text); }

  static model::Assistant NewAssistant(std::string id, std::string graph_id = "agent",
                                       std::string name = "Untitled",
                                       std::string_view metadata = "{}",
                                       std::string tenant = "") {
    model::Assistant a;
    a.tenant = std::move(tenant);
    a.assistant_id = std::move(id);
    a.graph_id = std::move(graph_id);
    a.name = std::move(name);
    a.metadata = Obj(metadata);
    return a;
  }
  static model::Thread NewThread(std::string id, std::string_view metadata = "{}",
                                 std::string tenant = "") {
    model::Thread t;
    t.tenant = std::move(tenant);
    t.thread_id = std::move(id);
    t.metadata = Obj(metadata);
    return t;
  }
  static model::Run NewRun(std::string id, std::string thread_id,
                           std::string assistant_id = "asst", std::string tenant = "") {
    model::Run r;
    r.tenant = std::move(tenant);
    r.run_id = std::move(id);
    r.thread_id = std::move(thread_id);
    r.assistant_id = std::move(assistant_id);
    return r;
  }
  static model::Checkpoint NewCheckpoint(std::string thread_id, std::string id,
                                         std::optional<std::string> parent,
                                         std::vector<std::string> messages = {},
                                         std::string_view metadata = "{}",
                                         std::string ns = "") {
    model::Checkpoint c;
    c.thread_id = std::move(thread_id);
    c.checkpoint_ns = std::move(ns);
    c.checkpoint_id = std::move(id);
    c.parent_checkpoint_id = std::move(parent);
    c.metadata = Obj(metadata);
    for (auto& m : messages) c.appended_messages.push_back(json::value(m));
    c.message_count = static_cast<std::int64_t>(c.appended_messages.size());
    return c;
  }
  static model::StoreItem NewItem(std::vector<std::string> ns, std::string key,
                                  std::string_view value = "{}",
                                  std::optional<double> ttl_minutes = std::nullopt,
                                  std::string tenant = "") {
    model::StoreItem i;
    i.tenant = std::move(tenant);
    i.namespace_path = std::move(ns);
    i.key = std::move(key);
    i.value = Obj(value);
    i.ttl_minutes = ttl_minutes;
    return i;
  }

 private:
  std::atomic<TimestampMs> now_{kStart};
  std::unique_ptr<Storage> storage_;  // after now_: dies first, so its clock never dangles
};

// Prints the backend's name (the default printer would dump the struct's raw bytes).
inline void PrintTo(const StorageBackend& backend, std::ostream* os) { *os << backend.name; }

// Test names for INSTANTIATE_TEST_SUITE_P.
inline std::string BackendName(const ::testing::TestParamInfo<StorageBackend>& info) {
  return info.param.name;
}

}  // namespace agentd::storage::contract
