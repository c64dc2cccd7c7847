// Bounded memory through the real binary. Runs' event logs: past server.stream_retained_bytes
// the longest-ended run's log is dropped (counted in /metrics), and a late joiner of that run
// gets its final values instead of a replay, while a recent run still replays from its log.
// Memory-aware admission: with resident memory past memory_admission_percent of
// memory_limit_bytes, a new run is refused with 503 + Retry-After naming the limit, and the
// server goes on answering everything else.
#include <csignal>
#include <string>

#include <gtest/gtest.h>

#include "agentd_child.hpp"
#include "support/temp_dir.hpp"

namespace agentd {
namespace {

using namespace std::chrono_literals;
using testing::AgentdChild;
using testing::RawExchange;

std::string Request(const std::string& method, const std::string& target, const std::string& body = "") {
  std::string out = method + " " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n";
  if (!body.empty()) {
    out += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  return out + "\r\n" + body;
}

// The value of `name` in a raw response's head ("" when absent).
std::string HeaderValue(const std::string& raw, const std::string& name) {
  const auto at = raw.find("\r\n" + name + ": ");
  if (at == std::string::npos) return "";
  const auto start = at + name.size() + 4;
  return raw.substr(start, raw.find("\r\n", start) - start);
}

// The number on the line of `metric` (a sample without labels), or -1.
double MetricValue(const std::string& text, const std::string& metric) {
  const auto at = text.find("\n" + metric + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + metric.size() + 2));
}

TEST(StreamMemoryBinary, PastTheBudgetEndedLogsAreDroppedAndALateJoinerGetsFinalValues) {
  agentd::testing::TempDir dir;
  // 16 KiB for every log together; each run below logs well over 4 KiB (its input is 4,000
  // characters, in the values and messages events).
  AgentdChild child({AGENTD_BINARY, "serve", "--port", "0", "--storage", "memory", "--threads", "1",
                     "--stream-retained-bytes", "16384"},
                    {}, (dir.path() / "agentd.log").string());
  const std::uint16_t port = child.WaitListening(20s).value_or(0);
  ASSERT_NE(port, 0) << child.Log();

  std::string raw;
  std::vector<std::string> runs;  // "/threads/<t>/runs/<r>", oldest first; a thread each
  for (int i = 0; i < 8; ++i) {
    raw = RawExchange(port, Request("POST", "/threads", "{}"), 10s);
    const auto id_at = raw.find("\"thread_id\":\"");
    ASSERT_NE(id_at, std::string::npos) << raw;
    const std::string thread_id = raw.substr(id_at + 13, 36);
    const std::string body = R"({"assistant_id":"echo","input":{"messages":[{"role":"human","content":")" +
                             std::string(4000, static_cast<char>('a' + i)) + R"("}]}})";
    raw = RawExchange(port, Request("POST", "/threads/" + thread_id + "/runs/wait", body), 20s);
    ASSERT_EQ(raw.rfind("HTTP/1.1 200", 0), 0u) << raw.substr(0, 300);
    runs.push_back(HeaderValue(raw, "Content-Location"));
    ASSERT_FALSE(runs.back().empty()) << raw.substr(0, 300);
  }

  const std::string metrics = RawExchange(port, Request("GET", "/metrics"), 10s);
  EXPECT_GE(MetricValue(metrics, "agentd_bus_logs_evicted_total"), 1) << metrics;
  const double retained = MetricValue(metrics, "agentd_bus_retained_bytes");
  EXPECT_GT(retained, 0) << metrics;
  // Every run's log holds its 4,000-character input at least once: all eight would be more.
  EXPECT_LT(retained, 8 * 4000) << metrics;

  // The first run's log is gone: its join answers the final values, once, with no event ids.
  raw = RawExchange(port, Request("GET", runs.front() + "/stream"), 10s);
  EXPECT_EQ(raw.rfind("HTTP/1.1 200", 0), 0u) << raw.substr(0, 300);
  EXPECT_NE(raw.find("event: values\ndata: {"), std::string::npos) << raw.substr(0, 600);
  EXPECT_EQ(raw.find("event: metadata"), std::string::npos) << raw.substr(0, 600);
  EXPECT_EQ(raw.find("\nid: "), std::string::npos) << raw.substr(0, 600);
  EXPECT_NE(raw.find(std::string(4000, 'a')), std::string::npos) << "the values hold the thread";

  // The last run's log is retained: a join replays it from its first event.
  raw = RawExchange(port, Request("GET", runs.back() + "/stream"), 10s);
  EXPECT_NE(raw.find("event: metadata"), std::string::npos) << raw.substr(0, 600);
  EXPECT_NE(raw.find("\nid: 0\n"), std::string::npos) << raw.substr(0, 600);

  EXPECT_EQ(child.Stop(SIGTERM, 20s), 0) << child.Log();
}

