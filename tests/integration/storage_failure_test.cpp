// The real binary on SQLite when its disk fills up or its data directory is deleted
// (docs/operations.md, "Full disk" and "Deleted data directory").
//
// FullDiskEndsTheRunOnceAndNeverRunsItAgain: `agentd serve --data-dir` on an 8 MiB tmpfs
// (mounted here; root only, skipped otherwise); a weather turn whose second model call is slow
// executes; the test fills the disk while it waits; the run must end `error` with the reason,
// its thread released, /ready failing; once space is freed /ready recovers; a later turn runs;
// after a restart the failed run is not executed again (the thread's messages, one tool call).
//
// DeletedDataDirFailsReadinessAndRefusesWrites: the data directory removed under a running
// server: /ready fails naming it, writes get 503 with Retry-After, the log says so.
//
// The server is a testing::AgentdChild (port 0, killed by its pid); every wait is bounded.

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <functional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "support/http_client.hpp"
#include "agentd_child.hpp"
#include "support/temp_dir.hpp"

namespace agentd {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using testing::HttpClient;
using testing::HttpResult;
using namespace std::chrono_literals;

// Polls `done` until it holds or `bound` passes.
bool WaitUntil(const std::function<bool()>& done, std::chrono::seconds bound) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(50ms);
  }
  return true;
}

// `agentd serve` on SQLite in `data_dir` (port 0), its output in `log_path` (testing::AgentdChild).
class Server {
 public:
  Server(const std::string& data_dir, const std::string& log_path)
      : child_({AGENTD_BINARY, "serve", "--storage", "sqlite", "--data-dir", data_dir, "--port", "0",
                "--threads", "2", "--log-level", "info"},
               {}, log_path) {}

  // Until it listens (its port is then known), at most `bound`.
  bool WaitReady(std::chrono::seconds bound) {
    port_ = child_.WaitListening(bound).value_or(0);
    return port_ != 0;
  }
  std::uint16_t port() const { return port_; }
  // Signals the child and reaps it (bounded: SIGKILL after 20 s).
  void Stop(int signal) { child_.Stop(signal, 20s); }
  std::string Log() const { return child_.Log(); }

 private:
  testing::AgentdChild child_;
  std::uint16_t port_ = 0;
};

// A small tmpfs of its own (root only); always unmounted.
class Tmpfs {
 public:
  explicit Tmpfs(const fs::path& dir, std::string size) : dir_(dir) {
    if (::geteuid() != 0) {
      why_ = "not root: cannot mount a small tmpfs to fill";
      return;
    }
    fs::create_directories(dir_);
    std::string options = "size=" + size;
    if (::mount("tmpfs", dir_.c_str(), "tmpfs", 0, options.c_str()) != 0) {
      why_ = std::string("mount -t tmpfs failed: ") + std::strerror(errno);
      return;
    }
    mounted_ = true;
  }
  ~Tmpfs() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  Tmpfs(const Tmpfs&) = delete;
  Tmpfs& operator=(const Tmpfs&) = delete;
  bool mounted() const { return mounted_; }
  const std::string& why() const { return why_; }

 private:
  fs::path dir_;
  bool mounted_ = false;
  std::string why_;
};

// Writes `path` until the filesystem refuses another byte; returns the bytes written.
std::size_t FillDisk(const fs::path& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return 0;
  std::size_t total = 0;
  std::vector<char> chunk(1 << 20, 'x');
  for (std::size_t size : {std::size_t{1} << 20, std::size_t{4096}, std::size_t{1}}) {
    while (true) {
      ssize_t n = ::write(fd, chunk.data(), size);
      if (n <= 0) break;
      total += static_cast<std::size_t>(n);
    }
  }
  ::close(fd);
  return total;
}

json::value Json(const HttpResult& r) {
  boost::system::error_code ec;
  json::value v = json::parse(r.body, ec);
  return ec ? json::value() : v;
}

std::string Str(const json::value& v, std::string_view key) {
  if (!v.is_object()) return {};
  const auto* p = v.as_object().if_contains(key);
  return p && p->is_string() ? std::string(p->as_string()) : std::string();
}

std::string RunBody(std::string_view text, std::string_view strategy = "reject") {
  return json::serialize(json::object{
      {"assistant_id", "agent"},
      {"multitask_strategy", strategy},
      {"input", json::object{{"messages", json::array{json::object{{"role", "user"},
                                                                     {"content", text}}}}}}});
}

json::array Messages(HttpClient& c, const std::string& thread_id) {
  json::value state = Json(c.Get("/threads/" + thread_id + "/state"));
  if (!state.is_object()) return {};
  const auto* values = state.as_object().if_contains("values");
  if (values == nullptr || !values->is_object()) return {};
  const auto* messages = values->as_object().if_contains("messages");
  return messages && messages->is_array() ? messages->as_array() : json::array{};
}

