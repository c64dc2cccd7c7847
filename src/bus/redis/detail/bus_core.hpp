#pragma once
// What every RedisRunEventLog of one bus shares: options, connections, the stream hub.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "bus/redis/detail/connection.hpp"
#include "bus/redis/detail/stream_hub.hpp"
#include "bus/redis/redis_event_bus.hpp"

namespace agentd::bus::redis::detail {

struct BusCore {
  RedisOptions options;
  std::shared_ptr<Connection> commands;
  std::shared_ptr<Connection> reader;
  std::shared_ptr<StreamHub> hub;
  std::atomic<std::uint64_t> write_errors{0};

  std::string KeyOf(const std::string& run_id) const {
    return options.key_prefix + "run:" + run_id + ":events";
  }
};

}  // namespace agentd::bus::redis::detail
