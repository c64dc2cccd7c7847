// Broadcast channels across instances: two whole API servers (router + gate + server on port 0,
// two API-key tenants) share one bus. SSE and WebSocket followers spread over both servers
// each receive every message published on one of them exactly once and in order; another
// tenant's followers of the same channel name receive none of them.
//
// Buses: one bus::inproc PubSub shared by both servers (always), and Redis with one PubSub per
// server (AGENTD_TEST_REDIS_URL, from tests/harness/with-services --redis; skipped without it).

#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "api/api.hpp"
#include "broadcast/hub.hpp"
#include "config/access.hpp"
#include "config/loader.hpp"
#include "http/event_loops.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "integration/broadcast_clients.hpp"
#include "observe/health.hpp"
#include "observe/metrics.hpp"
#include "runtime/graph_registry.hpp"
#include "storage/memory/memory_storage.hpp"
#include "support/run_co.hpp"
#include "support/temp_dir.hpp"
#include "bus/inproc/inproc_pubsub.hpp"

#if __has_include("bus/redis/redis_pubsub.hpp")
#include "bus/redis/redis_pubsub.hpp"
#define AGENTD_HAVE_REDIS_PUBSUB 1
#endif

namespace agentd {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using testing::Follower;

// One agentd instance as `serve` builds its API: storage, gate, hub, router, server.
struct Instance {
  Instance(const config::Config& config, bus::PubSub& pubsub)
      : health(2, std::chrono::seconds(60)),
        loops(2),
        storage(storage::MakeMemoryStorage()),
        graphs(runtime::GraphRegistry::FromConfig(config).value()),
        hub(pubsub, metrics),
        context(api::ApiContext{*storage, graphs, config, health, metrics, "test"}) {
    context.broadcast = &hub;
    api::RegisterRoutes(router, context);
    http::ServerOptions options;
    options.port = 0;
    server = std::make_unique<http::Server>(options, loops, router, metrics);
    loops.Start();
    port = server->Start().value();
  }
  ~Instance() {
    hub.Close();  // streams end, so the server drains at once
    server->Stop();
    loops.Stop();
  }
  double Counter(std::string_view name) { return metrics.GetCounter(name, "").value(); }

  observe::Metrics metrics;
  observe::Health health;
  http::EventLoops loops;
  std::unique_ptr<storage::Storage> storage;
  runtime::GraphRegistry graphs;
  broadcast::Hub hub;
  api::ApiContext context;
  http::Router router;
  std::unique_ptr<http::Server> server;
  std::uint16_t port = 0;
};

// Makes the bus of one instance (Redis: its own connection, on the instance's loop 0).
using BusFactory = std::function<std::unique_ptr<bus::PubSub>(asio::any_io_executor)>;

class BroadcastAcrossInstances : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const std::string path = (dir_.path() / "agentd.json").string();
    std::ofstream(path) << R"({"server": {"storage": "memory"}, "auth": {"mode": "required",
      "api_keys": [
        {"sha256": ")" << config::Sha256Hex("key-a") << R"(", "tenant": "a", "user_id": "ua"},
        {"sha256": ")" << config::Sha256Hex("key-b") << R"(", "tenant": "b", "user_id": "ub"}]}})";
    config::Environment env;
    env.cores = 2;
    env.fd_limit = 4096;
    auto loaded = config::LoadConfig(std::vector<std::string>{"--config", path}, env);
    ASSERT_TRUE(loaded) << loaded.error().message;
    config_ = *loaded;

    // Each instance's bus runs on a loop of its own thread (a Redis link needs one).
    bus_loop_.Start();
    if (GetParam() == "inproc") {
      std::shared_ptr<bus::PubSub> shared =
          bus::inproc::MakeInprocPubSub(bus_loop_.loop(0).get_executor());
      factory_ = [shared](asio::any_io_executor) -> std::unique_ptr<bus::PubSub> {
        return std::make_unique<SharedBus>(shared);
      };
    } else {
#ifdef AGENTD_HAVE_REDIS_PUBSUB
      const char* url = std::getenv("AGENTD_TEST_REDIS_URL");
      if (url == nullptr || *url == '\0') GTEST_SKIP() << "AGENTD_TEST_REDIS_URL not set";
      factory_ = [url = std::string(url)](asio::any_io_executor executor) {
        bus::redis::RedisOptions options;
        options.url = url;
        options.key_prefix = "agentd-test:";
        auto pubsub = bus::redis::MakeRedisPubSub(options, executor, nullptr);
        if (!pubsub) throw std::runtime_error("MakeRedisPubSub: " + pubsub.error().message);
        return std::move(*pubsub);
      };
#else
      GTEST_SKIP() << "bus/redis/redis_pubsub.hpp is not in the tree yet";
#endif
    }
    for (int i = 0; i < 2; ++i) {
      buses_.push_back(factory_(bus_loop_.loop(0).get_executor()));
      instances_.push_back(std::make_unique<Instance>(config_, *buses_.back()));
    }
  }
  void TearDown() override {
    instances_.clear();
    buses_.clear();
    factory_ = nullptr;  // the shared inproc bus: before the loop its strand runs on
    bus_loop_.Stop();
  }

  // A PubSub handle onto one shared in-process bus (both instances listen to the same one).
  class SharedBus final : public bus::PubSub {
   public:
    explicit SharedBus(std::shared_ptr<bus::PubSub> bus) : bus_(std::move(bus)) {}
    asio::awaitable<Status> Publish(std::string channel, std::string payload) override {
      return bus_->Publish(std::move(channel), std::move(payload));
    }
    std::unique_ptr<bus::PubSubListener> Listen(std::string channel, Handler handler) override {
      return bus_->Listen(std::move(channel), std::move(handler));
    }
    bool healthy() const override { return bus_->healthy(); }

   private:
    std::shared_ptr<bus::PubSub> bus_;
  };

  std::uint16_t Port(int i) { return instances_[i]->port; }

  testing::TempDir dir_;
  config::Config config_;
  BusFactory factory_;
  http::EventLoops bus_loop_{1};
  std::vector<std::unique_ptr<bus::PubSub>> buses_;
  std::vector<std::unique_ptr<Instance>> instances_;
};

