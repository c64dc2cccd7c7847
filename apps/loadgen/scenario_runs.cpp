// wait and stream: many virtual users, each one connection, sharing a run budget.

#include <sys/resource.h>

#include <chrono>
#include <memory>
#include <string>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>

#include "loadgen/scenarios.hpp"

namespace agentd::loadgen {

namespace asio = boost::asio;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

namespace {

std::uint64_t Us(Clock::duration d) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  return us < 0 ? 0 : static_cast<std::uint64_t>(us);
}

// State shared by the users of one process; one thread, so no atomics.
struct Shared {
  const Options& options;
  Report report;
  int budget = 0;
  int claimed = 0;
  int users = 1;
  Clock::time_point start;
  Clock::time_point deadline;
  bool Claim() {
    if (claimed >= budget || Clock::now() >= deadline) return false;
    ++claimed;
    report.Count("started");
    return true;
  }
};

// With --rampup-s, user i starts at rampup * i / users instead of all at once, so that a
// concurrency level is reached gradually (a burst measures the start-up queue instead).
asio::awaitable<void> WaitForTurn(Shared& sh, int local_user) {
  if (sh.options.rampup_s <= 0) co_return;
  const auto offset = std::chrono::duration<double>(sh.options.rampup_s * local_user / sh.users);
  asio::steady_timer timer(co_await asio::this_coro::executor,
                           sh.start + std::chrono::duration_cast<Clock::duration>(offset));
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

// Creates a thread on `conn`; empty string on failure (counted).
asio::awaitable<std::string> CreateThread(Connection& conn, Shared& sh) {
  auto t0 = Clock::now();
  auto reply = co_await conn.Request("POST", "/threads", "{}");
  if (!reply) {
    sh.report.Fail("thread_" + reply.error().message);
    co_return std::string();
  }
  if (reply->status != 200) {
    sh.report.Fail(fmt::format("thread_http_{}", reply->status));
    co_return std::string();
  }
  boost::system::error_code ec;
  auto v = json::parse(reply->body, ec);
  const json::value* id = ec || !v.is_object() ? nullptr : v.as_object().if_contains("thread_id");
  if (id == nullptr || !id->is_string()) {
    sh.report.Fail("thread_body");
    co_return std::string();
  }
  sh.report.latencies["create_thread"].Record(Us(Clock::now() - t0));
  co_return std::string(id->as_string());
}

asio::awaitable<void> WaitUser(Shared& sh, int global_user) {
  const auto& o = sh.options;
  Connection conn(co_await asio::this_coro::executor, TargetFor(o, global_user), SourceAddress(o, global_user),
                  o.timeout);
  const std::string body = InputBody(o, o.delay_ms > 0, "");
  co_await WaitForTurn(sh, global_user / std::max(1, o.procs));
  while (sh.Claim()) {
    auto t0 = Clock::now();
    std::string path = "/runs/wait";
    if (!o.stateless) {
      auto thread = co_await CreateThread(conn, sh);
      if (thread.empty()) continue;
      path = "/threads/" + thread + "/runs/wait";
    }
    auto t1 = Clock::now();
    auto reply = co_await conn.Request("POST", path, body);
    if (!reply) {
      sh.report.Fail(reply.error().message);
      continue;
    }
    if (reply->status != 200) {
      sh.report.Fail(fmt::format("http_{}", reply->status));
      continue;
    }
    boost::system::error_code ec;
    auto v = json::parse(reply->body, ec);
    if (ec || !v.is_object()) {
      sh.report.Fail("body");
      continue;
    }
    if (v.as_object().contains("__error__")) {
      sh.report.Fail("run_error");
      continue;
    }
    auto t2 = Clock::now();
    sh.report.Count("completed");
    sh.report.latencies["wait"].Record(Us(t2 - t1));
    sh.report.latencies["thread_and_wait"].Record(Us(t2 - t0));
  }
}

asio::awaitable<void> StreamUser(Shared& sh, int global_user) {
  const auto& o = sh.options;
  Connection conn(co_await asio::this_coro::executor, TargetFor(o, global_user), SourceAddress(o, global_user),
                  o.timeout);
  json::array modes;
  for (const auto& m : o.stream_modes) modes.emplace_back(m);
  const std::string body = InputBody(o, o.delay_ms > 0, ",\"stream_mode\":" + json::serialize(modes));
  co_await WaitForTurn(sh, global_user / std::max(1, o.procs));
  while (sh.Claim()) {
    std::string path = "/runs/stream";
    if (!o.stateless) {
      auto thread = co_await CreateThread(conn, sh);
      if (thread.empty()) continue;
      path = "/threads/" + thread + "/runs/stream";
    }
    const auto t0 = Clock::now();
    bool first_event = true, first_token = true, saw_metadata = false, saw_error = false;
    std::uint64_t events = 0;
    auto on_event = [&](std::string_view name, std::string_view) {
      auto now = Clock::now();
      ++events;
      if (first_event) {
        sh.report.latencies["first_event"].Record(Us(now - t0));
        first_event = false;
      }
      if (name == "metadata") saw_metadata = true;
      if (name == "error") saw_error = true;
      if (first_token && name.rfind("messages", 0) == 0) {
        sh.report.latencies["first_token"].Record(Us(now - t0));
        first_token = false;
      }
    };
    auto reply = co_await conn.Stream("POST", path, body, nullptr, on_event);
    const auto t1 = Clock::now();
    sh.report.Count("events", events);
    if (!reply) {
      sh.report.Fail(reply.error().message);
      continue;
    }
    if (reply->status != 200) {
      sh.report.Fail(fmt::format("http_{}", reply->status));
      continue;
    }
    if (saw_error) {
      sh.report.Fail("sse_error_event");
      continue;
    }
    if (!saw_metadata) {
      sh.report.Fail("no_metadata");
      continue;
    }
    sh.report.Count("completed");
    const auto duration = Us(t1 - t0);
    const std::uint64_t model = static_cast<std::uint64_t>(o.delay_ms) * 1000;
    sh.report.latencies["duration"].Record(duration);
    sh.report.latencies["overhead"].Record(duration > model ? duration - model : 0);
  }
}

Report RunUsers(const Options& o, int proc, int procs, int default_runs,
                asio::awaitable<void> (*user)(Shared&, int)) {
  asio::io_context io(1);
  Shared sh{o, {}, 0, 0, {}};
  const int total = o.runs > 0 ? o.runs : default_runs;
  sh.budget = Share(total, proc, procs);
  const int users = std::max(1, Share(o.concurrency, proc, procs));
  const auto start = Clock::now();
  sh.users = users;
  sh.start = start;
  sh.deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.max_seconds));
  for (int i = 0; i < users; ++i) {
    asio::co_spawn(io, user(sh, proc + i * procs), [&sh](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        fmt::print(stderr, "loadgen: user failed: {}\n", ex.what());
      }
      sh.report.Fail("exception");
    });
  }
  io.run();
  sh.report.elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();
  sh.report.Count("users", static_cast<std::uint64_t>(users));
  // The client shares the cores with the server: its own CPU says whether it was the limit.
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  auto ms = [](const timeval& t) { return static_cast<std::uint64_t>(t.tv_sec) * 1000 + static_cast<std::uint64_t>(t.tv_usec) / 1000; };
  sh.report.Count("client_cpu_ms", ms(usage.ru_utime) + ms(usage.ru_stime));
  return std::move(sh.report);
}

}  // namespace

Report RunWaitShare(const Options& o, int proc, int procs) { return RunUsers(o, proc, procs, 200, &WaitUser); }

Report RunStreamShare(const Options& o, int proc, int procs) {
  return RunUsers(o, proc, procs, o.concurrency, &StreamUser);
}

}  // namespace agentd::loadgen
