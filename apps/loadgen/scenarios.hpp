#pragma once
// The loadgen scenarios (docs/performance.md shows them in use). Each speaks only the public
// agent HTTP API, so the same code measures agentd and the reference server. Every scenario is
// bounded in count (runs, turns, subscribers) and in time (max_seconds, per-request timeout).
// RunScenario forks --procs client processes where the scenario allows it, samples the server
// from /proc while it runs, and returns the merged Report.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "loadgen/client.hpp"
#include "loadgen/report.hpp"

namespace agentd::loadgen {

struct Options {
  std::string scenario = "wait";  // wait | stream | ramp | history | connections
  Target target;
  // --ports: several instances of one server on target.host; virtual user i talks to
  // ports[i % size] (TargetFor). Empty = target.port only.
  std::vector<std::uint16_t> ports;
  std::string assistant;  // default: echo for wait, agent otherwise
  int runs = 0;           // total runs (wait, stream); 0 = concurrency (stream) or 200 (wait)
  int concurrency = 1;    // virtual users, one connection each
  double rampup_s = 0;    // spread the users' starts over this long (0 = all at once)
  double max_seconds = 120;
  int delay_ms = 0;  // model latency asked for with delay=<ms> (stream, ramp, connections)
  std::vector<std::string> stream_modes{"values", "messages-tuple"};
  std::string message = "hello";
  bool stateless = false;  // /runs/wait, /runs/stream instead of a thread per run
  int turns = 100;         // history
  std::string data_dir;    // history: measure storage growth here
  int subscribers = 100;   // connections
  double hold_s = 5;       // connections
  std::vector<int> levels{100, 250, 500, 1000, 2000, 4000};  // ramp
  double max_overhead_ms = 500;                               // ramp: p99 overhead bound
  int procs = 1;
  int source_addrs = 0;  // 0 = as many 127.0.0.x as the connection count needs
  std::vector<pid_t> server_pids;  // sampled together: CPU and RSS are summed over them
  std::chrono::milliseconds timeout{std::chrono::seconds(120)};
};

Report RunScenario(Options options);

// One client process's share of wait/stream (proc of procs); exposed for tests.
Report RunWaitShare(const Options& options, int proc, int procs);
Report RunStreamShare(const Options& options, int proc, int procs);
Report RunHistory(const Options& options);
class ProcSampler;
Report RunConnections(const Options& options, ProcSampler& sampler);

// Helpers shared by the scenario files.
// The server virtual user `global_user` talks to: round-robin over options.ports when given.
Target TargetFor(const Options& options, int global_user);
// "a,b,c" -> numbers in [min, max]; an error names the first bad item (CLI parsing).
Result<std::vector<long>> ParseNumberList(const std::string& text, long min, long max);
std::string SourceAddress(const Options& options, int global_user);
std::string InputBody(const Options& options, bool with_delay, const std::string& extra);
int Share(int total, int proc, int procs);

}  // namespace agentd::loadgen
