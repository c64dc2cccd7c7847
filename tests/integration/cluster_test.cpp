// Cluster mode across real processes: three `agentd serve` children (A, B, C) on one PostgreSQL
// and one Redis. Any instance serves any run: streams and reconnects (Last-Event-ID) on another
// instance than the one executing the run, cancel and join across instances, and 200 concurrent
// creations on one thread spread over the three, once per multitask strategy.
// Runs under tests/harness/with-services --pg --redis; skipped without those services.

#include <algorithm>
#include <iostream>
#include <latch>
#include <map>
#include <set>
#include <thread>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "cluster_test_support.hpp"

namespace agentd::cluster_test {
namespace {

namespace json = boost::json;
using testing::HttpClient;
using namespace std::chrono_literals;

constexpr std::string_view kBusyText = "Thread is already running a task.";

bool SameEvent(const SseEvent& a, const SseEvent& b) {
  return a.event == b.event && a.data == b.data && a.id == b.id;
}

std::string Describe(const std::vector<SseEvent>& events) {
  std::string out;
  for (const auto& e : events) {
    out += (e.id ? std::to_string(*e.id) : std::string("-")) + " " + e.event + " " +
           e.data.substr(0, 120) + "\n";
  }
  return out;
}

class ClusterStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto services = ServicesFromEnv();
    if (!services) {
      GTEST_SKIP() << "AGENTD_TEST_PG_DSN / AGENTD_TEST_REDIS_URL not set: run under "
                      "tests/harness/with-services --pg --redis";
    }
    std::string why;
    ASSERT_TRUE(cluster_.Start(*services, "agentd_cluster_stream", 3, &why)) << why;
  }
  void TearDown() override {
    if (HasFailure()) std::cerr << cluster_.Logs();
  }
  Cluster cluster_;
};

