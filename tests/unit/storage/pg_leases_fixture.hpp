#pragma once
// Shared by pg_leases_test.cpp (one instance's view of RunLeases) and pg_leases_race_test.cpp
// (several instances racing): a fresh schema per test, a second Storage on the same schema to
// play another agentd instance, a raw connection to read the lease columns the interface does
// not expose, and a runner that drives many coroutines at once on two threads.
//
// Needs a server: ctest runs the binary under tests/harness/with-services --pg, which exports
// AGENTD_TEST_PG_DSN; without it every test is skipped.
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "storage/postgres/pg_pool.hpp"
#include "storage/postgres/postgres_storage.hpp"
#include "storage/storage.hpp"
#include "support/run_co.hpp"

namespace agentd::storage::postgres::leasetest {

using namespace std::chrono_literals;
using agentd::testing::RunCo;
using Kind = TurnClaim::Kind;

inline const char* Dsn() { return std::getenv("AGENTD_TEST_PG_DSN"); }

inline const char* KindName(Kind k) {
  switch (k) {
    case Kind::kGranted: return "granted";
    case Kind::kNotYet: return "not-yet";
    case Kind::kCancelled: return "cancelled";
    case Kind::kLost: return "lost";
  }
  return "?";
}

inline Task<Result<PgResult>> RawQuery(PgPool& pool, std::string sql, Params params) {
  auto lease = co_await pool.Acquire();
  if (!lease) co_return lease.error();
  co_return co_await (*lease)->Query(sql, std::move(params));
}

inline Task<Status> RawExec(PgPool& pool, std::string sql) {
  auto lease = co_await pool.Acquire();
  if (!lease) co_return lease.error();
  co_return co_await (*lease)->Exec(sql);
}

// Runs every task concurrently on one io_context served by `threads` threads and returns their
// results in order; throws if one escaped with an exception or they did not all finish in time.
template <class T>
std::vector<T> RunParallel(std::vector<Task<T>> tasks, int threads = 2,
                           std::chrono::milliseconds timeout = 60s) {
  boost::asio::io_context io(threads);
  std::vector<std::optional<T>> results(tasks.size());
  std::atomic<std::size_t> done{0};
  std::mutex mu;
  std::exception_ptr error;
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    boost::asio::co_spawn(io, std::move(tasks[i]), [&, i](std::exception_ptr e, T value) {
      if (e) {
        std::lock_guard lock(mu);
        error = e;
      } else {
        results[i].emplace(std::move(value));
      }
      ++done;
    });
  }
  std::vector<std::thread> runners;
  for (int t = 0; t < threads; ++t) runners.emplace_back([&] { io.run_for(timeout); });
  for (auto& r : runners) r.join();
  if (error) std::rethrow_exception(error);
  if (done != tasks.size()) throw std::runtime_error("RunParallel: tasks missed the deadline");
  std::vector<T> out;
  out.reserve(results.size());
  for (auto& r : results) out.push_back(std::move(*r));
  return out;
}

class PgLeasesTest : public ::testing::Test {
 public:  // helpers shared with free functions of the tests
  void SetUp() override {
    if (Dsn() == nullptr) {
      GTEST_SKIP() << "AGENTD_TEST_PG_DSN is not set: run under tests/harness/with-services --pg";
    }
    static std::atomic<int> counter{0};
    schema_ = "leases_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
    storage_ = Open();
    ASSERT_NE(storage_, nullptr);
    leases_ = storage_->leases();
    ASSERT_NE(leases_, nullptr) << "the PostgreSQL storage must offer RunLeases";
    PoolOptions raw;
    raw.connect.dsn = Dsn();
    raw.connect.schema = schema_;
    raw.size = 2;
    raw.acquire_timeout = 10s;
    raw_ = std::make_unique<PgPool>(raw);
  }

  // Another Storage on this test's schema: what a second agentd instance would hold.
  std::unique_ptr<Storage> Open() {
    PostgresOptions options;
    options.dsn = Dsn();
    options.schema = schema_;
    options.pool_size = 8;
    // Generous: the concurrency tests queue many callers behind one thread's row lock.
    options.acquire_timeout = 30s;
    auto storage = MakePostgresStorage(options);
    if (!storage) {
      ADD_FAILURE() << "MakePostgresStorage: " << storage.error().message;
      return nullptr;
    }
    return std::move(*storage);
  }

  void CreateThread(const std::string& thread_id, const std::string& tenant = "") {
    model::Thread t;
    t.tenant = tenant;
    t.thread_id = thread_id;
    auto r = RunCo(storage_->threads().Create(t, IfExists::kRaise), 10s);
    ASSERT_TRUE(r) << r.error().message;
  }

  static model::Run NewRun(const std::string& run_id, const std::string& thread_id,
                           const std::string& tenant = "") {
    model::Run run;
    run.tenant = tenant;
    run.run_id = run_id;
    run.thread_id = thread_id;
    run.assistant_id = "asst";
    run.multitask_strategy = "enqueue";
    return run;
  }

