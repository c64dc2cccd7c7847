// Crash safety on embedded SQLite: `agentd serve` runs as a child process, gets ~100 slow
// background runs, is killed with SIGKILL mid-flight, restarted on the same data dir, and
// every run must still end `success` with its full output; a stream join by run id works.
// The binary comes from AGENTD_BINARY ($<TARGET_FILE:agentd>). Children are always killed by
// pid (RAII), every wait is bounded.

#include <chrono>
#include <csignal>
#include <string>
#include <thread>
#include <vector>

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "support/http_client.hpp"
#include "support/temp_dir.hpp"

namespace agentd {
namespace {

namespace json = boost::json;
using testing::HttpClient;
using namespace std::chrono_literals;

// A loopback port that was free a moment ago (the child binds it right after).
std::uint16_t FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

class Child {
 public:
  Child(const std::string& data_dir, std::uint16_t port) : port_(port) {
    std::vector<std::string> args{AGENTD_BINARY, "serve", "--storage", "sqlite", "--data-dir",
                                  data_dir, "--port", std::to_string(port), "--threads", "2",
                                  "--max-active-runs", "40", "--max-queued-runs", "1000",
                                  "--queue-timeout-ms", "120000", "--log-level", "warn"};
    pid_ = ::fork();
    if (pid_ == 0) {
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
  }
  ~Child() { Kill(SIGKILL); }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  // Waits (bounded) until the server answers /ok.
  bool WaitReady(std::chrono::seconds bound) {
    auto deadline = std::chrono::steady_clock::now() + bound;
    while (std::chrono::steady_clock::now() < deadline) {
      try {
        HttpClient c(port_, "127.0.0.1", 1s);
        if (c.Get("/ok").status == 200) return true;
      } catch (const std::exception&) {
      }
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  void Kill(int signal) {
    if (pid_ <= 0) return;
    ::kill(pid_, signal);
    // Bounded reap: SIGKILL ends it at once; anything else gets 20 s, then SIGKILL.
    for (int i = 0; i < 400; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(50ms);
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  std::uint16_t port_;
};

std::string RunBody(int i) {
  return R"({"assistant_id":"agent","input":{"messages":[{"role":"user","content":"delay=3000 n)" +
         std::to_string(i) + R"("}]}})";
}

TEST(CrashRecovery, KilledServerResumesEveryRunAfterRestart) {
  testing::TempDir dir;
  const std::string data_dir = dir.path().string();
  constexpr int kRuns = 100;
  struct Created {
    std::string thread_id;
    std::string run_id;
  };
  std::vector<Created> created;
  {
    std::uint16_t port = FreePort();
    Child server(data_dir, port);
    ASSERT_TRUE(server.WaitReady(20s));
    HttpClient c(port, "127.0.0.1", 10s);
    for (int i = 0; i < kRuns; ++i) {
      auto thread = c.Post("/threads", "{}");
      ASSERT_EQ(thread.status, 200) << thread.body;
      std::string thread_id(json::parse(thread.body).at("thread_id").as_string());
      auto run = c.Post("/threads/" + thread_id + "/runs", RunBody(i));
      ASSERT_EQ(run.status, 200) << run.body;
      created.push_back({thread_id, std::string(json::parse(run.body).at("run_id").as_string())});
    }
    // Kill it mid-run: wait (bounded) until the first run is executing, so some runs have
    // checkpoints written and the rest wait for a slot.
    const auto& first = created.front();
    std::string status;
    for (auto deadline = std::chrono::steady_clock::now() + 20s;
         status != "running" && std::chrono::steady_clock::now() < deadline;) {
      auto got = c.Get("/threads/" + first.thread_id + "/runs/" + first.run_id);
      status = std::string(json::parse(got.body).at("status").as_string());
    }
    ASSERT_EQ(status, "running");
    server.Kill(SIGKILL);
  }

  std::uint16_t port = FreePort();
  Child server(data_dir, port);
  ASSERT_TRUE(server.WaitReady(20s));
  HttpClient c(port, "127.0.0.1", 60s);
  // Join the newest run's stream from the beginning: it was resumed, so its log says attempt 2.
  auto stream = c.Send("GET",
                       "/threads/" + created.back().thread_id + "/runs/" + created.back().run_id +
                           "/stream",
                       {}, {{"Last-Event-ID", "-1"}});
  EXPECT_EQ(stream.status, 200);
  EXPECT_NE(stream.body.find("\"attempt\":2"), std::string::npos) << stream.body;
  EXPECT_NE(stream.body.find("echo: delay=3000 n" + std::to_string(kRuns - 1)), std::string::npos)
      << stream.body;

  for (int i = 0; i < kRuns; ++i) {
    const auto& [thread_id, run_id] = created[i];
    auto joined = c.Get("/threads/" + thread_id + "/runs/" + run_id + "/join");
    ASSERT_EQ(joined.status, 200) << "run " << i;
    auto body = json::parse(joined.body);
    const auto& messages = body.at("messages").as_array();
    ASSERT_EQ(messages.size(), 2u) << "run " << i << ": " << joined.body;
    EXPECT_EQ(json::value_to<std::string>(messages.back().at("content")),
              "echo: delay=3000 n" + std::to_string(i));
    auto run = json::parse(c.Get("/threads/" + thread_id + "/runs/" + run_id).body);
    EXPECT_EQ(run.at("status"), "success") << "run " << i;
  }
  server.Kill(SIGTERM);
}

}  // namespace
}  // namespace agentd