// A background run on A, streamed from B, resumed on C after an id, cancelled from A: every
// instance shows the same log, the cancel ends the run `interrupted` and closes B's stream.
TEST_F(ClusterStreamTest, RunOnOneInstanceIsStreamedResumedAndCancelledFromOthers) {
  Instance& a = cluster_[0];
  Instance& b = cluster_[1];
  Instance& c = cluster_[2];
  const std::string thread_id = CreateThread(a.port());
  ASSERT_FALSE(thread_id.empty());
  HttpClient ca(a.port(), "127.0.0.1", 30s);
  // 8 message pieces, one every 2.5 s: long enough to be cancelled mid-run.
  auto created = ca.Post("/threads/" + thread_id + "/runs",
                         RunBody("delay=20000 slow stream", "", R"(["values","messages-tuple"])"));
  ASSERT_EQ(created.status, 200) << created.body;
  const std::string run_id = Str(ParseJson(created.body), "run_id");
  const std::string stream_path = "/threads/" + thread_id + "/runs/" + run_id + "/stream";

  // B: from the start (no Last-Event-ID), at least four events while the run goes on. Until the
  // owner appended the run's first event, another instance answers "Run not found" (the Redis
  // bus finds no stream yet: see StreamOnAnotherInstanceBeforeTheFirstEvent), so the
  // join is retried, bounded, until the log exists.
  std::unique_ptr<SseReader> reader_b;
  std::vector<SseEvent> seen_b;
  int not_found = 0;
  ASSERT_TRUE(WaitUntil(15s, [&] {
    reader_b = std::make_unique<SseReader>(b.port(), stream_path);
    auto first = reader_b->Next(30s);
    if (!first) return false;
    if (first->event == "error") {
      ++not_found;
      return false;
    }
    seen_b.push_back(*first);
    return true;
  })) << "B never found the run's log";
  if (not_found > 0) std::cerr << "B answered 'Run not found' " << not_found << " time(s) first\n";
  SseReader& on_b = *reader_b;
  ASSERT_EQ(on_b.status(), 200);
  while (seen_b.size() < 4) {
    auto ev = on_b.Next(30s);
    ASSERT_TRUE(ev) << "B's stream ended or stalled after:\n" << Describe(seen_b);
    seen_b.push_back(*ev);
  }
  EXPECT_EQ(seen_b[0].event, "metadata");
  EXPECT_NE(seen_b[0].data.find(run_id), std::string::npos);
  for (const auto& ev : seen_b) ASSERT_TRUE(ev.id.has_value()) << Describe(seen_b);

  // C: reconnect after B's second event; it gets exactly what follows it.
  const std::uint64_t after = *seen_b[1].id;
  SseReader on_c(c.port(), stream_path, {{"Last-Event-ID", std::to_string(after)}});
  ASSERT_EQ(on_c.status(), 200);
  std::vector<SseEvent> seen_c;
  while (seen_c.size() < seen_b.size() - 2) {
    auto ev = on_c.Next(30s);
    ASSERT_TRUE(ev) << "C's stream ended or stalled after:\n" << Describe(seen_c);
    seen_c.push_back(*ev);
  }
  for (std::size_t i = 0; i < seen_c.size(); ++i) {
    EXPECT_TRUE(SameEvent(seen_c[i], seen_b[i + 2]))
        << "C:\n" << Describe(seen_c) << "B:\n" << Describe(seen_b);
  }
  ASSERT_EQ(RunStatus(c.port(), thread_id, run_id), "running");

  // Cancel from A (the owner here, but asked like any client would): ends interrupted.
  auto cancel = ca.Post("/threads/" + thread_id + "/runs/" + run_id + "/cancel?wait=1", "");
  EXPECT_EQ(cancel.status, 204) << cancel.body;
  EXPECT_EQ(RunStatus(b.port(), thread_id, run_id), "interrupted");
  EXPECT_EQ(RunStatus(c.port(), thread_id, run_id), "interrupted");

  // Both remote streams end, and C's events are B's after the id, one for one.
  ASSERT_TRUE(on_b.ReadToEnd(30s, &seen_b)) << "B's stream did not end:\n" << Describe(seen_b);
  ASSERT_TRUE(on_c.ReadToEnd(30s, &seen_c)) << "C's stream did not end:\n" << Describe(seen_c);
  std::vector<SseEvent> expected;
  for (const auto& ev : seen_b) {
    if (ev.id && *ev.id > after) expected.push_back(ev);
  }
  ASSERT_EQ(seen_c.size(), expected.size()) << "C:\n" << Describe(seen_c) << "B:\n" << Describe(seen_b);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_TRUE(SameEvent(seen_c[i], expected[i])) << i;
  }
  // Ids are strictly increasing on both.
  for (std::size_t i = 1; i < seen_b.size(); ++i) {
    if (seen_b[i].id && seen_b[i - 1].id) {
      EXPECT_LT(*seen_b[i - 1].id, *seen_b[i].id);
    }
  }
}

