// RunScenario: forks, samples the server, derives the figures; and the ramp.

#include "loadgen/scenarios.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>

#include <boost/json.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "loadgen/fork_runner.hpp"
#include "loadgen/proc_sampler.hpp"

namespace agentd::loadgen {

namespace json = boost::json;

int Share(int total, int proc, int procs) {
  if (procs <= 1) return total;
  return total / procs + (proc < total % procs ? 1 : 0);
}

Target TargetFor(const Options& o, int global_user) {
  Target t = o.target;
  if (!o.ports.empty()) t.port = o.ports[static_cast<std::size_t>(std::max(0, global_user)) % o.ports.size()];
  return t;
}

Result<std::vector<long>> ParseNumberList(const std::string& text, long min, long max) {
  std::vector<long> out;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    auto end = text.find(',', pos);
    if (end == std::string::npos) end = text.size();
    const std::string item = text.substr(pos, end - pos);
    char* stop = nullptr;
    errno = 0;
    const long v = item.empty() ? 0 : std::strtol(item.c_str(), &stop, 10);
    if (item.empty() || errno != 0 || *stop != '\0' || v < min || v > max) {
      return MakeError(Errc::kInvalidArgument, fmt::format("\"{}\" is not a number in [{}, {}]", item, min, max));
    }
    out.push_back(v);
    pos = end + 1;
  }
  return out;
}

std::string SourceAddress(const Options& o, int global_user) {
  if (o.source_addrs <= 1) return {};
  return fmt::format("127.0.0.{}", 1 + global_user % std::min(o.source_addrs, 250));
}

std::string InputBody(const Options& o, bool with_delay, const std::string& extra) {
  std::string content = with_delay ? fmt::format("delay={} {}", o.delay_ms, o.message) : o.message;
  json::object body{{"assistant_id", o.assistant},
                    {"input", json::object{{"messages", json::array{json::object{{"role", "human"},
                                                                                  {"content", content}}}}}}};
  std::string text = json::serialize(body);
  if (!extra.empty()) text.insert(text.size() - 1, extra);
  return text;
}

namespace {

// Ephemeral ports one source address offers to one destination.
int EphemeralPorts() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int lo = 32768, hi = 60999;
  in >> lo >> hi;
  return std::max(1000, hi - lo + 1);
}

void AddServer(Report& r, const ServerUsage& u, int concurrent) {
  r.server = u;
  if (u.samples == 0) return;
  r.figures["server_cpu_pct"] = r.elapsed_s > 0 ? 100.0 * u.cpu_seconds / r.elapsed_s : 0;
  if (concurrent > 0) {
    r.figures["server_kb_per_concurrent"] =
        (static_cast<double>(u.peak_rss_kb) - static_cast<double>(u.baseline_rss_kb)) / concurrent;
  }
}

Report Runs(const Options& o, bool stream) {
  ProcSampler sampler(o.server_pids);
  Report r = RunForked(o.procs, [&](int i) {
    return stream ? RunStreamShare(o, i, o.procs) : RunWaitShare(o, i, o.procs);
  });
  r.scenario = o.scenario;
  AddServer(r, sampler.Stop(), stream ? o.concurrency : 0);
  if (r.elapsed_s > 0) r.figures["runs_per_s"] = static_cast<double>(r.Counter("completed")) / r.elapsed_s;
  return r;
}

Report Ramp(const Options& o) {
  Report out;
  out.scenario = "ramp";
  int held = 0;
  for (int level : o.levels) {
    Options step = o;
    step.scenario = "stream";
    step.runs = level;
    step.concurrency = level;
    Report r = Runs(step, true);
    const auto& overhead = r.Latency("overhead");
    const double p99 = static_cast<double>(overhead.Percentile(99)) / 1000.0;
    json::object row{{"level", level},
                     {"completed", r.Counter("completed")},
                     {"failed", r.Counter("failed")},
                     {"overhead_p50_ms", static_cast<double>(overhead.Percentile(50)) / 1000.0},
                     {"overhead_p99_ms", p99},
                     {"first_token_p99_ms", static_cast<double>(r.Latency("first_token").Percentile(99)) / 1000.0},
                     {"elapsed_s", r.elapsed_s},
                     {"server_peak_rss_kb", r.server.peak_rss_kb},
                     {"server_kb_per_run", r.figures.count("server_kb_per_concurrent") ? r.figures["server_kb_per_concurrent"] : 0.0},
                     {"server_cpu_s", r.server.cpu_seconds}};
    if (!r.errors.empty()) {
      json::object errors;
      for (const auto& [k, v] : r.errors) errors[k] = v;
      row["errors"] = std::move(errors);
    }
    out.rows.push_back(row);
    out.Merge(r);
    fmt::print(stderr, "ramp: {}\n", json::serialize(row));
    const bool ok = r.Counter("failed") == 0 && r.Counter("completed") == static_cast<std::uint64_t>(level) &&
                    p99 <= o.max_overhead_ms;
    if (!ok) break;
    held = level;
  }
  out.figures["highest_level_held"] = held;
  return out;
}

}  // namespace

Report RunScenario(Options o) {
  if (o.assistant.empty()) o.assistant = o.scenario == "wait" ? "echo" : "agent";
  int connections = o.concurrency;
  if (o.scenario == "connections") connections = o.subscribers;
  if (o.scenario == "ramp") for (int l : o.levels) connections = std::max(connections, l);
  if (o.source_addrs == 0) {
    // Keep each address well inside its ephemeral range (TIME_WAIT from earlier runs too).
    const int per_address = EphemeralPorts() / 2;
    o.source_addrs = (connections + per_address - 1) / per_address;
  }
  Report r;
  if (o.scenario == "wait") {
    r = Runs(o, false);
  } else if (o.scenario == "stream") {
    r = Runs(o, true);
  } else if (o.scenario == "ramp") {
    r = Ramp(o);
  } else if (o.scenario == "history") {
    ProcSampler sampler(o.server_pids);
    r = RunHistory(o);
    AddServer(r, sampler.Stop(), 0);
  } else if (o.scenario == "connections") {
    ProcSampler sampler(o.server_pids);
    r = RunConnections(o, sampler);
    AddServer(r, sampler.Stop(), 0);
  } else {
    r.Fail("unknown_scenario");
  }
  r.scenario = o.scenario;
  r.target = o.ports.empty() ? fmt::format("{}:{}", o.target.host, o.target.port)
                             : fmt::format("{}:{}", o.target.host, fmt::join(o.ports, ","));
  r.figures["instances"] = std::max<std::size_t>(1, o.ports.size());
  r.figures["source_addresses"] = std::max(1, o.source_addrs);
  r.figures["client_procs"] = std::max(1, o.procs);
  return r;
}

}  // namespace agentd::loadgen
