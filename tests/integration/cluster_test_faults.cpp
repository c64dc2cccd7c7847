// Cluster mode under faults, real processes: an instance killed with SIGKILL mid-flight (its runs
// are adopted and finished by the survivors, streams resume on them), Redis stopped and
// restarted under load, PostgreSQL restarted under load. Every wait is bounded; a run accepted
// before a fault either finishes or fails with a stated error, never hangs.

#include <atomic>
#include <csignal>
#include <map>
#include <set>
#include <iostream>
#include <mutex>
#include <thread>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "cluster_test_runs.hpp"

namespace agentd::cluster_test {
namespace {

namespace json = boost::json;
using testing::HttpClient;
using namespace std::chrono_literals;

// Keeps creating runs (each on a new thread, round-robin) until stopped; the accepted ones.
class Loader {
 public:
  Loader(std::vector<std::uint16_t> ports, std::string prefix)
      : ports_(std::move(ports)), prefix_(std::move(prefix)), worker_([this] { Loop(); }) {}
  ~Loader() { Stop(); }
  void Stop() {
    stop_ = true;
    if (worker_.joinable()) worker_.join();
  }
  const std::vector<Created>& accepted() const { return accepted_; }
  int refused() const { return refused_; }

 private:
  void Loop() {
    for (int i = 0; !stop_; ++i) {
      std::uint16_t port = ports_[static_cast<std::size_t>(i) % ports_.size()];
      Created c;
      c.content = prefix_ + "n" + std::to_string(i);
      c.thread_id = CreateThread(port);
      bool ok = false;
      if (!c.thread_id.empty()) {
        try {
          HttpClient client(port, "127.0.0.1", 15s);
          auto r = client.Post("/threads/" + c.thread_id + "/runs", RunBody(c.content));
          if (r.status == 200) {
            c.run_id = Str(ParseJson(r.body), "run_id");
            accepted_.push_back(c);
            ok = true;
          }
        } catch (const std::exception&) {
        }
      }
      if (!ok) {
        ++refused_;
        std::this_thread::sleep_for(100ms);  // a refusing cluster is not hammered
      }
    }
  }

  std::vector<std::uint16_t> ports_;
  std::string prefix_;
  std::vector<Created> accepted_;
  int refused_ = 0;
  std::atomic<bool> stop_{false};
  std::thread worker_;
};

// ------------------------------------------------------------------------------ kill -9

TEST(ClusterFaults, KilledInstanceRunsAreFinishedOnceBySurvivors) {
  SKIP_WITHOUT_SERVICES(services);
  Cluster cluster;
  std::string why;
  ASSERT_TRUE(cluster.Start(*services, "agentd_cluster_kill", 3, &why)) << why;
  LogsOnFailure dump{cluster};
  Instance& a = cluster[0];
  Instance& b = cluster[1];
  Instance& c = cluster[2];
  constexpr int kRuns = 100;
  const std::string prefix = "delay=5000 ";
  std::string error;
  auto runs = CreateRuns({b.port()}, kRuns, prefix, 10, &error);
  ASSERT_TRUE(error.empty()) << error << cluster.Logs();

  // Five clients follow their run on B and note the last id they saw.
  struct Follower {
    std::unique_ptr<SseReader> reader;
    std::vector<SseEvent> seen;
  };
  std::vector<Follower> followers(5);
  for (std::size_t i = 0; i < followers.size(); ++i) {
    const auto& r = runs[kRuns - 1 - i];  // the newest: surely still active at the kill
    followers[i].reader = std::make_unique<SseReader>(
        b.port(), "/threads/" + r.thread_id + "/runs/" + r.run_id + "/stream");
    ASSERT_EQ(followers[i].reader->status(), 200);
    auto ev = followers[i].reader->Next(30s);
    ASSERT_TRUE(ev && ev->id) << "no first event on B for run " << r.run_id;
    followers[i].seen.push_back(*ev);
  }
  // Kill B once a run executes there.
  ASSERT_TRUE(WaitUntil(30s, [&] {
    return RunStatus(a.port(), runs.back().thread_id, runs.back().run_id) == "running";
  }));
  b.Kill(SIGKILL);
  // What B left active (it can end nothing now; adoption waits for the lease to expire).
  auto left = Psql(cluster.dsn, "SELECT run_id FROM runs WHERE status IN ('pending','running')");
  ASSERT_TRUE(left.has_value());
  std::set<std::string> active_at_kill;
  for (std::size_t pos = 0; pos < left->size();) {
    auto nl = left->find('\n', pos);
    std::string id = left->substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    if (!id.empty()) active_at_kill.insert(id);
    if (nl == std::string::npos) break;
    pos = nl + 1;
  }
  std::cerr << "kill: " << active_at_kill.size() << " of " << kRuns
            << " runs were active on B when it was killed\n";
  EXPECT_GE(active_at_kill.size(), followers.size());

  // Every run ends success on the survivors: lease 1.5 s + run 5 s + a wide margin for a loaded
  // machine.
  const std::vector<std::uint16_t> survivors{a.port(), c.port()};
  auto statuses = WaitAllTerminal(survivors, runs, 120s);
  for (int i = 0; i < kRuns; ++i) {
    if (statuses[i] == "success") continue;
    ADD_FAILURE() << "run " << i << " " << runs[i].run_id << " ended '" << statuses[i] << "'";
    HttpClient diag(a.port(), "127.0.0.1", 10s);
    std::cerr << "thread: " << diag.Get("/threads/" + runs[i].thread_id).body << "\n";
    SseReader replay(a.port(), "/threads/" + runs[i].thread_id + "/runs/" + runs[i].run_id + "/stream",
                     {{"Last-Event-ID", "-1"}});
    std::vector<SseEvent> events;
    replay.ReadToEnd(10s, &events);
    for (const auto& ev : events) {
      std::cerr << "  " << (ev.id ? std::to_string(*ev.id) : "-") << " " << ev.event << " "
                << ev.data.substr(0, 300) << "\n";
    }
  }

  // Exactly once: one human + one AI message per thread; the adopted runs' logs say attempt 2+.
  std::map<int, int> attempts;
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
    EXPECT_TRUE(HasFinalValues(events, r.content)) << "run " << i;
    auto attempt = LastAttempt(events);
    ASSERT_TRUE(attempt.has_value()) << "run " << i;
    ++attempts[*attempt];
    if (active_at_kill.count(r.run_id)) {
      EXPECT_GE(*attempt, 2) << "run " << i << " was adopted but its log says attempt 1";
    }
  }
  for (auto [attempt, n] : attempts) std::cerr << "attempt " << attempt << ": " << n << " run(s)\n";

