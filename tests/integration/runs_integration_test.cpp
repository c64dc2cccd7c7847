// Runs over the whole server (Application in-process, port 0, loopback): whole SSE streams
// compared byte for byte (volatile ids masked), joins by Last-Event-ID, the /wait keep-alive,
// cancel, stateless runs and a webhook received by an in-test http::Server.

#include <chrono>
#include <algorithm>
#include <condition_variable>
#include <latch>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "agentd/application.hpp"
#include "config/loader.hpp"
#include "http/event_loops.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "observe/metrics.hpp"
#include "support/http_client.hpp"

namespace agentd {
namespace {

namespace json = boost::json;
using testing::HttpClient;
using testing::HttpResult;

config::Config MakeConfig() {
  config::Environment env;
  env.cores = 2;
  env.fd_limit = 4096;
  // A short drain grace keeps teardown with live runs quick (Stop waits up to it).
  std::vector<std::string> args{"--storage", "memory", "--port", "0", "--threads", "2",
                                "--shutdown-grace-ms", "1000"};
  auto loaded = config::LoadConfig(args, env);
  if (!loaded) throw std::runtime_error(loaded.error().message);
  return *loaded;
}

// Replaces the ids that change from run to run with stable names.
std::string Mask(std::string text, const std::string& run_id, const std::string& thread_id) {
  auto replace_all = [&](const std::string& from, const std::string& to) {
    if (from.empty()) return;
    for (auto pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos + to.size())) {
      text.replace(pos, from.size(), to);
    }
  };
  replace_all(run_id, "<run>");
  replace_all(thread_id, "<thread>");
  static const std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
  static const std::regex chatcmpl("chatcmpl-[0-9a-zA-Z]+");
  static const std::regex call("\\bcall_[0-9a-zA-Z]+");
  text = std::regex_replace(text, uuid, "<uuid>");
  text = std::regex_replace(text, chatcmpl, "<chatcmpl>");
  static const std::regex timestamp("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(Z|[+-][0-9:]+)");
  text = std::regex_replace(text, call, "<call>");
  text = std::regex_replace(text, timestamp, "<ts>");
  return text;
}

// "<id> <event>" per SSE event, in order.
std::vector<std::string> Skeleton(const std::string& body) {
  std::vector<std::string> out;
  std::string event;
  std::size_t pos = 0;
  while (pos < body.size()) {
    auto end = body.find('\n', pos);
    if (end == std::string::npos) end = body.size();
    std::string line = body.substr(pos, end - pos);
    if (line.rfind("event: ", 0) == 0) event = line.substr(7);
    if (line.rfind("id: ", 0) == 0) out.push_back(line.substr(4) + " " + event);
    pos = end + 1;
  }
  return out;
}

std::string RunIdFrom(const HttpResult& r) {
  auto loc = r.Header("content-location").value_or("");
  return loc.substr(loc.rfind('/') + 1);
}

class RunsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = MakeConfig();
    app_ = std::make_unique<app::Application>(config_);
    auto port = app_->Start();
    ASSERT_TRUE(port.has_value()) << port.error().message;
    port_ = *port;
    client_ = std::make_unique<HttpClient>(port_, "127.0.0.1", std::chrono::seconds(20));
    thread_id_ = json::parse(client_->Post("/threads", "{}").body).at("thread_id").as_string().c_str();
  }
  void TearDown() override {
    client_.reset();
    if (app_) app_->Stop();
  }
  std::string Stream(const std::string& body, HttpResult* out = nullptr) {
    auto r = client_->Post("/threads/" + thread_id_ + "/runs/stream", body);
    EXPECT_EQ(r.status, 200);
    if (out) *out = r;
    return Mask(r.body, RunIdFrom(r), thread_id_);
  }

  config::Config config_;
  std::unique_ptr<app::Application> app_;
  std::uint16_t port_ = 0;
  std::unique_ptr<HttpClient> client_;
  std::string thread_id_;
};

