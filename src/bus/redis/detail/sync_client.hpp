#pragma once
// A blocking hiredis connection for the few EventBus calls the interface makes synchronous
// (Create's existence check, Find's lookup of a run another instance wrote) and the startup
// ping. Each call costs one round trip, bounded by `timeout`; callers on an event loop pay
// that latency. One mutex serialises callers; the link is (re)opened lazily on the next call
// after a failure.

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "bus/redis/detail/redis_url.hpp"
#include "bus/redis/detail/reply.hpp"
#include "common/error.hpp"

struct redisContext;

namespace agentd::bus::redis::detail {

class SyncClient {
 public:
  SyncClient(RedisEndpoint endpoint, std::chrono::milliseconds timeout);
  ~SyncClient();
  SyncClient(const SyncClient&) = delete;
  SyncClient& operator=(const SyncClient&) = delete;

  // kUnavailable when Redis cannot be reached or the call timed out; kInternal for an error reply.
  Result<Reply> Command(const std::vector<std::string>& args);

 private:
  Status EnsureConnectedLocked();
  void DropLocked();

  const RedisEndpoint endpoint_;
  const std::chrono::milliseconds timeout_;
  std::mutex mu_;
  redisContext* ctx_ = nullptr;
};

}  // namespace agentd::bus::redis::detail
