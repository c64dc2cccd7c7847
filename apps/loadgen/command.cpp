// `agentd loadgen <scenario> [flags]`: parses flags, runs the scenario, prints table or JSON.

#include <cstdio>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "loadgen/scenarios.hpp"

namespace agentd::app {

std::string LoadgenHelp() {
  return "Usage: agentd loadgen <wait|stream|ramp|history|connections> [flags]\n\n"
         "Drives any server speaking the agent HTTP API (agentd or the reference) over loopback\n"
         "and reports counts, errors by kind, latency percentiles and the server's CPU/RSS.\n"
         "Exit code 1 when any run failed.\n\n"
         "Flags:\n"
         "  --host <ip> --port <n>   server (default 127.0.0.1:8123)\n"
         "  --ports <a,b,..>         several instances on --host: virtual user i uses the\n"
         "                           (i mod n)th port (overrides --port; history: the first)\n"
         "  --assistant <id>         default echo (wait), agent (others)\n"
         "  --runs <n>               total runs (wait: 200; stream: = concurrency); connections: runs joined\n"
         "  --concurrency <n>        virtual users, one connection each (default 1)\n"
         "  --rampup-s <s>           start the users evenly over this long (default 0: at once)\n"
         "  --delay-ms <ms>          model latency via delay=<ms> in the message (default 0)\n"
         "  --stream-mode <a,b>      stream modes (default values,messages-tuple)\n"
         "  --message <text>         user message (default hello)\n"
         "  --stateless              /runs/wait and /runs/stream instead of a thread per run\n"
         "  --turns <n>              history: sequential turns on one thread (default 100)\n"
         "  --data-dir <dir>         history: measure storage file growth per turn here\n"
         "  --subscribers <n>        connections: idle join streams to hold (default 100)\n"
         "  --hold-s <s>             connections: how long to hold them (default 5)\n"
         "  --levels <a,b,..>        ramp: concurrency levels (default 100,250,500,1000,2000,4000)\n"
         "  --max-overhead-ms <ms>   ramp: stop when p99 overhead passes this (default 500)\n"
         "  --procs <n>              client processes, figures merged (wait, stream, ramp)\n"
         "  --source-addrs <n>       spread connections over 127.0.0.1..n (default: as needed)\n"
         "  --server-pid <pid,..>    sample these processes' CPU and RSS from /proc (summed)\n"
         "  --max-seconds <s>        bound on the scenario (default 120)\n"
         "  --timeout-s <s>          per request/stream timeout (default 120)\n"
         "  --json                   print the report as JSON\n";
}

namespace {

std::vector<std::string> SplitComma(const std::string& s) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= s.size()) {
    auto end = s.find(',', pos);
    if (end == std::string::npos) end = s.size();
    if (end > pos) out.push_back(s.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

}  // namespace

int RunLoadgen(std::span<const std::string> args) {
  loadgen::Options o;
  o.target.port = 8123;
  bool as_json = false;
  std::size_t i = 0;
  if (!args.empty() && args[0].rfind("--", 0) != 0) o.scenario = args[i++];
  try {
    for (; i < args.size(); ++i) {
      const std::string& flag = args[i];
      auto value = [&]() -> const std::string& {
        if (i + 1 >= args.size()) throw std::invalid_argument(flag + " needs a value");
        return args[++i];
      };
      if (flag == "--json") as_json = true;
      else if (flag == "--stateless") o.stateless = true;
      else if (flag == "--host") o.target.host = value();
      else if (flag == "--port") o.target.port = static_cast<std::uint16_t>(std::stoi(value()));
      else if (flag == "--scenario") o.scenario = value();
      else if (flag == "--assistant") o.assistant = value();
      else if (flag == "--runs") o.runs = std::stoi(value());
      else if (flag == "--concurrency") o.concurrency = std::stoi(value());
      else if (flag == "--rampup-s") o.rampup_s = std::stod(value());
      else if (flag == "--delay-ms") o.delay_ms = std::stoi(value());
      else if (flag == "--stream-mode") o.stream_modes = SplitComma(value());
      else if (flag == "--message") o.message = value();
      else if (flag == "--turns") o.turns = std::stoi(value());
      else if (flag == "--data-dir") o.data_dir = value();
      else if (flag == "--subscribers") o.subscribers = std::stoi(value());
      else if (flag == "--hold-s") o.hold_s = std::stod(value());
      else if (flag == "--levels") {
        o.levels.clear();
        for (const auto& l : SplitComma(value())) o.levels.push_back(std::stoi(l));
      } else if (flag == "--max-overhead-ms") o.max_overhead_ms = std::stod(value());
      else if (flag == "--procs") o.procs = std::stoi(value());
      else if (flag == "--source-addrs") o.source_addrs = std::stoi(value());
      else if (flag == "--ports") {
        auto ports = loadgen::ParseNumberList(value(), 1, 65535);
        if (!ports) throw std::invalid_argument("--ports: " + ports.error().message);
        o.ports.assign(ports->begin(), ports->end());
        o.target.port = o.ports.front();
      } else if (flag == "--server-pid") {
        auto pids = loadgen::ParseNumberList(value(), 1, std::numeric_limits<pid_t>::max());
        if (!pids) throw std::invalid_argument("--server-pid: " + pids.error().message);
        o.server_pids.assign(pids->begin(), pids->end());
      }
      else if (flag == "--max-seconds") o.max_seconds = std::stod(value());
      else if (flag == "--timeout-s") o.timeout = std::chrono::milliseconds(static_cast<long>(std::stod(value()) * 1000));
      else throw std::invalid_argument("unknown flag " + flag);
    }
  } catch (const std::exception& e) {  // start-up: one clear line
    fmt::print(stderr, "agentd loadgen: {}\n", e.what());
    return 2;
  }
  static const std::vector<std::string> kScenarios{"wait", "stream", "ramp", "history", "connections"};
  if (std::find(kScenarios.begin(), kScenarios.end(), o.scenario) == kScenarios.end()) {
    fmt::print(stderr, "agentd loadgen: unknown scenario \"{}\" (see agentd loadgen --help)\n", o.scenario);
    return 2;
  }
  if (o.concurrency < 1 || o.procs < 1) {
    fmt::print(stderr, "agentd loadgen: --concurrency and --procs must be >= 1\n");
    return 2;
  }
  auto report = loadgen::RunScenario(o);
  if (as_json) {
    fmt::print("{}\n", boost::json::serialize(report.ToJson()));
  } else {
    fmt::print("{}", report.FormatTable());
  }
  return report.Counter("failed") == 0 ? 0 : 1;
}

}  // namespace agentd::app
