// history (one thread, K sequential turns) and connections (N idle join streams).

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>

#include "loadgen/proc_sampler.hpp"
#include "loadgen/scenarios.hpp"

namespace agentd::loadgen {

namespace asio = boost::asio;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

namespace {

std::uint64_t Us(Clock::duration d) {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(d).count());
}

std::uint64_t DirBytes(const std::string& dir) {
  std::uint64_t total = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    // The WAL is rewritten in place after each checkpoint, so its size says little about
    // growth; the main file takes every page once checkpointed.
    const auto name = entry.path().filename().string();
    if (name.ends_with("-wal") || name.ends_with("-shm")) continue;
    if (entry.is_regular_file(ec)) total += entry.file_size(ec);
  }
  return total;
}

// On-CPU time of every thread of the pids in ns (/proc/<pid>/task/*/schedstat, first field):
// nanosecond resolution, unlike /proc/<pid>/stat's 10 ms ticks, so one turn's server CPU can
// be measured. On a machine shared with other work a turn's wall time includes waiting for a
// core; its CPU time does not. Several pids (instances) are summed; 0 when unavailable.
std::uint64_t ServerCpuNs(const std::vector<pid_t>& pids) {
  std::uint64_t total = 0;
  for (pid_t pid : pids) {
    if (pid <= 0) continue;
    std::error_code ec;
    for (const auto& task :
         std::filesystem::directory_iterator(fmt::format("/proc/{}/task", pid), ec)) {
      std::FILE* f = std::fopen((task.path() / "schedstat").c_str(), "r");
      if (f == nullptr) continue;
      unsigned long long ns = 0;
      if (std::fscanf(f, "%llu", &ns) == 1) total += ns;
      std::fclose(f);
    }
  }
  return total;
}

std::string JsonString(const std::string& body, const char* key) {
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_object()) return {};
  const auto* x = v.as_object().if_contains(key);
  return x != nullptr && x->is_string() ? std::string(x->as_string()) : std::string();
}

template <class F>
void RunIo(F make) {
  asio::io_context io(1);
  asio::co_spawn(io, make(), [](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      fmt::print(stderr, "loadgen: scenario failed: {}\n", ex.what());
    }
  });
  io.run();
}

double Mean(const std::vector<double>& v, std::size_t from, std::size_t to) {
  if (to <= from) return 0;
  double s = 0;
  for (std::size_t i = from; i < to; ++i) s += v[i];
  return s / static_cast<double>(to - from);
}

