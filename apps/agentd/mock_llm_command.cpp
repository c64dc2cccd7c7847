// `agentd mock-llm`: the mock model over HTTP (mock/mock_routes.hpp) on the agentd server.

#include <charconv>
#include <cstdio>

#include <fmt/format.h>

#include "commands.hpp"
#include "config/environment.hpp"
#include "config/loader.hpp"
#include "http/event_loops.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "mock/mock_routes.hpp"
#include "observe/log.hpp"
#include "observe/metrics.hpp"

namespace agentd::app {
namespace {

struct MockLlmFlags {
  http::ServerOptions server;
  mock::MockOptions model;
  std::size_t threads = 1;
};

bool ParseInt(std::string_view text, std::int64_t min, std::int64_t max, std::int64_t& out) {
  const auto res = std::from_chars(text.data(), text.data() + text.size(), out);
  return res.ec == std::errc() && res.ptr == text.data() + text.size() && out >= min && out <= max;
}

// Returns the problem ("" when every flag parsed).
std::string ParseFlags(std::span<const std::string> args, MockLlmFlags& flags) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string name = args[i];
    std::string value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return fmt::format("{}: missing value", name);
    }
    std::int64_t n = 0;
    auto number = [&](std::int64_t min, std::int64_t max) {
      return ParseInt(value, min, max, n) ? std::string()
                                          : fmt::format("{}: expected an integer in {}..{}, got \"{}\"", name, min, max, value);
    };
    std::string problem;
    if (name == "--host") {
      flags.server.host = value;
    } else if (name == "--port") {
      if ((problem = number(0, 65535)).empty()) flags.server.port = static_cast<std::uint16_t>(n);
    } else if (name == "--latency-ms") {
      if ((problem = number(0, 3'600'000)).empty()) flags.model.base_latency = std::chrono::milliseconds(n);
    } else if (name == "--slow-ms") {
      if ((problem = number(0, 3'600'000)).empty()) flags.model.slow_latency = std::chrono::milliseconds(n);
    } else if (name == "--chunks") {
      if ((problem = number(1, 10'000)).empty()) flags.model.chunks = static_cast<std::size_t>(n);
    } else if (name == "--threads") {
      if ((problem = number(1, 1024)).empty()) flags.threads = static_cast<std::size_t>(n);
    } else {
      return fmt::format("{}: unknown flag (see agentd mock-llm --help)", name);
    }
    if (!problem.empty()) return problem;
  }
  return {};
}

}  // namespace

int RunMockLlm(std::span<const std::string> args) {
  TerminationSignals signals;
  MockLlmFlags flags;
  flags.server.port = 18787;
  flags.server.max_connections = config::AutoMaxConnections(config::Environment::FromProcess());
  if (auto problem = ParseFlags(args, flags); !problem.empty()) {
    fmt::print(stderr, "mock-llm: {}\n", problem);
    return 2;
  }
  observe::InitLogging("info");
  auto log = observe::Logger("mock-llm");

  observe::Metrics metrics;
  http::Router router;
  mock::RegisterMockRoutes(router, flags.model);
  http::EventLoops loops(flags.threads);
  loops.Start();
  http::Server server(flags.server, loops, router, metrics);
  auto port = server.Start();
  if (!port) {
    log->error("cannot listen: {}", port.error().message);
    loops.Stop();
    return 1;
  }
  log->info("mock-llm listening on http://{}:{}/v1 chunks={} latency={}ms slow={}ms", flags.server.host, *port,
            flags.model.chunks, flags.model.base_latency.count(), flags.model.slow_latency.count());
  const int signal = signals.Wait();
  log->info("mock-llm stopping signal={}", signal);
  server.Stop();
  loops.Stop();
  return 0;
}

}  // namespace agentd::app