// /join on C of a run executing on A answers with the run's final values.
TEST_F(ClusterStreamTest, JoinOnAnotherInstanceReturnsFinalValues) {
  Instance& a = cluster_[0];
  Instance& c = cluster_[2];
  const std::string thread_id = CreateThread(a.port());
  ASSERT_FALSE(thread_id.empty());
  HttpClient ca(a.port(), "127.0.0.1", 30s);
  auto created = ca.Post("/threads/" + thread_id + "/runs", RunBody("delay=3000 joined"));
  ASSERT_EQ(created.status, 200) << created.body;
  const std::string run_id = Str(ParseJson(created.body), "run_id");
  const std::string before = RunStatus(c.port(), thread_id, run_id);
  EXPECT_TRUE(before == "pending" || before == "running") << before;

  HttpClient cc(c.port(), "127.0.0.1", 60s);
  auto joined = cc.Get("/threads/" + thread_id + "/runs/" + run_id + "/join");
  ASSERT_EQ(joined.status, 200) << joined.body;
  auto body = ParseJson(joined.body);
  ASSERT_TRUE(body.is_object()) << joined.body;
  const auto* messages = body.as_object().if_contains("messages");
  ASSERT_TRUE(messages && messages->is_array()) << joined.body;
  ASSERT_EQ(messages->as_array().size(), 2u) << joined.body;
  EXPECT_EQ(Str(messages->as_array().back(), "content"), "echo: delay=3000 joined");
  EXPECT_EQ(RunStatus(c.port(), thread_id, run_id), "success");

  // Quick runs joined elsewhere at once: the join answers after the thread holds the run's
  // values, not in the moment between the run's end being recorded and the thread written.
  for (int i = 0; i < 30; ++i) {
    const std::string t = CreateThread(a.port());
    ASSERT_FALSE(t.empty());
    const std::string content = "quick " + std::to_string(i);
    auto r = ca.Post("/threads/" + t + "/runs", RunBody(content));
    ASSERT_EQ(r.status, 200) << r.body;
    HttpClient other(cluster_[1 + i % 2].port(), "127.0.0.1", 60s);
    auto j = other.Get("/threads/" + t + "/runs/" + Str(ParseJson(r.body), "run_id") + "/join");
    ASSERT_EQ(j.status, 200);
    EXPECT_NE(j.body.find("\"echo: " + content + "\""), std::string::npos) << i << ": " << j.body;
  }
}

// Deleting a thread on B stops its run executing on A first (the delete waits for it), so the
// run writes nothing into a thread that is gone: A's stream of the run ends at once, long before
// the run's 30 s reply would have, and nothing of the thread is left in the database.
TEST_F(ClusterStreamTest, ThreadDeleteOnAnotherInstanceStopsItsRunFirst) {
  Instance& a = cluster_[0];
  Instance& b = cluster_[1];
  const std::string thread_id = CreateThread(a.port());
  ASSERT_FALSE(thread_id.empty());
  HttpClient ca(a.port(), "127.0.0.1", 30s);
  auto created = ca.Post("/threads/" + thread_id + "/runs", RunBody("delay=30000 doomed"));
  ASSERT_EQ(created.status, 200) << created.body;
  const std::string run_id = Str(ParseJson(created.body), "run_id");
  ASSERT_TRUE(WaitUntil(30s, [&] { return RunStatus(b.port(), thread_id, run_id) == "running"; }));
  SseReader stream(a.port(), "/threads/" + thread_id + "/runs/" + run_id + "/stream");
  ASSERT_EQ(stream.status(), 200);

  HttpClient cb(b.port(), "127.0.0.1", 30s);
  auto deleted = cb.Send("DELETE", "/threads/" + thread_id);
  EXPECT_EQ(deleted.status, 204) << deleted.body;
  std::vector<SseEvent> events;
  EXPECT_TRUE(stream.ReadToEnd(10s, &events)) << "the run on A kept streaming:\n"
                                              << Describe(events);
  EXPECT_EQ(cb.Get("/threads/" + thread_id).status, 404);
  for (const char* table : {"runs", "checkpoints"}) {
    auto left = Psql(cluster_.dsn, std::string("SELECT count(*) FROM ") + table +
                                       " WHERE thread_id = '" + thread_id + "'");
    ASSERT_TRUE(left.has_value());
    EXPECT_EQ(left->substr(0, left->find('\n')), "0") << table;
  }
}

// A run's log exists in Redis only from its first appended event, so another instance finds no
// log for a run that is recorded but has not started (here: enqueued behind a slow run). The
// join stream waits (bounded) for the log of a run that is still active instead of answering
// `error: Run not found`.
TEST_F(ClusterStreamTest, StreamOnAnotherInstanceBeforeTheFirstEvent) {
  Instance& a = cluster_[0];
  Instance& b = cluster_[1];
  const std::string thread_id = CreateThread(a.port());
  ASSERT_FALSE(thread_id.empty());
  HttpClient ca(a.port(), "127.0.0.1", 30s);
  auto first = ca.Post("/threads/" + thread_id + "/runs", RunBody("delay=3000 first"));
  ASSERT_EQ(first.status, 200) << first.body;
  auto second = ca.Post("/threads/" + thread_id + "/runs", RunBody("second", "enqueue"));
  ASSERT_EQ(second.status, 200) << second.body;
  const std::string run_id = Str(ParseJson(second.body), "run_id");
  ASSERT_EQ(RunStatus(b.port(), thread_id, run_id), "pending");
  SseReader on_b(b.port(), "/threads/" + thread_id + "/runs/" + run_id + "/stream");
  std::vector<SseEvent> events;
  ASSERT_TRUE(on_b.ReadToEnd(60s, &events));
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.front().event, "metadata") << Describe(events);
  EXPECT_EQ(events.back().event, "values") << Describe(events);
}