asio::awaitable<void> History(const Options& o, Report& r) {
  Connection conn(co_await asio::this_coro::executor, TargetFor(o, 0), SourceAddress(o, 0), o.timeout);
  auto created = co_await conn.Request("POST", "/threads", "{}");
  std::string thread = created && created->status == 200 ? JsonString(created->body, "thread_id") : "";
  if (thread.empty()) {
    r.Fail("create_thread");
    co_return;
  }
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(o.max_seconds));
  std::vector<double> latency_ms, history_bytes, file_growth, server_cpu_ms;
  std::uint64_t files_before = o.data_dir.empty() ? 0 : DirBytes(o.data_dir);
  for (int turn = 1; turn <= o.turns && Clock::now() < deadline; ++turn) {
    r.Count("started");
    const std::string body = InputBody(o, o.delay_ms > 0, "");
    const std::uint64_t cpu0 = ServerCpuNs(o.server_pids);
    auto t0 = Clock::now();
    auto reply = co_await conn.Request("POST", "/threads/" + thread + "/runs/wait", body);
    auto us = Us(Clock::now() - t0);
    const std::uint64_t cpu1 = ServerCpuNs(o.server_pids);
    if (!reply || reply->status != 200 || reply->body.find("\"__error__\"") != std::string::npos) {
      r.Fail(!reply ? reply.error().message : reply->status != 200 ? fmt::format("http_{}", reply->status) : "run_error");
      break;  // the thread's history is what we measure: stop at the first failure
    }
    r.Count("completed");
    r.latencies["turn"].Record(us);
    latency_ms.push_back(static_cast<double>(us) / 1000.0);
    if (!o.server_pids.empty()) server_cpu_ms.push_back(static_cast<double>(cpu1 - cpu0) / 1e6);
    // Proxy for checkpoint size: the newest history entry (one ThreadState), not timed.
    auto h = co_await conn.Request("POST", "/threads/" + thread + "/history", "{\"limit\":1}");
    history_bytes.push_back(h && h->status == 200 ? static_cast<double>(h->body.size()) : 0.0);
    if (!o.data_dir.empty()) {
      auto now_bytes = DirBytes(o.data_dir);
      file_growth.push_back(static_cast<double>(now_bytes) - static_cast<double>(files_before));
      files_before = now_bytes;
    }
  }
  const std::size_t n = latency_ms.size();
  if (n == 0) co_return;
  const std::size_t edge = std::min<std::size_t>(10, n);
  r.figures["first10_turn_ms"] = Mean(latency_ms, 0, edge);
  r.figures["last10_turn_ms"] = Mean(latency_ms, n - edge, n);
  r.figures["turn_ratio_last_first"] = r.figures["last10_turn_ms"] / std::max(1e-9, r.figures["first10_turn_ms"]);
  if (server_cpu_ms.size() == n) {
    // The server's CPU per turn: the figure to compare on a loaded machine (see ServerCpuNs).
    r.figures["first10_server_cpu_ms_per_turn"] = Mean(server_cpu_ms, 0, edge);
    r.figures["last10_server_cpu_ms_per_turn"] = Mean(server_cpu_ms, n - edge, n);
    r.figures["server_cpu_ratio_last_first"] =
        r.figures["last10_server_cpu_ms_per_turn"] /
        std::max(1e-9, r.figures["first10_server_cpu_ms_per_turn"]);
  }
  r.figures["first10_history_bytes"] = Mean(history_bytes, 0, edge);
  r.figures["last10_history_bytes"] = Mean(history_bytes, n - edge, n);
  r.figures["history_bytes_ratio"] =
      r.figures["last10_history_bytes"] / std::max(1.0, r.figures["first10_history_bytes"]);
  if (!file_growth.empty()) {
    // Per-turn file growth is lumpy (SQLite pages, WAL reuse): compare 10% windows.
    const std::size_t w = std::max<std::size_t>(1, n / 10);
    r.figures["first_window_file_growth_bytes_per_turn"] = Mean(file_growth, 0, w);
    r.figures["last_window_file_growth_bytes_per_turn"] = Mean(file_growth, n - w, n);
    r.figures["file_growth_ratio"] = r.figures["last_window_file_growth_bytes_per_turn"] /
                                     std::max(1.0, r.figures["first_window_file_growth_bytes_per_turn"]);
  }
  const std::size_t window = std::max<std::size_t>(1, n / 10);
  for (std::size_t from = 0; from < n; from += window) {
    const std::size_t to = std::min(n, from + window);
    json::object row{{"turns", fmt::format("{}-{}", from + 1, to)},
                     {"mean_turn_ms", Mean(latency_ms, from, to)},
                     {"history_bytes", Mean(history_bytes, from, to)}};
    if (!file_growth.empty()) row["file_growth_bytes_per_turn"] = Mean(file_growth, from, to);
    if (server_cpu_ms.size() == n) row["server_cpu_ms_per_turn"] = Mean(server_cpu_ms, from, to);
    r.rows.push_back(std::move(row));
  }
}

struct Subscribers {
  int established = 0;
  int live = 0;  // established and not ended
  int done = 0;
  bool closing = false;
  std::vector<std::unique_ptr<Connection>> connections;
};

asio::awaitable<void> Subscriber(Report& r, Subscribers& s, Connection& conn, std::string path) {
  bool held = false;
  auto reply = co_await conn.Stream("GET", path, "", [&](int status) {
    if (status != 200) return;
    held = true;
    ++s.established;
    ++s.live;
  }, [](std::string_view, std::string_view) {});
  ++s.done;
  if (held) --s.live;
  if (s.closing) co_return;  // we cut it: expected
  if (!reply) {
    r.Fail("subscriber_" + reply.error().message);
  } else if (reply->status != 200) {
    r.Fail(fmt::format("subscriber_http_{}", reply->status));
  } else {
    r.Count("subscriber_ended_early");
  }
}