// Golden streams live in runs_golden/ (checked by eye against agent-protocol.md 4.3 and 7.4).
// AGENTD_UPDATE_GOLDEN=1 rewrites them from the current output.
std::string Golden(const std::string& name, const std::string& actual) {
  std::string path = std::string(AGENTD_RUNS_GOLDEN_DIR) + "/" + name;
  if (std::getenv("AGENTD_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path, std::ios::binary) << actual;
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST_F(RunsTest, PlainTurnStreamsValuesUpdatesAndMessageTuplesInOrder) {
  HttpResult raw;
  std::string body = Stream(
      R"({"assistant_id":"agent","input":{"messages":[{"role":"user","content":"hi"}]},)"
      R"("stream_mode":["values","updates","messages-tuple"]})", &raw);
  EXPECT_EQ(body, Golden("plain_turn.sse", body));
  EXPECT_EQ(raw.Header("content-type"), "text/event-stream");
  EXPECT_EQ(raw.Header("cache-control"), "no-cache");
  EXPECT_EQ(raw.Header("x-accel-buffering"), "no");
  std::string path = "/threads/" + thread_id_ + "/runs/" + RunIdFrom(raw);
  EXPECT_EQ(raw.Header("content-location"), path);
  EXPECT_EQ(raw.Header("location"), path + "/stream");
}

TEST_F(RunsTest, ToolLoopStreamsUpdatesAndMessagesOfEveryStep) {
  std::string body = Stream(
      R"({"assistant_id":"agent","input":{"messages":[{"role":"user","content":"weather?"}]},)"
      R"("stream_mode":["updates","messages-tuple"]})");
  EXPECT_EQ(body, Golden("tool_loop.sse", body));
}

TEST_F(RunsTest, ToolLoopWithEveryStreamModeAtOnce) {
  std::string body = Stream(
      R"({"assistant_id":"agent","input":{"messages":[{"role":"user","content":"weather?"}]},)"
      R"("stream_mode":["values","updates","messages-tuple","messages","custom","events","debug",)"
      R"("tasks","checkpoints"]})");
  EXPECT_EQ(body, Golden("tool_loop_all_modes.sse", body));
}

TEST_F(RunsTest, EveryStreamModeEmitsOnlyItsOwnEvents) {
  const std::vector<std::pair<std::string, std::string>> modes = {
      {"values", "values"},           {"updates", "updates"},  {"messages-tuple", "messages"},
      {"custom", "custom"},           {"events", "events"},    {"debug", "debug"},
      {"tasks", "tasks"},             {"checkpoints", "checkpoints"}};
  for (const auto& [mode, event] : modes) {
    auto r = client_->Post("/threads/" + thread_id_ + "/runs/stream",
                           R"({"assistant_id":"agent","input":{"messages":[{"role":"user","content":"hi"}]},"stream_mode":")" +
                               mode + R"("})");
    ASSERT_EQ(r.status, 200) << mode;
    auto skeleton = Skeleton(r.body);
    ASSERT_FALSE(skeleton.empty()) << mode;
    EXPECT_EQ(skeleton[0], "0 metadata") << mode;
    for (std::size_t i = 1; i < skeleton.size(); ++i) {
      EXPECT_EQ(skeleton[i], std::to_string(i) + " " + event) << mode << "\n" << r.body;
    }
  }
  // Legacy messages mode uses its own event names.
  auto legacy = client_->Post("/threads/" + thread_id_ + "/runs/stream",
                              R"({"assistant_id":"agent","input":{"messages":[{"role":"user","content":"hi"}]},"stream_mode":"messages"})");
  for (const auto& line : Skeleton(legacy.body)) {
    if (line == "0 metadata") continue;
    EXPECT_NE(line.find(" messages/"), std::string::npos) << line;
  }
}

TEST_F(RunsTest, JoinReplaysTheLogFromLastEventId) {
  auto created = client_->Post("/threads/" + thread_id_ + "/runs",
                               R"({"assistant_id":"agent","input":{"messages":[{"role":"user","content":"hi"}]},"stream_mode":["values","updates"]})");
  ASSERT_EQ(created.status, 200);
  std::string run_id = json::parse(created.body).at("run_id").as_string().c_str();
  EXPECT_EQ(created.Header("content-location"), "/threads/" + thread_id_ + "/runs/" + run_id);
  std::string base = "/threads/" + thread_id_ + "/runs/" + run_id;
  auto joined = client_->Get(base + "/join");
  ASSERT_EQ(joined.status, 200);
  EXPECT_EQ(json::parse(joined.body).at("messages").as_array().size(), 2u);

  auto full = client_->Send("GET", base + "/stream", {}, {{"Last-Event-ID", "-1"}});
  EXPECT_EQ(Skeleton(full.body),
            (std::vector<std::string>{"0 metadata", "1 values", "2 updates", "3 values"}));
  auto plain = client_->Get(base + "/stream");  // not resumable: replay from the start
  EXPECT_EQ(plain.body, full.body);
  auto after = client_->Send("GET", base + "/stream", {}, {{"Last-Event-ID", "1"}});
  EXPECT_EQ(Skeleton(after.body), (std::vector<std::string>{"2 updates", "3 values"}));
  EXPECT_EQ(after.body, full.body.substr(full.body.find("event: updates")));

  auto unknown = client_->Get("/threads/" + thread_id_ + "/runs/" +
                              "01a208ff-eb78-7000-90d6-e85f724a73c9/stream");
  EXPECT_EQ(unknown.status, 200);
  EXPECT_EQ(unknown.body,
            "event: error\ndata: {\"error\":\"NotFoundError\",\"message\":\"Run not found\"}\n\n");
}

TEST_F(RunsTest, WaitSendsKeepAliveNewlinesThenTheFinalValues) {
  auto r = client_->Post("/threads/" + thread_id_ + "/runs/wait",
                         R"({"assistant_id":"agent","input":{"messages":[{"role":"user","content":"delay=5300 hi"}]}})");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("content-type"), "application/json");
  ASSERT_GE(r.body.size(), 2u);
  EXPECT_EQ(r.body.front(), '\n');
  auto body = json::parse(r.body);  // leading whitespace is valid JSON
  EXPECT_EQ(body.at("messages").as_array().back().at("content"), "echo: delay=5300 hi");
}

