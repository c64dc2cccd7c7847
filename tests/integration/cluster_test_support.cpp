#include "cluster_test_support.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace agentd::cluster_test {

namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

const char* kPgBin = "/usr/lib/postgresql/15/bin";

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// Runs a shell command; its stdout, or nullopt on a non-zero exit.
std::optional<std::string> Shell(const std::string& command) {
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return std::nullopt;
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  int rc = ::pclose(pipe);
  if (rc != 0) return std::nullopt;
  return Trim(out);
}

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  return out + "'";
}

// Replaces the database name (the path after the last '/') of a postgresql:// URL.
std::string WithDatabase(const std::string& dsn, const std::string& db) {
  auto slash = dsn.rfind('/');
  auto query = dsn.find('?', slash);
  std::string tail = query == std::string::npos ? "" : dsn.substr(query);
  return dsn.substr(0, slash + 1) + db + tail;
}

pid_t Spawn(std::vector<std::string> args, const std::string& log_path) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int out = log_path.empty() ? ::open("/dev/null", O_WRONLY)
                               : ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (out >= 0) {
      ::dup2(out, 1);
      ::dup2(out, 2);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

void KillAndReap(pid_t& pid, int signal) {
  if (pid <= 0) return;
  ::kill(pid, signal);
  // SIGKILL ends it at once; anything else gets 20 s, then SIGKILL.
  for (int i = 0; i < 400; ++i) {
    if (::waitpid(pid, nullptr, WNOHANG) == pid) {
      pid = -1;
      return;
    }
    std::this_thread::sleep_for(50ms);
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  pid = -1;
}

}  // namespace

std::optional<Services> ServicesFromEnv() {
  const char* pg = std::getenv("AGENTD_TEST_PG_DSN");
  const char* redis = std::getenv("AGENTD_TEST_REDIS_URL");
  if (pg == nullptr || redis == nullptr || *pg == '\0' || *redis == '\0') return std::nullopt;
  return Services{pg, redis};
}

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

std::optional<std::string> Psql(const std::string& dsn, const std::string& sql) {
  return Shell("psql " + Quote(dsn) + " -v ON_ERROR_STOP=1 -qAt -c " + Quote(sql) + " 2>&1");
}

std::string FreshDatabase(const std::string& dsn, const std::string& name) {
  const std::string db = name + "_" + std::to_string(::getpid());
  (void)Psql(dsn, "DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
  if (!Psql(dsn, "CREATE DATABASE " + db)) return "";
  return WithDatabase(dsn, db);
}

bool RestartPostgres(const std::string& dsn) {
  auto data_dir = Psql(dsn, "SHOW data_directory");
  if (!data_dir || data_dir->empty()) return false;
  // The server's output goes to a file, never to this process's stdout (a pipe a runner waits on).
  std::string log = "/tmp/agentd-cluster-test-pg-" + std::to_string(::getpid()) + ".log";
  std::string command = std::string(kPgBin) + "/pg_ctl -D " + Quote(*data_dir) + " -l " +
                        Quote(log) + " -m fast -w -t 30 restart";
  if (::getuid() == 0) command = "runuser -u postgres -- " + command;
  return Shell(command + " >/dev/null 2>&1").has_value();
}

// ---------------------------------------------------------------------------- OwnRedis

OwnRedis::OwnRedis() : port_(FreePort()) {}

bool OwnRedis::Start() {
  Stop();
  pid_ = Spawn({"redis-server", "--port", std::to_string(port_), "--bind", "127.0.0.1", "--save",
                "", "--appendonly", "no", "--loglevel", "warning"},
               "");
  for (auto deadline = Clock::now() + 10s; Clock::now() < deadline;) {
    if (Shell("redis-cli -p " + std::to_string(port_) + " ping 2>/dev/null") == "PONG") return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

void OwnRedis::Stop() { KillAndReap(pid_, SIGKILL); }

// ---------------------------------------------------------------------------- Instance

Instance::Instance(std::string name, const std::string& dsn, const std::string& redis_url,
                   const std::string& log_dir, std::vector<std::string> extra_args)
    : name_(std::move(name)), port_(FreePort()), log_path_(log_dir + "/" + name_ + ".log") {
  // AGENTD_CLUSTER_TEST_BINARY runs another build of agentd (checking a patch) with these tests.
  const char* binary = std::getenv("AGENTD_CLUSTER_TEST_BINARY");
  std::vector<std::string> args{binary && *binary ? binary : AGENTD_BINARY_PATH, "serve", "--storage", dsn, "--bus", redis_url,
                                "--port", std::to_string(port_), "--threads", "2",
                                "--cluster-lease-ms", "1500", "--log-level", "warn"};
  if (const char* level = std::getenv("AGENTD_CLUSTER_TEST_LOG_LEVEL"); level && *level) {
    args.back() = level;
  }
  for (auto& a : extra_args) args.push_back(std::move(a));
  pid_ = Spawn(std::move(args), log_path_);
}

bool Instance::WaitReady(std::chrono::seconds bound) {
  return WaitUntil(bound, [&] {
    try {
      testing::HttpClient c(port_, "127.0.0.1", 1s);
      return c.Get("/ok").status == 200;
    } catch (const std::exception&) {
      return false;
    }
  });
}

void Instance::Kill(int signal) { KillAndReap(pid_, signal); }

void Instance::Signal(int signal) {
  if (pid_ > 0) ::kill(pid_, signal);
}

bool Instance::Running() {
  if (pid_ <= 0) return false;
  if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

std::string Instance::LogTail(std::size_t bytes) const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string all = ss.str();
  if (all.size() > bytes) all = all.substr(all.size() - bytes);
  return "--- " + name_ + " log tail ---\n" + all;
}

bool Cluster::Start(const Services& services, const std::string& db_name, std::size_t count,
                    std::string* why) {
  dsn = FreshDatabase(services.pg_dsn, db_name);
  if (dsn.empty()) {
    if (why) *why = "could not create database " + db_name;
    return false;
  }
  const char* names[] = {"A", "B", "C", "D"};
  for (std::size_t i = 0; i < count; ++i) {
    nodes.push_back(std::make_unique<Instance>(names[i], dsn, services.redis_url,
                                               dir.path().string(), extra_args));
  }
  for (auto& n : nodes) {
    if (!n->WaitReady(60s)) {
      if (why) *why = "instance " + n->name() + " did not come up\n" + n->LogTail();
      return false;
    }
  }
  return true;
}

std::string Cluster::Logs() const {
  std::string out;
  for (const auto& n : nodes) out += n->LogTail() + "\n";
  // Whole logs for a post-mortem, when asked for (the temp dir goes with the test).
  if (const char* keep = std::getenv("AGENTD_CLUSTER_TEST_LOG_DIR"); keep && *keep) {
    std::string target = std::string(keep) + "/" + std::to_string(::getpid());
    (void)Shell("mkdir -p " + Quote(target) + " && cp " + Quote(dir.path().string()) + "/*.log " +
                Quote(target) + "/");
    out += "full logs copied to " + target + "\n";
  }
  return out;
}

LogsOnFailure::~LogsOnFailure() {
  if (::testing::Test::HasFailure()) std::cerr << cluster.Logs();
}

// ---------------------------------------------------------------------------- SseReader

SseReader::SseReader(std::uint16_t port, const std::string& target,
                     const std::vector<std::pair<std::string, std::string>>& headers) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ended_ = true;
    return;
  }
  std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n";
  for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  req += "\r\n";
  if (::send(fd_, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    ended_ = true;
    return;
  }
  // The status line and headers, bounded.
  const auto deadline = Clock::now() + 30s;
  std::size_t head_end = std::string::npos;
  while ((head_end = raw_.find("\r\n\r\n")) == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    pollfd p{fd_, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
      ended_ = true;
      return;
    }
    char buf[8192];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) {
      ended_ = true;
      return;
    }
    raw_.append(buf, static_cast<std::size_t>(n));
  }
  std::string head = raw_.substr(0, head_end);
  raw_.erase(0, head_end + 4);
  if (head.size() > 12) status_ = std::atoi(head.c_str() + 9);
  std::string lower;
  for (char c : head) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  chunked_ = lower.find("transfer-encoding: chunked") != std::string::npos;
  Decode();
}

SseReader::~SseReader() {
  if (fd_ >= 0) ::close(fd_);
}

void SseReader::Decode() {
  if (!chunked_) {
    decoded_ += raw_;
    raw_.clear();
    return;
  }
  for (;;) {
    if (in_chunk_) {
      std::size_t take = std::min(chunk_left_, raw_.size());
      decoded_.append(raw_, 0, take);
      raw_.erase(0, take);
      chunk_left_ -= take;
      if (chunk_left_ > 0) return;
      if (raw_.size() < 2) return;
      raw_.erase(0, 2);  // CRLF after the chunk
      in_chunk_ = false;
    }
    auto eol = raw_.find("\r\n");
    if (eol == std::string::npos) return;
    chunk_left_ = std::stoul(raw_.substr(0, eol), nullptr, 16);
    raw_.erase(0, eol + 2);
    if (chunk_left_ == 0) {
      ended_ = true;  // last chunk
      return;
    }
    in_chunk_ = true;
  }
}

bool SseReader::Fill(Clock::time_point deadline) {
  if (ended_ || fd_ < 0) return false;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  if (left.count() <= 0) return false;
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
  char buf[16384];
  ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
  if (n <= 0) {
    ended_ = true;  // closed (or reset: a killed server)
    return false;
  }
  raw_.append(buf, static_cast<std::size_t>(n));
  Decode();
  return true;
}

std::optional<SseEvent> SseReader::TakeEvent() {
  for (;;) {
    auto end = decoded_.find("\n\n");
    if (end == std::string::npos) return std::nullopt;
    std::string block = decoded_.substr(0, end);
    decoded_.erase(0, end + 2);
    SseEvent ev;
    bool any = false;
    std::istringstream lines(block);
    for (std::string line; std::getline(lines, line);) {
      if (line.empty() || line[0] == ':') continue;  // comments (heartbeats)
      auto colon = line.find(':');
      std::string field = line.substr(0, colon);
      std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
      if (!value.empty() && value[0] == ' ') value.erase(0, 1);
      if (field == "event") {
        ev.event = value;
        any = true;
      } else if (field == "data") {
        ev.data += value;
        any = true;
      } else if (field == "id") {
        ev.id = std::stoull(value);
      }
    }
    if (any) return ev;
  }
}

std::optional<SseEvent> SseReader::Next(std::chrono::milliseconds bound) {
  const auto deadline = Clock::now() + bound;
  for (;;) {
    if (auto ev = TakeEvent()) return ev;
    if (!Fill(deadline)) {
      if (auto ev = TakeEvent()) return ev;
      return std::nullopt;
    }
  }
}

bool SseReader::ReadToEnd(std::chrono::milliseconds bound, std::vector<SseEvent>* out) {
  const auto deadline = Clock::now() + bound;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    auto ev = Next(left);
    if (ev) {
      out->push_back(std::move(*ev));
      continue;
    }
    return ended_;
  }
}

// ---------------------------------------------------------------------------- HTTP helpers

json::value ParseJson(const std::string& body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) return nullptr;
  return v;
}