asio::awaitable<void> Sleep(std::chrono::milliseconds d) {
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  co_await timer.async_wait(asio::use_awaitable);
}

asio::awaitable<void> Connections(const Options& o, Report& r, ProcSampler& sampler) {
  auto ex = co_await asio::this_coro::executor;
  Connection control(ex, TargetFor(o, 0), SourceAddress(o, 0), o.timeout);
  const int runs = o.runs > 0 ? o.runs : std::max(1, o.subscribers / 100);
  // The runs must outlive the hold: ask the model for hold + 60 s, then cancel them.
  Options run_options = o;
  run_options.delay_ms = static_cast<int>(o.hold_s * 1000) + 60000;
  const std::string body = InputBody(run_options, true, "");
  std::vector<std::pair<std::string, std::string>> started;  // thread, run
  for (int i = 0; i < runs; ++i) {
    auto t = co_await control.Request("POST", "/threads", "{}");
    std::string thread = t && t->status == 200 ? JsonString(t->body, "thread_id") : "";
    // (no co_await inside ?: - GCC 12 destroys such temporaries twice)
    std::string run_id;
    if (!thread.empty()) {
      auto run = co_await control.Request("POST", "/threads/" + thread + "/runs", body);
      if (run && run->status == 200) run_id = JsonString(run->body, "run_id");
    }
    if (run_id.empty()) {
      r.Fail("create_run");
      continue;
    }
    started.emplace_back(thread, run_id);
  }
  if (started.empty()) co_return;
  co_await Sleep(std::chrono::milliseconds(500));  // let the runs reach the model
  const auto before = sampler.Snapshot();
  Subscribers subs;
  const auto t0 = Clock::now();
  for (int i = 0; i < o.subscribers; ++i) {
    auto& [thread, run] = started[static_cast<std::size_t>(i) % started.size()];
    subs.connections.push_back(std::make_unique<Connection>(ex, TargetFor(o, i), SourceAddress(o, i + 1), o.timeout));
    r.Count("started");
    asio::co_spawn(ex, Subscriber(r, subs, *subs.connections.back(), "/threads/" + thread + "/runs/" + run + "/stream"),
                   [&r](std::exception_ptr e) {
                     if (e) r.Fail("exception");
                   });
  }
  const auto deadline = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.max_seconds));
  while (subs.established + subs.done < o.subscribers && Clock::now() < deadline) {
    co_await Sleep(std::chrono::milliseconds(20));
  }
  r.latencies["all_established"].Record(Us(Clock::now() - t0));
  co_await Sleep(std::chrono::milliseconds(static_cast<int>(o.hold_s * 1000)));
  const auto held = sampler.Snapshot();
  r.Count("completed", static_cast<std::uint64_t>(subs.live));  // still held after the hold
  r.Count("established", static_cast<std::uint64_t>(subs.established));
  r.Count("runs", started.size());
  if (held.samples > 0 && subs.established > 0) {
    r.figures["server_rss_before_kb"] = static_cast<double>(before.end_rss_kb);
    r.figures["server_rss_held_kb"] = static_cast<double>(held.end_rss_kb);
    r.figures["server_kb_per_connection"] =
        (static_cast<double>(held.end_rss_kb) - static_cast<double>(before.end_rss_kb)) / subs.established;
  }
  subs.closing = true;
  for (auto& c : subs.connections) c->Close();
  for (auto& [thread, run] : started) {
    co_await control.Request("POST", "/threads/" + thread + "/runs/" + run + "/cancel", "{}");
  }
  while (subs.done < o.subscribers && Clock::now() < deadline + std::chrono::seconds(10)) {
    co_await Sleep(std::chrono::milliseconds(20));
  }
}

}  // namespace

Report RunHistory(const Options& o) {
  Report r;
  const auto start = Clock::now();
  RunIo([&] { return History(o, r); });
  r.elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();
  r.figures["bytes_source_is_files"] = o.data_dir.empty() ? 0 : 1;
  return r;
}

Report RunConnections(const Options& o, ProcSampler& sampler) {
  Report r;
  const auto start = Clock::now();
  RunIo([&] { return Connections(o, r, sampler); });
  r.elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();
  return r;
}

}  // namespace agentd::loadgen