TEST_F(RunsTest, FinishedRunRecordsItsTokenUsage) {
  auto r = client_->Post("/threads/" + thread_id_ + "/runs/wait",
                         R"({"assistant_id":"agent","input":{"messages":[{"role":"user","content":"count my tokens"}]}})");
  ASSERT_EQ(r.status, 200);
  const std::string run_id = RunIdFrom(r);
  ASSERT_FALSE(run_id.empty());
  auto got = client_->Get("/threads/" + thread_id_ + "/runs/" + run_id);
  ASSERT_EQ(got.status, 200);
  auto run = json::parse(got.body);
  EXPECT_EQ(run.at("status"), "success");
  const auto& usage = run.at("usage").as_object();
  const auto input = usage.at("input_tokens").as_int64();
  const auto output = usage.at("output_tokens").as_int64();
  EXPECT_GT(input, 0);
  EXPECT_GT(output, 0);
  EXPECT_EQ(usage.at("total_tokens").as_int64(), input + output);
  // The list shows the same record.
  auto list = json::parse(client_->Get("/threads/" + thread_id_ + "/runs").body);
  ASSERT_EQ(list.as_array().size(), 1u);
  EXPECT_EQ(list.as_array()[0].at("usage"), run.at("usage"));
}

TEST_F(RunsTest, CancelStopsARunningRunAndReleasesTheThread) {
  auto created = client_->Post("/threads/" + thread_id_ + "/runs",
                               R"({"assistant_id":"agent","input":{"messages":[{"role":"user","content":"delay=5000 hi"}]}})");
  std::string run_id = json::parse(created.body).at("run_id").as_string().c_str();
  std::string base = "/threads/" + thread_id_ + "/runs/" + run_id;
  auto busy = client_->Post("/threads/" + thread_id_ + "/runs", R"({"assistant_id":"agent"})");
  EXPECT_EQ(busy.status, 422);
  EXPECT_EQ(json::parse(busy.body).at("detail"),
            "Thread is already running a task. Wait for it to finish or choose a different "
            "multitask strategy.");
  auto cancelled = client_->Post(base + "/cancel?wait=1&action=interrupt", "");
  EXPECT_EQ(cancelled.status, 204);
  EXPECT_EQ(json::parse(client_->Get(base).body).at("status"), "interrupted");
  EXPECT_EQ(json::parse(client_->Get("/threads/" + thread_id_).body).at("status"), "idle");
  // Finished: a no-op. Unknown: 404.
  EXPECT_EQ(client_->Post(base + "/cancel?wait=1", "").status, 204);
  EXPECT_EQ(client_->Post("/threads/" + thread_id_ + "/runs/01a208ff-eb78-7000-90d6-e85f724a73c9/cancel", "").status, 404);
  auto list = json::parse(client_->Get("/threads/" + thread_id_ + "/runs").body);
  ASSERT_EQ(list.as_array().size(), 1u);
}