// ------------------------------------------------------------------------------ multitask

class ClusterMultitaskTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto services = ServicesFromEnv();
    if (!services) return;
    cluster_ = new Cluster();
    std::string why;
    if (!cluster_->Start(*services, "agentd_cluster_multitask", 3, &why)) {
      start_error_ = new std::string(why);
    }
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
    delete start_error_;
    start_error_ = nullptr;
  }
  void SetUp() override {
    if (cluster_ == nullptr) {
      GTEST_SKIP() << "AGENTD_TEST_PG_DSN / AGENTD_TEST_REDIS_URL not set: run under "
                      "tests/harness/with-services --pg --redis";
    }
    ASSERT_EQ(start_error_, nullptr) << *start_error_;
  }
  void TearDown() override {
    if (HasFailure() && cluster_ != nullptr) std::cerr << cluster_->Logs();
  }

  struct Answer {
    int status = 0;
    std::string run_id;
    std::string body;
  };

  // kRuns creations on one thread at once, round-robin over A/B/C.
  static constexpr int kRuns = 200;
  std::vector<Answer> CreateConcurrently(const std::string& thread_id, const std::string& strategy,
                                         const std::string& delay_prefix) {
    std::vector<Answer> answers(kRuns);
    std::latch go(kRuns);
    std::vector<std::thread> clients;
    for (int i = 0; i < kRuns; ++i) {
      clients.emplace_back([&, i] {
        Instance& node = (*cluster_)[static_cast<std::size_t>(i % 3)];
        std::string body = RunBody(delay_prefix + "n" + std::to_string(i), strategy);
        go.arrive_and_wait();
        try {
          HttpClient client(node.port(), "127.0.0.1", 120s);
          auto r = client.Post("/threads/" + thread_id + "/runs", body);
          answers[i].status = r.status;
          answers[i].body = r.body;
          if (r.status == 200) answers[i].run_id = Str(ParseJson(r.body), "run_id");
        } catch (const std::exception& e) {
          answers[i].status = -1;
          answers[i].body = e.what();
        }
      });
    }
    for (auto& t : clients) t.join();
    return answers;
  }

  // The thread's runs (any instance answers from the shared database).
  static json::array ListRuns(const std::string& thread_id) {
    try {
      HttpClient c((*cluster_)[0].port(), "127.0.0.1", 30s);
      auto r = c.Get("/threads/" + thread_id + "/runs?limit=1000");
      auto v = ParseJson(r.body);
      if (r.status == 200 && v.is_array()) return v.as_array();
    } catch (const std::exception&) {
    }
    return {};
  }

  // Polls until no run of the thread is pending or running and `done` holds; checks on every
  // look that at most one run is running.
  bool WaitSettled(const std::string& thread_id, std::chrono::seconds bound,
                   const std::function<bool(const json::array&)>& done, json::array* last,
                   int* max_running) {
    return WaitUntil(bound, [&] {
      *last = ListRuns(thread_id);
      int running = 0;
      bool active = false;
      for (const auto& r : *last) {
        std::string s = Str(r, "status");
        if (s == "running") ++running;
        if (s == "running" || s == "pending") active = true;
      }
      *max_running = std::max(*max_running, running);
      return !last->empty() && !active && done(*last);
    });
  }

  static std::string ThreadStatus(const std::string& thread_id) {
    try {
      HttpClient c((*cluster_)[1].port(), "127.0.0.1", 30s);
      return Str(ParseJson(c.Get("/threads/" + thread_id).body), "status");
    } catch (const std::exception&) {
      return "";
    }
  }

  static Cluster* cluster_;
  static std::string* start_error_;
};