// "human: ...", "ai: ..." or "ai: tool_calls", "tool: ..." per message, to compare at once.
std::vector<std::string> Transcript(const json::array& messages) {
  std::vector<std::string> out;
  for (const auto& m : messages) {
    std::string type = Str(m, "type");
    std::string content = Str(m, "content");
    const auto* calls = m.as_object().if_contains("tool_calls");
    if (type == "ai" && calls && calls->is_array() && !calls->as_array().empty()) {
      content = "tool_calls";
    }
    out.push_back(type + ": " + content);
  }
  return out;
}

std::string RunStatus(HttpClient& c, const std::string& thread_id, const std::string& run_id) {
  return Str(Json(c.Get("/threads/" + thread_id + "/runs/" + run_id)), "status");
}

TEST(StorageFailure, FullDiskEndsTheRunOnceAndNeverRunsItAgain) {
  testing::TempDir dir;
  const fs::path data_dir = dir.path() / "data";
  Tmpfs tmpfs(data_dir, "8M");
  if (!tmpfs.mounted()) GTEST_SKIP() << tmpfs.why();
  const std::string log_path = (dir.path() / "agentd.log").string();
  const fs::path filler = data_dir / "filler";
  std::string thread_id;
  std::string failed_run;
  {
    Server server(data_dir.string(), log_path);
    ASSERT_TRUE(server.WaitReady(20s)) << server.Log();
    HttpClient c(server.port(), "127.0.0.1", 30s);
    ASSERT_EQ(c.Get("/ready").status, 200);
    thread_id = Str(Json(c.Post("/threads", "{}")), "thread_id");
    ASSERT_FALSE(thread_id.empty());
    // model (3 s) -> get_weather -> model (3 s): the disk fills during the second model call.
    auto created =
        c.Post("/threads/" + thread_id + "/runs", RunBody("what's the weather? delay=3000"));
    ASSERT_EQ(created.status, 200) << created.body;
    failed_run = Str(Json(created), "run_id");
    ASSERT_TRUE(WaitUntil([&] { return Messages(c, thread_id).size() >= 3; }, 30s))
        << "the tool result was never checkpointed";
    ASSERT_GT(FillDisk(filler), 0u);

    // The checkpoint after the second model call fails: the run ends `error`, once, with the
    // reason, and its thread is released (not `busy`).
    ASSERT_TRUE(WaitUntil([&] {
      std::string s = RunStatus(c, thread_id, failed_run);
      return s != "running" && s != "pending";
    }, 30s)) << server.Log();
    EXPECT_EQ(RunStatus(c, thread_id, failed_run), "error");
    json::value thread = Json(c.Get("/threads/" + thread_id));
    EXPECT_EQ(Str(thread, "status"), "error") << json::serialize(thread);
    const json::value* error = thread.as_object().if_contains("error");
    ASSERT_TRUE(error && error->is_object()) << json::serialize(thread);
    EXPECT_EQ(Str(*error, "error"), "CheckpointError");
    EXPECT_NE(Str(*error, "message").find("database or disk is full"), std::string::npos)
        << json::serialize(thread);
    auto joined = c.Get("/threads/" + thread_id + "/runs/" + failed_run + "/join");
    EXPECT_NE(joined.body.find("__error__"), std::string::npos) << joined.body;

    // Storage refuses writes: not ready, with the reason; the log and the gauge say so.
    auto ready = c.Get("/ready");
    EXPECT_EQ(ready.status, 503);
    EXPECT_NE(ready.body.find("storage"), std::string::npos) << ready.body;
    EXPECT_NE(ready.body.find("database or disk is full"), std::string::npos) << ready.body;
    EXPECT_NE(c.Get("/metrics").body.find("agentd_storage_writes_failing 1"), std::string::npos);
    EXPECT_NE(server.Log().find("error [storage] sqlite writes fail (database or disk is full)"),
              std::string::npos)
        << server.Log();

    // Space back: ready again, and a later turn runs on the thread.
    fs::remove(filler);
    ASSERT_TRUE(WaitUntil([&] { return c.Get("/ready").status == 200; }, 20s))
        << c.Get("/ready").body;
    EXPECT_NE(c.Get("/metrics").body.find("agentd_storage_writes_failing 0"), std::string::npos);
    auto later = c.Post("/threads/" + thread_id + "/runs", RunBody("hello"));
    ASSERT_EQ(later.status, 200) << later.body;
    auto later_joined = c.Get("/threads/" + thread_id + "/runs/" +
                              Str(Json(later), "run_id") + "/join");
    ASSERT_EQ(later_joined.status, 200) << later_joined.body;
    server.Stop(SIGTERM);
  }

  // After a restart the failed run stays failed: it is not resumed behind the later turn.
  Server server(data_dir.string(), log_path);
  ASSERT_TRUE(server.WaitReady(20s)) << server.Log();
  HttpClient c(server.port(), "127.0.0.1", 30s);
  EXPECT_EQ(RunStatus(c, thread_id, failed_run), "error");
  EXPECT_NE(Str(Json(c.Get("/threads/" + thread_id)), "status"), "busy");
  // One more turn, queued behind anything still active on the thread: had the failed run been
  // resumed, it would execute first and its messages would show up again before this one's.
  auto last = c.Post("/threads/" + thread_id + "/runs", RunBody("bye", "enqueue"));
  ASSERT_EQ(last.status, 200) << last.body;
  auto last_joined =
      c.Get("/threads/" + thread_id + "/runs/" + Str(Json(last), "run_id") + "/join");
  ASSERT_EQ(last_joined.status, 200) << last_joined.body;
  EXPECT_EQ(Transcript(Messages(c, thread_id)),
            (std::vector<std::string>{"human: what's the weather? delay=3000", "ai: tool_calls",
                                      "tool: sunny in paris", "human: hello", "ai: echo: hello",
                                      "human: bye", "ai: echo: bye"}));
  json::value runs = Json(c.Get("/threads/" + thread_id + "/runs"));
  ASSERT_TRUE(runs.is_array()) << json::serialize(runs);
  for (const auto& run : runs.as_array()) {
    EXPECT_TRUE(Str(run, "status") == "success" || Str(run, "run_id") == failed_run)
        << json::serialize(run);
  }
  EXPECT_EQ(server.Log().find("not resumed"), std::string::npos) << server.Log();
  server.Stop(SIGTERM);
}

