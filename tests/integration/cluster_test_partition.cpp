// Cluster mode, an instance cut off from the others: simulated by stopping it (SIGSTOP), which is
// what a partition looks like from both sides. Its leases lapse, the others adopt its runs and
// finish them; when it wakes (SIGCONT) with replies half-streamed, it must write nothing more for
// those runs: no event into the streams the adopters continue, no checkpoint, no final status.
// Then it serves again by itself.

#include <csignal>
#include <iostream>
#include <string>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "cluster_test_runs.hpp"

namespace agentd::cluster_test {
namespace {

namespace json = boost::json;
using testing::HttpClient;
using namespace std::chrono_literals;

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// The text of every `messages` chunk after the stream's last `metadata` event (the adopter's
// attempt), concatenated: the reply exactly once when nobody else wrote into the stream.
std::string ReplyStreamedByLastAttempt(const std::vector<SseEvent>& events) {
  std::size_t start = 0;
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (events[i].event == "metadata") start = i;
  }
  std::string text;
  for (std::size_t i = start; i < events.size(); ++i) {
    if (events[i].event != "messages") continue;
    auto data = ParseJson(events[i].data);
    if (!data.is_array() || data.as_array().empty() || !data.as_array()[0].is_object()) continue;
    const auto& chunk = data.as_array()[0].as_object();
    if (const auto* type = chunk.if_contains("type"); !type || *type != "ai") continue;
    if (const auto* content = chunk.if_contains("content"); content && content->is_string()) {
      text += content->as_string();
    }
  }
  return text;
}

int ValuesEventsWithReply(const std::vector<SseEvent>& events, const std::string& content) {
  int n = 0;
  for (const auto& ev : events) {
    if (ev.event == "values" && ev.data.find("\"echo: " + content + "\"") != std::string::npos) ++n;
  }
  return n;
}

// A counter's value in /metrics text (-1 when absent).
double MetricValue(std::uint16_t port, const std::string& name) {
  HttpClient c(port, "127.0.0.1", 10s);
  std::string text = c.Get("/metrics").body;
  for (std::size_t pos = text.find(name + " "); pos != std::string::npos;
       pos = text.find(name + " ", pos + 1)) {
    if (pos != 0 && text[pos - 1] != '\n') continue;
    return std::stod(text.substr(pos + name.size() + 1));
  }
  return -1;
}

TEST(ClusterPartition, PausedInstanceLosesItsRunsAndWritesNothingWhenItWakes) {
  SKIP_WITHOUT_SERVICES(services);
  Cluster cluster;
  std::string why;
  ASSERT_TRUE(cluster.Start(*services, "agentd_cluster_pause", 3, &why)) << why;
  LogsOnFailure dump{cluster};
  Instance& a = cluster[0];
  Instance& b = cluster[1];
  Instance& c = cluster[2];
  constexpr int kRuns = 20;
  // Each reply streams its pieces over 3 s: B is mid-reply when it stops, and its next pieces
  // are overdue when it wakes.
  const std::string prefix = "delay=3000 ";
  std::string error;
  auto runs = CreateRuns({b.port()}, kRuns, prefix, 5, &error);
  ASSERT_TRUE(error.empty()) << error << cluster.Logs();
  ASSERT_TRUE(WaitUntil(30s, [&] {
    auto n = Psql(cluster.dsn, "SELECT count(*) FROM runs WHERE status = 'running'");
    return n && Trim(*n) == std::to_string(kRuns);
  })) << "B did not start all its runs";
  auto owners = Psql(cluster.dsn, "SELECT DISTINCT owner FROM runs WHERE status = 'running'");
  ASSERT_TRUE(owners.has_value());
  const std::string b_owner = Trim(*owners);
  ASSERT_FALSE(b_owner.empty());
  ASSERT_EQ(b_owner.find('\n'), std::string::npos) << "runs created on B, owned by: " << b_owner;

  b.Signal(SIGSTOP);
  // B's leases (1.5 s) lapse and A and C take every run over.
  ASSERT_TRUE(WaitUntil(30s, [&] {
    auto n = Psql(cluster.dsn, "SELECT count(*) FROM runs WHERE owner = '" + b_owner + "'");
    return n && Trim(*n) == "0";
  })) << "B's runs were not adopted";
  // B wakes while the adopters are mid-run: its replies' next pieces are long overdue.
  b.Signal(SIGCONT);

  const std::vector<std::uint16_t> survivors{a.port(), c.port()};
  auto statuses = WaitAllTerminal(survivors, runs, 120s);
  for (int i = 0; i < kRuns; ++i) {
    EXPECT_EQ(statuses[i], "success") << "run " << i << " " << runs[i].run_id;
  }

  for (int i = 0; i < kRuns; ++i) {
    const auto& r = runs[i];
    std::uint16_t port = survivors[static_cast<std::size_t>(i) % 2];
    auto messages = ThreadMessages(port, r.thread_id);
    ASSERT_EQ(messages.size(), 2u) << "run " << i << ": " << json::serialize(messages);
    EXPECT_EQ(Str(messages[1], "content"), "echo: " + r.content);
    SseReader replay(port, "/threads/" + r.thread_id + "/runs/" + r.run_id + "/stream",
                     {{"Last-Event-ID", "-1"}});
    std::vector<SseEvent> events;
    ASSERT_TRUE(replay.ReadToEnd(30s, &events)) << "replay of run " << i << " did not end";
    auto attempt = LastAttempt(events);
    EXPECT_TRUE(attempt && *attempt >= 2) << "run " << i << " was not resumed by an adopter";
    // B's overdue pieces and B's final values would land after the adopter's metadata event.
    EXPECT_EQ(ReplyStreamedByLastAttempt(events), "echo: " + r.content) << "run " << i;
    EXPECT_EQ(ValuesEventsWithReply(events, r.content), 1) << "run " << i;
  }
  // One stored reply per thread: B wrote no checkpoint after it lost the runs.
  auto replies = Psql(cluster.dsn,
                      "SELECT count(*) FROM checkpoint_messages WHERE message LIKE '%\"echo: %'");
  ASSERT_TRUE(replies.has_value());
  EXPECT_EQ(Trim(*replies), std::to_string(kRuns));

  // B noticed, said so, and serves again: ready, and a new run on it succeeds.
  EXPECT_TRUE(WaitUntil(30s, [&] { return Ready(b.port()).first == 200; }))
      << Ready(b.port()).second;
  EXPECT_EQ(MetricValue(b.port(), "agentd_cluster_runs_lost_total"), kRuns);
  EXPECT_TRUE(NewRunSucceeds(b.port(), a.port(), "after the pause", &why)) << why;
}

}  // namespace
}  // namespace agentd::cluster_test