Cluster* ClusterMultitaskTest::cluster_ = nullptr;
std::string* ClusterMultitaskTest::start_error_ = nullptr;

TEST_F(ClusterMultitaskTest, EnqueueRunsAllTwoHundredOneAtATimeInOrder) {
  const std::string thread_id = CreateThread((*cluster_)[0].port());
  ASSERT_FALSE(thread_id.empty());
  auto answers = CreateConcurrently(thread_id, "enqueue", "");
  for (int i = 0; i < kRuns; ++i) {
    ASSERT_EQ(answers[i].status, 200) << "request " << i << ": " << answers[i].body;
  }
  json::array runs;
  int max_running = 0;
  ASSERT_TRUE(WaitSettled(thread_id, 240s, [](const json::array& l) { return l.size() == kRuns; },
                          &runs, &max_running))
      << runs.size() << " runs listed";
  EXPECT_LE(max_running, 1);
  for (const auto& r : runs) EXPECT_EQ(Str(r, "status"), "success") << json::serialize(r);

  // Serialized execution leaves every human/AI pair adjacent and nothing lost: two runs that
  // overlapped would have started from the same checkpoint and dropped a pair.
  HttpClient c((*cluster_)[2].port(), "127.0.0.1", 30s);
  auto state = ParseJson(c.Get("/threads/" + thread_id + "/state").body);
  ASSERT_TRUE(state.is_object());
  const auto& messages = state.at("values").at("messages").as_array();
  ASSERT_EQ(messages.size(), 2u * kRuns);
  std::set<std::string> contents;
  for (std::size_t i = 0; i + 1 < messages.size(); i += 2) {
    std::string human = Str(messages[i], "content");
    EXPECT_EQ(Str(messages[i + 1], "content"), "echo: " + human) << "pair at " << i;
    contents.insert(human);
  }
  EXPECT_EQ(contents.size(), static_cast<std::size_t>(kRuns));
  EXPECT_EQ(ThreadStatus(thread_id), "idle");
}

TEST_F(ClusterMultitaskTest, RejectAdmitsOnlyWhenIdleAndTheCountsAddUp) {
  const std::string thread_id = CreateThread((*cluster_)[0].port());
  ASSERT_FALSE(thread_id.empty());
  auto answers = CreateConcurrently(thread_id, "reject", "delay=1000 ");
  std::set<std::string> accepted;
  int busy = 0;
  for (int i = 0; i < kRuns; ++i) {
    if (answers[i].status == 200) {
      accepted.insert(answers[i].run_id);
    } else {
      ASSERT_EQ(answers[i].status, 422) << "request " << i << ": " << answers[i].body;
      EXPECT_NE(answers[i].body.find(kBusyText), std::string::npos) << answers[i].body;
      ++busy;
    }
  }
  EXPECT_GE(accepted.size(), 1u);
  EXPECT_EQ(accepted.size() + static_cast<std::size_t>(busy), static_cast<std::size_t>(kRuns));
  json::array runs;
  int max_running = 0;
  ASSERT_TRUE(WaitSettled(thread_id, 120s, [](const json::array&) { return true; }, &runs,
                          &max_running));
  EXPECT_LE(max_running, 1);
  ASSERT_EQ(runs.size(), accepted.size());
  for (const auto& r : runs) {
    EXPECT_TRUE(accepted.count(Str(r, "run_id"))) << json::serialize(r);
    EXPECT_EQ(Str(r, "status"), "success") << json::serialize(r);
  }
  EXPECT_EQ(ThreadStatus(thread_id), "idle");
  std::cerr << "reject: " << accepted.size() << " accepted, " << busy << " refused busy\n";
}