  Result<EnqueueResult> Enqueue(const model::Run& run, const std::string& strategy,
                                const std::string& owner, std::chrono::milliseconds lease = 60s,
                                RunLeases* leases = nullptr) {
    RunLeases& l = leases != nullptr ? *leases : *leases_;
    return RunCo(l.Enqueue(run, strategy, owner, lease), 10s);
  }
  // Enqueues on an idle thread and expects it to succeed (ADD_FAILURE otherwise).
  void MustEnqueue(const model::Run& run, const std::string& owner,
                   std::chrono::milliseconds lease = 60s, RunLeases* leases = nullptr) {
    auto r = Enqueue(run, "enqueue", owner, lease, leases);
    if (!r) ADD_FAILURE() << "Enqueue " << run.run_id << ": " << r.error().message;
  }
  TurnClaim Claim(const std::string& run_id, const std::string& owner) {
    auto r = RunCo(leases_->ClaimTurn(run_id, owner), 10s);
    if (!r) {
      ADD_FAILURE() << "ClaimTurn " << run_id << ": " << r.error().message;
      return TurnClaim{};
    }
    return *r;
  }
  RunLeases::Finished Finish(const std::string& run_id, const std::string& owner,
                             model::RunStatus status = model::RunStatus::kSuccess) {
    // Finish takes the run's tenant and thread, as the scheduler knows them.
    std::string tenant, thread_id;
    auto row = RunCo(RawQuery(*raw_, "SELECT tenant, thread_id FROM runs WHERE run_id = $1",
                              Params{run_id}),
                     10s);
    if (row && row->rows() == 1) {
      tenant = row->Text(0, 0);
      thread_id = row->Text(0, 1);
    }
    RunLeases::Ending ending;
    ending.status = status;
    auto r = RunCo(leases_->Finish(tenant, thread_id, run_id, owner, std::move(ending)), 10s);
    if (!r) {
      ADD_FAILURE() << "Finish " << run_id << ": " << r.error().message;
      return {};
    }
    return *r;
  }
  std::vector<LeaseState> Renew(const std::string& owner, std::vector<std::string> run_ids,
                                std::chrono::milliseconds lease = 60s) {
    auto r = RunCo(leases_->Renew(owner, std::move(run_ids), lease), 10s);
    if (!r) {
      ADD_FAILURE() << "Renew: " << r.error().message;
      return {};
    }
    return *r;
  }
  std::vector<std::string> Adopt(const std::string& owner, std::int64_t limit = 100,
                                 std::chrono::milliseconds lease = 60s) {
    auto r = RunCo(leases_->AdoptExpired(owner, lease, limit), 10s);
    std::vector<std::string> ids;
    if (!r) {
      ADD_FAILURE() << "AdoptExpired: " << r.error().message;
      return ids;
    }
    for (const auto& run : *r) ids.push_back(run.run_id);
    return ids;
  }

  // What the interface does not show: the row's status, owner and cancel request.
  struct Row {
    std::string status;
    std::optional<std::string> owner;
    std::optional<std::string> cancel_action;
  };
  std::optional<Row> Peek(const std::string& run_id) {
    auto r = RunCo(RawQuery(*raw_,
                            "SELECT status, owner, cancel_action FROM runs WHERE run_id = $1",
                            Params{run_id}),
                   10s);
    if (!r) {
      ADD_FAILURE() << "Peek: " << r.error().message;
      return std::nullopt;
    }
    if (r->rows() == 0) return std::nullopt;
    return Row{std::string(r->Text(0, 0)), r->OptText(0, 1), r->OptText(0, 2)};
  }
  std::int64_t CountRuns() {
    auto r = RunCo(RawQuery(*raw_, "SELECT count(*) FROM runs", {}), 10s);
    if (!r) {
      ADD_FAILURE() << "CountRuns: " << r.error().message;
      return -1;
    }
    return r->Int(0, 0);
  }
  // Polls the database's clock until every active lease `owner` holds has passed (bounded).
  bool WaitLeasesExpired(const std::string& owner, std::chrono::milliseconds limit = 5s) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      auto r = RunCo(RawQuery(*raw_,
                              "SELECT NOT EXISTS (SELECT 1 FROM runs WHERE owner = $1 AND status "
                              "IN ('pending', 'running') AND "
                              "lease_expires_at >= clock_timestamp())",
                              Params{owner}),
                     10s);
      if (!r) {
        ADD_FAILURE() << "WaitLeasesExpired: " << r.error().message;
        return false;
      }
      if (r->Text(0, 0) == "t") return true;
      std::this_thread::sleep_for(1ms);
    }
    return false;
  }

  std::string schema_;
  std::unique_ptr<Storage> storage_;
  RunLeases* leases_ = nullptr;
  std::unique_ptr<PgPool> raw_;
};

}  // namespace agentd::storage::postgres::leasetest