TEST_F(RunsTest, StatelessRunsUseAThrowawayThread) {
  auto r = client_->Post("/runs/wait",
                         R"({"assistant_id":"agent","input":{"messages":[{"role":"user","content":"yo"}]}})");
  ASSERT_EQ(r.status, 200);
  auto loc = r.Header("content-location").value_or("");
  EXPECT_EQ(loc.rfind("/runs/", 0), 0u) << loc;
  EXPECT_EQ(json::parse(r.body).at("messages").as_array().back().at("content"), "echo: yo");

  auto kept = client_->Post("/runs",
                            R"({"assistant_id":"agent","on_completion":"keep","input":{"messages":[{"role":"user","content":"k"}]}})");
  ASSERT_EQ(kept.status, 200);
  auto run = json::parse(kept.body);
  std::string thread = run.at("thread_id").as_string().c_str();
  std::string run_id = run.at("run_id").as_string().c_str();
  EXPECT_EQ(kept.Header("content-location"), "/runs/" + run_id);
  client_->Get("/threads/" + thread + "/runs/" + run_id + "/join");
  EXPECT_EQ(client_->Get("/threads/" + thread).status, 200);

  auto temp = client_->Post("/runs",
                            R"({"assistant_id":"agent","input":{"messages":[{"role":"user","content":"t"}]}})");
  auto temp_run = json::parse(temp.body);
  std::string temp_thread = temp_run.at("thread_id").as_string().c_str();
  auto stream = client_->Get("/runs/" + std::string(temp_run.at("run_id").as_string().c_str()) + "/stream");
  EXPECT_EQ(Skeleton(stream.body).front(), "0 metadata");
  EXPECT_EQ(client_->Get("/threads/" + temp_thread).status, 404);

  auto batch = client_->Post("/runs/batch", R"([{"assistant_id":"agent"},{"assistant_id":"echo"}])");
  ASSERT_EQ(batch.status, 200);
  EXPECT_EQ(json::parse(batch.body).as_array().size(), 2u);
  EXPECT_EQ(client_->Post("/runs/batch", R"([{"assistant_id":"agent"},{"assistant_id":7}])").status, 400);
}

TEST_F(RunsTest, WebhookReceivesTheFinalRun) {
  // An in-test receiver.
  std::mutex mu;
  std::condition_variable cv;
  std::string received;
  http::Router router;
  router.Add(http::Method::kPost, "/hook", [&](http::Request& req) -> boost::asio::awaitable<http::Response> {
    {
      std::lock_guard lock(mu);
      received = req.body;
    }
    cv.notify_all();
    co_return http::Response::Empty(204);
  });
  observe::Metrics metrics;
  http::EventLoops loops(1);
  loops.Start();
  http::ServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  http::Server receiver(options, loops, router, metrics);
  auto port = receiver.Start();
  ASSERT_TRUE(port);
  std::string body = R"({"assistant_id":"agent","input":{"messages":[{"role":"user","content":"hook"}]},"webhook":"http://127.0.0.1:)" +
                     std::to_string(*port) + R"(/hook"})";
  auto r = client_->Post("/threads/" + thread_id_ + "/runs/wait", body);
  ASSERT_EQ(r.status, 200);
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return !received.empty(); }));
  auto hook = json::parse(received);
  EXPECT_EQ(hook.at("status"), "success");
  EXPECT_EQ(hook.at("thread_id").as_string(), thread_id_);
  EXPECT_TRUE(hook.as_object().contains("run_started_at"));
  EXPECT_TRUE(hook.as_object().contains("run_ended_at"));
  EXPECT_TRUE(hook.as_object().contains("webhook_sent_at"));
  EXPECT_EQ(hook.at("values").at("messages").as_array().back().at("content"), "echo: hook");
  EXPECT_GT(hook.at("usage").at("total_tokens").as_int64(), 0);
  lock.unlock();
  receiver.Stop();
  loops.Stop();
}