TEST(StorageFailure, DeletedDataDirFailsReadinessAndRefusesWrites) {
  testing::TempDir dir;
  const fs::path data_dir = dir.path() / "data";
  const std::string log_path = (dir.path() / "agentd.log").string();
  Server server(data_dir.string(), log_path);
  ASSERT_TRUE(server.WaitReady(20s)) << server.Log();
  HttpClient c(server.port(), "127.0.0.1", 10s);
  const std::string thread_id = Str(Json(c.Post("/threads", "{}")), "thread_id");
  ASSERT_FALSE(thread_id.empty());
  ASSERT_EQ(c.Get("/ready").status, 200);

  fs::remove_all(data_dir);

  // Found by the periodic check, without any write.
  ASSERT_TRUE(WaitUntil([&] { return c.Get("/ready").status == 503; }, 10s));
  auto ready = c.Get("/ready");
  EXPECT_NE(ready.body.find("was deleted"), std::string::npos) << ready.body;
  EXPECT_EQ(c.Get("/health").status, 200);  // the process is alive: a restart would lose more

  auto refused = c.Post("/threads", "{}");
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_TRUE(refused.Header("Retry-After").has_value());
  json::value body = Json(refused);
  EXPECT_EQ(Str(body, "error"), "unavailable") << refused.body;
  EXPECT_NE(Str(body, "detail").find("storage refuses writes"), std::string::npos) << refused.body;
  auto put = c.Send("PUT", "/store/items", R"({"namespace":["a"],"key":"k","value":{"v":1}})",
                    {{"content-type", "application/json"}});
  EXPECT_EQ(put.status, 503) << put.body;
  // Reads still answer from the open file.
  EXPECT_EQ(c.Get("/threads/" + thread_id).status, 200);
  EXPECT_NE(c.Get("/metrics").body.find("agentd_storage_file_lost 1"), std::string::npos);
  const std::string log = server.Log();
  EXPECT_NE(log.find("error [storage] the database file"), std::string::npos) << log;
  EXPECT_NE(log.find("agentd.db was deleted: agentd refuses every write"), std::string::npos)
      << log;

  // What the log tells the operator works: copy the open file back, restart, the data is there.
  std::smatch proc;
  ASSERT_TRUE(std::regex_search(log, proc, std::regex("copy (/proc/[0-9]+/fd/[0-9]+)"))) << log;
  fs::create_directories(data_dir);
  fs::copy_file(proc[1].str(), data_dir / "agentd.db");
  server.Stop(SIGTERM);
  Server restarted(data_dir.string(), log_path);
  ASSERT_TRUE(restarted.WaitReady(20s)) << restarted.Log();
  HttpClient again(restarted.port(), "127.0.0.1", 10s);
  EXPECT_EQ(again.Get("/threads/" + thread_id).status, 200);
  EXPECT_EQ(again.Get("/ready").status, 200);
  restarted.Stop(SIGTERM);
}

}  // namespace
}  // namespace agentd