std::string Str(const json::value& v, std::string_view key) {
  if (!v.is_object()) return "";
  const auto* f = v.as_object().if_contains(key);
  if (f == nullptr || !f->is_string()) return "";
  return std::string(f->as_string());
}

bool WaitUntil(std::chrono::milliseconds bound, const std::function<bool()>& done) {
  const auto deadline = Clock::now() + bound;
  for (;;) {
    if (done()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(100ms);
  }
}

std::string CreateThread(std::uint16_t port) {
  try {
    testing::HttpClient c(port, "127.0.0.1", 30s);
    auto r = c.Post("/threads", "{}");
    if (r.status != 200) return "";
    return Str(ParseJson(r.body), "thread_id");
  } catch (const std::exception&) {
    return "";
  }
}

std::string RunBody(const std::string& content, const std::string& strategy,
                    const std::string& stream_modes) {
  json::object body{{"assistant_id", "agent"},
                    {"input", json::object{{"messages", json::array{json::object{
                                                            {"role", "user"}, {"content", content}}}}}}};
  if (!strategy.empty()) body["multitask_strategy"] = strategy;
  if (!stream_modes.empty()) body["stream_mode"] = ParseJson(stream_modes);
  return json::serialize(body);
}

std::string RunStatus(std::uint16_t port, const std::string& thread_id, const std::string& run_id) {
  try {
    testing::HttpClient c(port, "127.0.0.1", 10s);
    auto r = c.Get("/threads/" + thread_id + "/runs/" + run_id);
    if (r.status == 404) return "404";
    if (r.status != 200) return "";
    return Str(ParseJson(r.body), "status");
  } catch (const std::exception&) {
    return "";
  }
}

bool IsTerminal(const std::string& status) {
  return status == "success" || status == "error" || status == "interrupted" ||
         status == "timeout" || status == "404";
}

}  // namespace agentd::cluster_test
