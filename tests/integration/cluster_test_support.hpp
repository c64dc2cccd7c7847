#pragma once
// Support for the cluster tests (cluster_test*.cpp): real `agentd serve` child processes on one
// PostgreSQL and one Redis (tests/harness/with-services exports AGENTD_TEST_PG_DSN and
// AGENTD_TEST_REDIS_URL), a fresh database per test, an incremental SSE reader (streams are read
// event by event while the run goes on), and bounded polling. Children are killed by pid.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/json/value.hpp>

#include "support/http_client.hpp"
#include "support/temp_dir.hpp"

namespace agentd::cluster_test {

using Clock = std::chrono::steady_clock;

// The service URLs, or nullopt (the test is skipped with a message).
struct Services {
  std::string pg_dsn;
  std::string redis_url;
};
std::optional<Services> ServicesFromEnv();

// A loopback port that was free a moment ago.
std::uint16_t FreePort();

// psql against `dsn`; the trimmed output, or nullopt when psql failed.
std::optional<std::string> Psql(const std::string& dsn, const std::string& sql);
// Creates a new empty database next to the one `dsn` names; returns its DSN.
std::string FreshDatabase(const std::string& dsn, const std::string& name);
// pg_ctl restart (fast mode) of the server behind `dsn`: every connection breaks.
bool RestartPostgres(const std::string& dsn);

// A redis-server of the test's own on a free port (for tests that stop Redis).
class OwnRedis {
 public:
  OwnRedis();
  ~OwnRedis() { Stop(); }
  OwnRedis(const OwnRedis&) = delete;
  OwnRedis& operator=(const OwnRedis&) = delete;
  bool Start();  // (re)starts on the same port, waits (bounded) for PING
  void Stop();   // SIGKILL by pid
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }

 private:
  std::uint16_t port_;
  pid_t pid_ = -1;
};

// One `agentd serve` child in cluster mode.
class Instance {
 public:
  Instance(std::string name, const std::string& dsn, const std::string& redis_url,
           const std::string& log_dir, std::vector<std::string> extra_args = {});
  ~Instance() { Kill(9); }
  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;

  bool WaitReady(std::chrono::seconds bound);
  void Kill(int signal);  // by pid, reaped with a bound
  void Signal(int signal);  // by pid, not waited for (SIGSTOP, SIGCONT)
  bool alive() const { return pid_ > 0; }
  // The child has not exited (it was never restarted: same pid, still there).
  bool Running();
  std::uint16_t port() const { return port_; }
  const std::string& name() const { return name_; }
  std::string LogTail(std::size_t bytes = 3000) const;

 private:
  std::string name_;
  std::uint16_t port_;
  std::string log_path_;
  pid_t pid_ = -1;
};

// Three instances A, B, C on a fresh database and the given Redis.
struct Cluster {
  testing::TempDir dir;
  std::string dsn;
  std::vector<std::unique_ptr<Instance>> nodes;
  // Appended to every instance's command line by Start() (e.g. "--config", a file in `dir`).
  std::vector<std::string> extra_args;
  Instance& operator[](std::size_t i) { return *nodes.at(i); }
  // Starts `count` instances and waits until each answers /ok. False (with a message in
  // `why`) when one did not come up.
  bool Start(const Services& services, const std::string& db_name, std::size_t count = 3,
             std::string* why = nullptr);
  std::string Logs() const;
};

// Prints the instances' log tails when the test has failed, however it returns.
struct LogsOnFailure {
  const Cluster& cluster;
  ~LogsOnFailure();
};

// ---------------------------------------------------------------------------- SSE reading

struct SseEvent {
  std::string event;
  std::string data;
  std::optional<std::uint64_t> id;
};

// GET of an SSE stream over its own socket, read event by event with a bound per call.
class SseReader {
 public:
  SseReader(std::uint16_t port, const std::string& target,
            const std::vector<std::pair<std::string, std::string>>& headers = {});
  ~SseReader();
  SseReader(const SseReader&) = delete;
  SseReader& operator=(const SseReader&) = delete;

  int status() const { return status_; }
  // The next event; nullopt when the stream ended (ended() true) or `bound` passed.
  std::optional<SseEvent> Next(std::chrono::milliseconds bound);
  // Every event until the stream ends; false when `bound` passed first.
  bool ReadToEnd(std::chrono::milliseconds bound, std::vector<SseEvent>* out);
  bool ended() const { return ended_; }

 private:
  bool Fill(Clock::time_point deadline);  // more body bytes decoded; false: end or deadline
  void Decode();
  std::optional<SseEvent> TakeEvent();

  int fd_ = -1;
  int status_ = 0;
  bool chunked_ = false;
  bool ended_ = false;
  std::string raw_;      // bytes read, not yet decoded
  std::string decoded_;  // body bytes, not yet parsed into events
  std::size_t chunk_left_ = 0;
  bool in_chunk_ = false;
};

// ---------------------------------------------------------------------------- HTTP helpers

boost::json::value ParseJson(const std::string& body);
std::string Str(const boost::json::value& v, std::string_view key);

// Polls `done` until it is true or `bound` passed (a short pause between tries).
bool WaitUntil(std::chrono::milliseconds bound, const std::function<bool()>& done);

// POST /threads on `port`; the thread id (empty on failure).
std::string CreateThread(std::uint16_t port);
// The run body: agent assistant, one user message, optional multitask strategy / stream modes.
std::string RunBody(const std::string& content, const std::string& strategy = "",
                    const std::string& stream_modes = "");
// GET of a run's status; "" on transport failure, "404" when gone.
std::string RunStatus(std::uint16_t port, const std::string& thread_id, const std::string& run_id);
bool IsTerminal(const std::string& status);

}  // namespace agentd::cluster_test