bool IsProbe(const json::value& data) {
  return data.is_object() && data.as_object().contains("kind") &&
         data.as_object().at("kind") == "probe";
}

bool SawProbe(const Follower& f) {
  for (const auto& d : f.data) {
    if (IsProbe(d)) return true;
  }
  return false;
}

// Publishes probes (tenant `key`, via `port`) until every follower saw one: a subscription
// reaches the bus asynchronously (Redis SUBSCRIBE), and messages before it are not for it.
asio::awaitable<bool> WarmUp(std::uint16_t port, std::string key,
                             std::vector<std::shared_ptr<Follower>> followers) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (int round = 0; round < 250; ++round) {
    bool all = true;
    for (auto& f : followers) all = all && SawProbe(*f);
    if (all) co_return true;
    auto posted = co_await testing::PostJson(port, key, "/broadcast/board",
                                             R"({"data":{"kind":"probe"}})");
    if (posted.status != 202) co_return false;
    timer.expires_after(std::chrono::milliseconds(20));
    co_await timer.async_wait(asio::use_awaitable);
  }
  co_return false;
}

TEST_P(BroadcastAcrossInstances, EveryFollowerOnEveryInstanceGetsEachMessageOnceAndNoOtherTenant) {
  constexpr int kSsePerInstance = 3, kWsPerInstance = 2, kMessages = 40;
  std::vector<std::shared_ptr<Follower>> tenant_a, tenant_b;
  int done = 0;
  testing::RunCo([&]() -> asio::awaitable<void> {
    auto executor = co_await asio::this_coro::executor;
    auto spawn = [&](asio::awaitable<void> follow) {
      asio::co_spawn(executor, std::move(follow), [&](std::exception_ptr e) {
        ++done;
        if (e) ADD_FAILURE() << "follower threw";
      });
    };
    for (int i = 0; i < 2; ++i) {
      const std::string at = i == 0 ? "@A" : "@B";
      for (int s = 0; s < kSsePerInstance; ++s) {
        auto f = std::make_shared<Follower>(Follower{"sse#" + std::to_string(s) + at});
        tenant_a.push_back(f);
        spawn(testing::FollowSse(Port(i), "key-a", "board", f));
      }
      for (int w = 0; w < kWsPerInstance; ++w) {
        auto f = std::make_shared<Follower>(Follower{"ws#" + std::to_string(w) + at});
        tenant_a.push_back(f);
        spawn(testing::FollowWebSocket(Port(i), "key-a", "board", f));
      }
      auto other_sse = std::make_shared<Follower>(Follower{"b-sse" + at});
      auto other_ws = std::make_shared<Follower>(Follower{"b-ws" + at});
      tenant_b.push_back(other_sse);
      tenant_b.push_back(other_ws);
      spawn(testing::FollowSse(Port(i), "key-b", "board", other_sse));
      spawn(testing::FollowWebSocket(Port(i), "key-b", "board", other_ws));
    }
    EXPECT_TRUE(co_await WarmUp(Port(0), "key-a", tenant_a)) << "tenant a never all subscribed";
    EXPECT_TRUE(co_await WarmUp(Port(1), "key-b", tenant_b)) << "tenant b never all subscribed";

    // K messages published on instance A, one after the other.
    for (int n = 0; n < kMessages; ++n) {
      json::object message{{"kind", "msg"}, {"n", n}};
      json::object body_json{{"data", std::move(message)}};
      std::string text = json::serialize(body_json);
      auto posted = co_await testing::PostJson(Port(0), "key-a", "/broadcast/board", text);
      EXPECT_EQ(posted.status, 202) << posted.body;
      auto body = json::parse(posted.body);
      EXPECT_EQ(body.at("channel"), "board");
      EXPECT_TRUE(body.at("id").is_string());
    }
    EXPECT_EQ((co_await testing::PostJson(Port(0), "key-a", "/broadcast/board",
                                          R"({"data":{"kind":"end"}})")).status, 202);
    EXPECT_EQ((co_await testing::PostJson(Port(1), "key-b", "/broadcast/board",
                                          R"({"data":{"kind":"end"}})")).status, 202);
    // Every follower returns once it saw its end marker (the RunCo deadline bounds this).
    asio::steady_timer timer(executor);
    const int total = static_cast<int>(tenant_a.size() + tenant_b.size());
    while (done < total) {
      timer.expires_after(std::chrono::milliseconds(10));
      co_await timer.async_wait(asio::use_awaitable);
    }
  }(), std::chrono::seconds(60));

  std::size_t deliveries = 0;
  for (const auto& f : tenant_a) {
    SCOPED_TRACE(f->name);
    EXPECT_TRUE(f->connected) << "status " << f->status << " " << f->error;
    EXPECT_TRUE(f->finished) << f->error;
    std::vector<int> seen;
    for (const auto& d : f->data) {
      if (!IsProbe(d)) seen.push_back(static_cast<int>(d.at("n").as_int64()));
    }
    std::vector<int> expected(kMessages);
    for (int n = 0; n < kMessages; ++n) expected[n] = n;
    EXPECT_EQ(seen, expected) << "each message exactly once, in publish order";
    deliveries += seen.size();
  }
  EXPECT_EQ(deliveries, static_cast<std::size_t>(2 * (kSsePerInstance + kWsPerInstance) * kMessages));
  for (const auto& f : tenant_b) {
    SCOPED_TRACE(f->name);
    EXPECT_TRUE(f->finished) << f->error;
    for (const auto& d : f->data) EXPECT_TRUE(IsProbe(d)) << "tenant b saw " << json::serialize(d);
  }
  // One topic per channel per process, however many followers it has there.
  for (auto& instance : instances_) EXPECT_EQ(instance->hub.listened_topics(), 2u);
}