// interrupt / rollback: every request is admitted; each cancels the ones before it, so exactly
// one run (the last admitted) ends success. (A second suite: it gets its own fresh cluster.)
class ClusterCancellingStrategyTest : public ClusterMultitaskTest,
                                      public ::testing::WithParamInterface<std::string> {};

TEST_P(ClusterCancellingStrategyTest, OnlyTheLastAdmittedRunSucceeds) {
  const std::string strategy = GetParam();
  const bool rollback = strategy == "rollback";
  const std::string thread_id = CreateThread((*cluster_)[0].port());
  ASSERT_FALSE(thread_id.empty());
  // Long runs, so that every request finds the one before it still active.
  auto answers = CreateConcurrently(thread_id, strategy, "delay=10000 ");
  // Every request is answered: admitted, or refused 503 when the instance's storage pool stays
  // exhausted past its acquire timeout (200 writers on one thread row; see the report). A
  // refused request must leave nothing behind (checked below: every listed run was admitted).
  std::set<std::string> admitted;
  int refused = 0;
  for (int i = 0; i < kRuns; ++i) {
    if (answers[i].status == 503) {
      EXPECT_NE(answers[i].body.find("storage pool exhausted"), std::string::npos)
          << answers[i].body;
      ++refused;
      continue;
    }
    ASSERT_EQ(answers[i].status, 200) << "request " << i << ": " << answers[i].body;
    admitted.insert(answers[i].run_id);
  }
  std::cerr << strategy << ": " << admitted.size() << " admitted, " << refused
            << " refused 503 (storage pool exhausted)\n";
  const int kAdmitted = static_cast<int>(admitted.size());
  ASSERT_GE(kAdmitted, 1);
  json::array runs;
  int max_running = 0;
  auto done = [&](const json::array& l) {
    return rollback ? l.size() == 1 : l.size() >= static_cast<std::size_t>(kAdmitted);
  };
  ASSERT_TRUE(WaitSettled(thread_id, 180s, done, &runs, &max_running))
      << runs.size() << " runs listed: " << json::serialize(runs).substr(0, 2000);
  EXPECT_LE(max_running, 1);
  int success = 0;
  int interrupted = 0;
  std::string winner;
  std::string newest;
  std::string newest_id;
  for (const auto& r : runs) {
    std::string s = Str(r, "status");
    EXPECT_TRUE(admitted.count(Str(r, "run_id")));
    if (s == "success") {
      ++success;
      winner = Str(r, "run_id");
    } else if (s == "interrupted") {
      ++interrupted;
    } else {
      ADD_FAILURE() << json::serialize(r);
    }
    // created_at is stamped under the thread's row lock: the largest is the last admitted.
    std::string created = Str(r, "created_at");
    if (created > newest) {
      newest = created;
      newest_id = Str(r, "run_id");
    }
  }
  EXPECT_EQ(success, 1);
  EXPECT_EQ(interrupted, rollback ? 0 : kAdmitted - 1);
  if (!rollback) {
    // Ties within one millisecond are possible; the winner is at least as new as any other.
    std::string winner_created;
    for (const auto& r : runs) {
      if (Str(r, "run_id") == winner) winner_created = Str(r, "created_at");
    }
    EXPECT_EQ(winner_created, newest) << "winner " << winner << ", newest " << newest_id;
  } else {
    // The others are gone: GET answers 404 on any instance.
    int gone = 0;
    for (const auto& id : admitted) {
      if (id == winner) continue;
      if (RunStatus((*cluster_)[gone % 3].port(), thread_id, id) == "404") ++gone;
    }
    EXPECT_EQ(gone, kAdmitted - 1);
  }
  EXPECT_EQ(ThreadStatus(thread_id), "idle");
}

INSTANTIATE_TEST_SUITE_P(Strategies, ClusterCancellingStrategyTest,
                         ::testing::Values("interrupt", "rollback"));

}  // namespace
}  // namespace agentd::cluster_test