// Opens a raw connection, sends `request`, reads until the response head arrived, then closes
// the socket: a client that goes away mid-stream.
void SendAndHangUp(std::uint16_t port, const std::string& request) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::send(fd, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
  std::string got;
  char buf[4096];
  while (got.find("\r\n\r\n") == std::string::npos) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    ASSERT_GT(n, 0);
    got.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
}

TEST_F(RunsTest, StreamWithOnDisconnectCancelStopsTheRunWhenTheClientLeaves) {
  std::string body =
      R"({"assistant_id":"agent","on_disconnect":"cancel","stream_mode":["messages-tuple"],)"
      R"("input":{"messages":[{"role":"user","content":"delay=4000 bye"}]}})";
  std::string request = "POST /threads/" + thread_id_ + "/runs/stream HTTP/1.1\r\nHost: x\r\n"
                        "Content-Type: application/json\r\nContent-Length: " +
                        std::to_string(body.size()) + "\r\n\r\n" + body;
  SendAndHangUp(port_, request);
  // The run notices on its next write and is cancelled; bounded poll of the stored status.
  std::string status;
  for (int i = 0; i < 100; ++i) {
    auto runs = json::parse(client_->Get("/threads/" + thread_id_ + "/runs").body).as_array();
    ASSERT_EQ(runs.size(), 1u);
    status = runs[0].at("status").as_string().c_str();
    if (status != "pending" && status != "running") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(status, "interrupted");
}

TEST_F(RunsTest, ConcurrentRejectRunsOnOneThreadAdmitExactlyOne) {
  constexpr int kClients = 20;
  std::vector<int> statuses(kClients);
  std::vector<std::thread> threads;
  std::latch ready(kClients);
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      HttpClient client(port_);
      ready.arrive_and_wait();
      statuses[i] = client.Post("/threads/" + thread_id_ + "/runs",
                                R"({"assistant_id":"agent","input":{"messages":[{"role":"user","content":"delay=1500 x"}]}})")
                        .status;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 200), 1);
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 422), kClients - 1);
}

TEST_F(RunsTest, DeletingAThreadCancelsItsActiveRun) {
  auto created = client_->Post("/threads/" + thread_id_ + "/runs",
                               R"({"assistant_id":"agent","input":{"messages":[{"role":"user","content":"delay=30000 long"}]}})");
  ASSERT_EQ(created.status, 200);
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(client_->Send("DELETE", "/threads/" + thread_id_).status, 204);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(client_->Get("/threads/" + thread_id_).status, 404);
  // The thread id is free again: a new thread with it takes a run at once.
  EXPECT_EQ(client_->Post("/threads", R"({"thread_id":")" + thread_id_ + R"("})").status, 200);
  auto again = client_->Post("/threads/" + thread_id_ + "/runs/wait",
                             R"({"assistant_id":"agent","input":{"messages":[{"role":"user","content":"new"}]}})");
  EXPECT_EQ(again.status, 200);
}

// Stop drains: a run still executing when the grace period ends is left for the next start to
// resume (crash_recovery_test covers the resume), so Stop returns about one grace later.
TEST_F(RunsTest, StopWaitsNoLongerThanTheGracePeriodForActiveRuns) {
  auto created = client_->Post("/threads/" + thread_id_ + "/runs",
                               R"({"assistant_id":"agent","input":{"messages":[{"role":"user","content":"delay=30000 long"}]}})");
  ASSERT_EQ(created.status, 200);
  auto start = std::chrono::steady_clock::now();
  client_.reset();
  app_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  app_.reset();
}

}  // namespace
}  // namespace agentd