  // The followers reconnect on a survivor after the last id they saw and get the rest.
  for (std::size_t i = 0; i < followers.size(); ++i) {
    auto& f = followers[i];
    (void)f.reader->ReadToEnd(5s, &f.seen);  // whatever B sent before it died
    const auto& r = runs[kRuns - 1 - i];
    std::uint64_t last = 0;
    for (const auto& ev : f.seen) {
      if (ev.id) last = *ev.id;
    }
    SseReader again(survivors[i % 2], "/threads/" + r.thread_id + "/runs/" + r.run_id + "/stream",
                    {{"Last-Event-ID", std::to_string(last)}});
    ASSERT_EQ(again.status(), 200);
    std::vector<SseEvent> rest;
    ASSERT_TRUE(again.ReadToEnd(30s, &rest)) << "follower " << i << " did not reach the end";
    for (const auto& ev : rest) {
      ASSERT_TRUE(ev.id.has_value());
      EXPECT_GT(*ev.id, last);
    }
    EXPECT_TRUE(HasFinalValues(rest, r.content)) << "follower " << i;
    auto attempt = LastAttempt(rest);
    EXPECT_TRUE(attempt && *attempt >= 2) << "follower " << i << " saw no resumed attempt";
  }
}

// ------------------------------------------------------------------------------ Redis down

TEST(ClusterFaults, RedisOutageIsReportedAndHealsByItself) {
  SKIP_WITHOUT_SERVICES(services);
  OwnRedis redis;
  ASSERT_TRUE(redis.Start()) << "redis-server did not start";
  Services own{services->pg_dsn, redis.url()};
  Cluster cluster;
  std::string why;
  ASSERT_TRUE(cluster.Start(own, "agentd_cluster_redis", 3, &why)) << why;
  LogsOnFailure dump{cluster};
  const std::vector<std::uint16_t> ports{cluster[0].port(), cluster[1].port(), cluster[2].port()};
  for (auto port : ports) ASSERT_EQ(Ready(port).first, 200) << Ready(port).second;

  std::string error;
  auto before = CreateRuns(ports, 30, "delay=4000 ", 6, &error);
  ASSERT_TRUE(error.empty()) << error;
  ASSERT_TRUE(WaitUntil(30s, [&] {
    return RunStatus(ports[0], before.back().thread_id, before.back().run_id) == "running";
  }));
  Loader loader(ports, "delay=500 during-redis ");
  redis.Stop();

  // /ready says which dependency is down, on every instance.
  for (auto port : ports) {
    std::pair<int, std::string> ready;
    EXPECT_TRUE(WaitUntil(30s, [&] {
      ready = Ready(port);
      return ready.first == 503 && ready.second.find("redis") != std::string::npos;
    })) << "port " << port << ": " << ready.first << " " << ready.second;
  }
  // Runs accepted before the outage end (success or a stated error), none hangs.
  auto statuses = WaitAllTerminal(ports, before, 90s);
  int ok = 0;
  for (std::size_t i = 0; i < before.size(); ++i) {
    EXPECT_TRUE(IsTerminal(statuses[i]) && statuses[i] != "404")
        << "run " << before[i].run_id << " is '" << statuses[i] << "' after 90 s";
    if (statuses[i] == "success") ++ok;
  }
  std::cerr << "redis down: " << ok << " of " << before.size() << " earlier runs succeeded\n";

  ASSERT_TRUE(redis.Start()) << "redis-server did not restart";
  for (auto port : ports) {
    std::pair<int, std::string> ready;
    EXPECT_TRUE(WaitUntil(60s, [&] {
      ready = Ready(port);
      return ready.first == 200;
    })) << "port " << port << " not ready again: " << ready.first << " " << ready.second;
  }
  loader.Stop();
  for (std::size_t i = 0; i < 3; ++i) EXPECT_TRUE(cluster[i].Running()) << cluster[i].name() << " exited";
  // Whatever the loader got accepted (during the outage or after it) ends too.
  auto during = WaitAllTerminal(ports, loader.accepted(), 90s);
  for (std::size_t i = 0; i < during.size(); ++i) {
    EXPECT_TRUE(IsTerminal(during[i]) && during[i] != "404")
        << "run " << loader.accepted()[i].run_id << " is '" << during[i] << "'";
  }
  std::cerr << "redis down: loader had " << loader.accepted().size() << " accepted, "
            << loader.refused() << " refused\n";
  for (int i = 0; i < 3; ++i) {
    std::string fail;
    EXPECT_TRUE(NewRunSucceeds(ports[i], ports[(i + 1) % 3], "after-redis " + std::to_string(i),
                               &fail))
        << fail;
  }
}

// ------------------------------------------------------------------------------ PostgreSQL restart

TEST(ClusterFaults, PostgresRestartLosesNoAcceptedRun) {
  SKIP_WITHOUT_SERVICES(services);
  Cluster cluster;
  std::string why;
  ASSERT_TRUE(cluster.Start(*services, "agentd_cluster_pg", 3, &why)) << why;
  LogsOnFailure dump{cluster};
  const std::vector<std::uint16_t> ports{cluster[0].port(), cluster[1].port(), cluster[2].port()};

  std::string error;
  auto before = CreateRuns(ports, 30, "delay=4000 ", 6, &error);
  ASSERT_TRUE(error.empty()) << error;
  ASSERT_TRUE(WaitUntil(30s, [&] {
    return RunStatus(ports[0], before.back().thread_id, before.back().run_id) == "running";
  }));
  Loader loader(ports, "delay=500 during-pg ");
  ASSERT_TRUE(RestartPostgres(services->pg_dsn)) << "pg_ctl restart failed";
  // The instances come back by themselves.
  for (auto port : ports) {
    std::pair<int, std::string> ready;
    EXPECT_TRUE(WaitUntil(60s, [&] {
      ready = Ready(port);
      return ready.first == 200;
    })) << "port " << port << " not ready again: " << ready.first << " " << ready.second;
  }
  loader.Stop();
  for (std::size_t i = 0; i < 3; ++i) EXPECT_TRUE(cluster[i].Running()) << cluster[i].name() << " exited";

  auto check = [&](const std::vector<Created>& runs, const char* what) {
    auto statuses = WaitAllTerminal(ports, runs, 120s);
    int ok = 0;
    for (std::size_t i = 0; i < runs.size(); ++i) {
      const std::string& s = statuses[i];
      EXPECT_TRUE(s == "success" || s == "error")
          << what << " run " << runs[i].run_id << " is '" << s << "'";
      if (s == "success") {
        ++ok;
        auto messages = ThreadMessages(ports[i % 3], runs[i].thread_id);
        EXPECT_EQ(messages.size(), 2u) << json::serialize(messages);
      } else if (s == "error") {
        // A failure is stated: the thread carries the error.
        HttpClient c(ports[i % 3], "127.0.0.1", 10s);
        auto thread = ParseJson(c.Get("/threads/" + runs[i].thread_id).body);
        const auto* err = thread.is_object() ? thread.as_object().if_contains("error") : nullptr;
        EXPECT_TRUE(err && err->is_object()) << json::serialize(thread);
        if (err) std::cerr << "pg restart: run " << runs[i].run_id << " error " << json::serialize(*err) << "\n";
      }
    }
    std::cerr << "pg restart: " << what << ": " << ok << " of " << runs.size() << " succeeded\n";
  };
  check(before, "before");
  check(loader.accepted(), "during");
  std::cerr << "pg restart: loader refused " << loader.refused() << "\n";
  for (int i = 0; i < 3; ++i) {
    std::string fail;
    EXPECT_TRUE(NewRunSucceeds(ports[i], ports[(i + 2) % 3], "after-pg " + std::to_string(i), &fail))
        << fail;
  }
}

}  // namespace
}  // namespace agentd::cluster_test
