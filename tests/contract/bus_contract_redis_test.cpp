// The EventBus and PubSub contracts for the Redis backend (label integration). Needs
// AGENTD_TEST_REDIS_URL (tests/harness/with-services --redis); skipped without it.
#include <cstdlib>

#include "bus/redis/redis_event_bus.hpp"
#include "bus/redis/redis_pubsub.hpp"
#include "contract/bus_contract.hpp"
#include "contract/pubsub_contract.hpp"

namespace agentd::bus::contract {

INSTANTIATE_TEST_SUITE_P(
    Redis, BusContract,
    ::testing::Values(BusBackend{
        "redis", [](boost::asio::any_io_executor executor) -> std::unique_ptr<EventBus> {
          const char* url = std::getenv("AGENTD_TEST_REDIS_URL");
          if (url == nullptr || *url == '\0') return nullptr;
          redis::RedisOptions options;
          options.url = url;
          options.key_prefix = "agentd-test:";
          options.read_block = std::chrono::milliseconds(200);
          auto bus = redis::MakeRedisEventBus(options, executor);
          if (!bus) throw std::runtime_error("MakeRedisEventBus: " + bus.error().message);
          return std::move(*bus);
        },
        /*shared_store=*/true}),
    [](const auto& info) { return info.param.name; });

INSTANTIATE_TEST_SUITE_P(
    Redis, PubSubContract,
    ::testing::Values(PubSubBackend{
        "redis", [](boost::asio::any_io_executor executor) -> std::unique_ptr<PubSub> {
          const char* url = std::getenv("AGENTD_TEST_REDIS_URL");
          if (url == nullptr || *url == '\0') return nullptr;
          redis::RedisOptions options;
          options.url = url;
          options.key_prefix = "agentd-test:";
          auto pubsub = redis::MakeRedisPubSub(options, executor);
          if (!pubsub) throw std::runtime_error("MakeRedisPubSub: " + pubsub.error().message);
          return std::move(*pubsub);
        }}),
    [](const auto& info) { return info.param.name; });

}  // namespace agentd::bus::contract
