#include "cluster_test_runs.hpp"

#include <atomic>
#include <mutex>
#include <thread>

#include <boost/json.hpp>

namespace agentd::cluster_test {

namespace json = boost::json;
using testing::HttpClient;
using namespace std::chrono_literals;

// Creates `count` runs, each on its own new thread, on `ports` round-robin, from `clients`
// client threads at once.
std::vector<Created> CreateRuns(const std::vector<std::uint16_t>& ports, int count,
                                const std::string& prefix, int clients, std::string* error) {
  std::vector<Created> out(static_cast<std::size_t>(count));
  std::atomic<int> next{0};
  std::mutex error_mutex;
  std::vector<std::thread> workers;
  for (int w = 0; w < clients; ++w) {
    workers.emplace_back([&] {
      for (int i = next++; i < count; i = next++) {
        std::uint16_t port = ports[static_cast<std::size_t>(i) % ports.size()];
        Created c;
        c.content = prefix + "n" + std::to_string(i);
        c.thread_id = CreateThread(port);
        std::string failure;
        if (c.thread_id.empty()) {
          failure = "thread creation failed";
        } else {
          try {
            HttpClient client(port, "127.0.0.1", 60s);
            auto r = client.Post("/threads/" + c.thread_id + "/runs",
                                 RunBody(c.content, "", R"(["values","messages-tuple"])"));
            if (r.status == 200) {
              c.run_id = Str(ParseJson(r.body), "run_id");
            } else {
              failure = std::to_string(r.status) + " " + r.body;
            }
          } catch (const std::exception& e) {
            failure = e.what();
          }
        }
        if (!failure.empty()) {
          std::lock_guard lock(error_mutex);
          *error = "run " + std::to_string(i) + ": " + failure;
        }
        out[static_cast<std::size_t>(i)] = std::move(c);
      }
    });
  }
  for (auto& t : workers) t.join();
  return out;
}

// The final messages of a thread (empty array on failure).
json::array ThreadMessages(std::uint16_t port, const std::string& thread_id) {
  try {
    HttpClient c(port, "127.0.0.1", 30s);
    auto state = ParseJson(c.Get("/threads/" + thread_id + "/state").body);
    const auto* values = state.is_object() ? state.as_object().if_contains("values") : nullptr;
    if (values && values->is_object()) {
      if (const auto* m = values->as_object().if_contains("messages"); m && m->is_array()) {
        return m->as_array();
      }
    }
  } catch (const std::exception&) {
  }
  return {};
}

// Waits until every run is terminal (statuses read from `ports` in turn); the statuses.
std::vector<std::string> WaitAllTerminal(const std::vector<std::uint16_t>& ports,
                                         const std::vector<Created>& runs,
                                         std::chrono::seconds bound) {
  std::vector<std::string> status(runs.size());
  WaitUntil(bound, [&] {
    bool all = true;
    for (std::size_t i = 0; i < runs.size(); ++i) {
      if (IsTerminal(status[i])) continue;
      status[i] = RunStatus(ports[i % ports.size()], runs[i].thread_id, runs[i].run_id);
      all = all && IsTerminal(status[i]);
    }
    return all;
  });
  return status;
}

std::optional<int> LastAttempt(const std::vector<SseEvent>& events) {
  std::optional<int> attempt;
  for (const auto& ev : events) {
    if (ev.event != "metadata") continue;
    auto v = ParseJson(ev.data);
    if (v.is_object()) {
      if (const auto* a = v.as_object().if_contains("attempt"); a && a->is_int64()) {
        attempt = static_cast<int>(a->as_int64());
      }
    }
  }
  return attempt;
}

bool HasFinalValues(const std::vector<SseEvent>& events, const std::string& content) {
  const std::string needle = "\"echo: " + content + "\"";
  for (const auto& ev : events) {
    if (ev.event == "values" && ev.data.find(needle) != std::string::npos) return true;
  }
  return false;
}

// GET /ready: status and body ("" body on transport failure).
std::pair<int, std::string> Ready(std::uint16_t port) {
  try {
    HttpClient c(port, "127.0.0.1", 10s);
    auto r = c.Get("/ready");
    return {r.status, r.body};
  } catch (const std::exception& e) {
    return {-1, e.what()};
  }
}

// A new run on `create_on`, joined on `join_on`: true when it ends success with its echo.
bool NewRunSucceeds(std::uint16_t create_on, std::uint16_t join_on, const std::string& content,
                    std::string* why) {
  std::string thread_id = CreateThread(create_on);
  if (thread_id.empty()) {
    *why = "thread creation failed";
    return false;
  }
  try {
    HttpClient c(create_on, "127.0.0.1", 30s);
    auto r = c.Post("/threads/" + thread_id + "/runs", RunBody(content));
    if (r.status != 200) {
      *why = "create: " + std::to_string(r.status) + " " + r.body;
      return false;
    }
    std::string run_id = Str(ParseJson(r.body), "run_id");
    HttpClient j(join_on, "127.0.0.1", 60s);
    auto joined = j.Get("/threads/" + thread_id + "/runs/" + run_id + "/join");
    if (joined.status != 200 || joined.body.find("\"echo: " + content + "\"") == std::string::npos) {
      *why = "join: " + std::to_string(joined.status) + " " + joined.body + "; run " + run_id +
             " now '" + RunStatus(join_on, thread_id, run_id) + "', thread " +
             j.Get("/threads/" + thread_id).body;
      return false;
    }
    return RunStatus(join_on, thread_id, run_id) == "success";
  } catch (const std::exception& e) {
    *why = e.what();
    return false;
  }
}

}  // namespace agentd::cluster_test