TEST(StreamMemoryBinary, NearItsMemoryLimitNewRunsAreRefusedWith503AndRetryAfter) {
  agentd::testing::TempDir dir;
  // 4 MiB: below what the idle process holds resident, so every new run is refused.
  AgentdChild tight({AGENTD_BINARY, "serve", "--port", "0", "--storage", "memory", "--threads", "1",
                     "--memory-limit-bytes", "4194304"},
                    {}, (dir.path() / "tight.log").string());
  const std::uint16_t port = tight.WaitListening(20s).value_or(0);
  ASSERT_NE(port, 0) << tight.Log();
  const std::string run = R"({"assistant_id":"echo","input":{"messages":[{"role":"human","content":"hi"}]}})";
  std::string raw = RawExchange(port, Request("POST", "/threads", "{}"), 10s);
  const auto id_at = raw.find("\"thread_id\":\"");
  ASSERT_NE(id_at, std::string::npos) << raw;
  const std::string thread_id = raw.substr(id_at + 13, 36);
  raw = RawExchange(port, Request("POST", "/threads/" + thread_id + "/runs/wait", run), 10s);
  ASSERT_EQ(raw.rfind("HTTP/1.1 503", 0), 0u) << raw.substr(0, 400);
  EXPECT_GE(std::stoi(HeaderValue(raw, "Retry-After")), 5) << raw.substr(0, 400);
  EXPECT_NE(raw.find(R"("error":"server_saturated")"), std::string::npos) << raw;
  EXPECT_NE(raw.find(R"("limit":"memory_limit_bytes")"), std::string::npos) << raw;
  EXPECT_NE(raw.find("MiB resident"), std::string::npos) << raw;
  // Refused before anything was written: the thread has no run and is still idle.
  raw = RawExchange(port, Request("GET", "/threads/" + thread_id + "/runs"), 10s);
  EXPECT_NE(raw.find("\r\n\r\n[]"), std::string::npos) << raw.substr(0, 400);
  raw = RawExchange(port, Request("GET", "/threads/" + thread_id), 10s);
  EXPECT_NE(raw.find(R"("status":"idle")"), std::string::npos) << raw.substr(0, 400);
  EXPECT_EQ(RawExchange(port, Request("GET", "/ok"), 10s).rfind("HTTP/1.1 200", 0), 0u);
  const std::string metrics = RawExchange(port, Request("GET", "/metrics"), 10s);
  EXPECT_NE(metrics.find("agentd_admission_rejections_total{reason=\"memory\"} 1"), std::string::npos)
      << metrics;
  EXPECT_EQ(MetricValue(metrics, "agentd_memory_limit_bytes"), 4194304) << metrics;
  EXPECT_GT(MetricValue(metrics, "agentd_resident_memory_bytes"), 4194304) << metrics;
  EXPECT_EQ(tight.Stop(SIGTERM, 20s), 0) << tight.Log();

  // The same limit with memory_admission_percent 0: never refused for memory.
  AgentdChild off({AGENTD_BINARY, "serve", "--port", "0", "--storage", "memory", "--threads", "1",
                   "--memory-limit-bytes", "4194304", "--memory-admission-percent", "0"},
                  {}, (dir.path() / "off.log").string());
  const std::uint16_t off_port = off.WaitListening(20s).value_or(0);
  ASSERT_NE(off_port, 0) << off.Log();
  raw = RawExchange(off_port, Request("POST", "/runs/wait", run), 10s);
  EXPECT_EQ(raw.rfind("HTTP/1.1 200", 0), 0u) << raw.substr(0, 400);
  EXPECT_EQ(off.Stop(SIGTERM, 20s), 0) << off.Log();
}

}  // namespace
}  // namespace agentd