TEST_P(BroadcastAcrossInstances, AWebSocketClientPublishesToFollowersOnTheOtherInstance) {
  auto reader = std::make_shared<Follower>(Follower{"sse@A"});
  auto writer = std::make_shared<Follower>(Follower{"ws@B"});
  testing::RunCo([&]() -> asio::awaitable<void> {
    auto executor = co_await asio::this_coro::executor;
    bool reader_done = false;
    asio::co_spawn(executor, testing::FollowSse(Port(0), "key-a", "board", reader),
                   [&](std::exception_ptr) { reader_done = true; });
    std::vector<std::shared_ptr<Follower>> readers{reader};
    EXPECT_TRUE(co_await WarmUp(Port(1), "key-a", readers));
    // The WebSocket client publishes two messages, a bad one (a number beyond a double: it
    // would be stored and relayed as `Infinity`, which is not JSON), then the end marker.
    std::vector<std::string> sends{R"({"data":{"kind":"msg","from":"ws"}})",
                                   R"({"data":"not an object? fine"})",
                                   R"({"data":{"kind":"msg","n":1e999}})",
                                   R"({"data":{"kind":"end"}})"};
    co_await testing::FollowWebSocket(Port(1), "key-a", "board", writer, sends);
    asio::steady_timer timer(executor);
    while (!reader_done) {
      timer.expires_after(std::chrono::milliseconds(10));
      co_await timer.async_wait(asio::use_awaitable);
    }
  }(), std::chrono::seconds(30));
  EXPECT_TRUE(reader->finished) << reader->error;
  std::vector<json::value> real;
  for (const auto& d : reader->data) {
    if (!IsProbe(d)) real.push_back(d);
  }
  ASSERT_EQ(real.size(), 2u);
  EXPECT_EQ(real[0].at("from"), "ws");
  EXPECT_EQ(real[1], "not an object? fine");
  // The bad one was refused on the socket, not published, with the POST's error body.
  EXPECT_FALSE(writer->finished) << "the writer sees the refusal before its end marker";
  EXPECT_NE(writer->error.find("not a message"), std::string::npos) << writer->error;
  EXPECT_NE(writer->error.find(R"("error":"number_out_of_range")"), std::string::npos)
      << writer->error;
  EXPECT_NE(writer->error.find(R"("path":["data","n"])"), std::string::npos) << writer->error;
  EXPECT_NE(writer->error.find(R"("status":422)"), std::string::npos) << writer->error;
}

TEST_P(BroadcastAcrossInstances, RefusesBadRequestsAndUnauthenticatedClients) {
  testing::RunCo([&]() -> asio::awaitable<void> {
    auto bad_name = co_await testing::PostJson(Port(0), "key-a", "/broadcast/a%20b", R"({"data":1})");
    EXPECT_EQ(bad_name.status, 400) << bad_name.body;
    auto no_data = co_await testing::PostJson(Port(0), "key-a", "/broadcast/board", R"({"x":1})");
    EXPECT_EQ(no_data.status, 400) << no_data.body;
    auto huge = co_await testing::PostJson(Port(0), "key-a", "/broadcast/board",
                                           R"({"data":{"n":-1e400}})");
    EXPECT_EQ(huge.status, 422) << huge.body;
    EXPECT_NE(huge.body.find(R"("error":"number_out_of_range")"), std::string::npos) << huge.body;
    auto malformed = co_await testing::PostJson(Port(0), "key-a", "/broadcast/board", "{");
    EXPECT_EQ(malformed.status, 400) << malformed.body;
    EXPECT_NE(malformed.body.find(R"("error":"invalid_json")"), std::string::npos)
        << malformed.body;
    json::object big_body{{"data", std::string(70 * 1024, 'x')}};
    std::string big_text = json::serialize(big_body);
    auto big = co_await testing::PostJson(Port(0), "key-a", "/broadcast/board", big_text);
    EXPECT_EQ(big.status, 400) << big.body;
    auto anonymous = co_await testing::PostJson(Port(0), "", "/broadcast/board", R"({"data":1})");
    EXPECT_EQ(anonymous.status, 401);
    auto sse = std::make_shared<Follower>();
    co_await testing::FollowSse(Port(0), "nope", "board", sse);
    EXPECT_EQ(sse->status, 401);
    auto plain = co_await testing::PlainGet(Port(0), "key-a", "/broadcast/board/ws");
    EXPECT_EQ(plain.status, 426) << "a WebSocket route refuses a plain GET";
    auto ws = std::make_shared<Follower>();
    co_await testing::FollowWebSocket(Port(0), "nope", "board", ws);
    EXPECT_FALSE(ws->connected);
    EXPECT_EQ(ws->status, 401);
  }());
}

INSTANTIATE_TEST_SUITE_P(Buses, BroadcastAcrossInstances, ::testing::Values("inproc", "redis"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace agentd
