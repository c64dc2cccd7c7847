#pragma once
// RedisRunEventLog: one run's log as a Redis Stream. The writer (the instance running the
// run, or one that found the stream to resume it) assigns ids locally, encodes each frame
// once and pipelines `XADD <key> MAXLEN ~ <max_retained> 0-<id+1> id <id> f <frame>` on the
// bus's command connection; explicit entry ids make a second writer's XADD fail instead of
// interleaving. Close() appends the end marker (`end 1 id <next_id>`) and PEXPIREs the key by
// retention_after_close. A continued closed log XDELs that marker and marks its next frame
// `skip <marker id>`, the one legitimate hole in a stream's ids. Subscribe attaches to the process-wide StreamHub.
//
// Thread safety: all methods thread-safe; Append/Close from the run's executor (one writer).

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "bus/redis/detail/bus_core.hpp"
#include "bus/redis/redis_event_bus.hpp"

namespace agentd::bus::redis {

class RedisRunEventLog final : public RedisRunEventLogApi {
 public:
  // `next_id`/`closed`: what is known of the stream (0/false for a new one).
  RedisRunEventLog(std::shared_ptr<detail::BusCore> core, std::string key,
                   EventLogOptions options, std::uint64_t next_id, bool closed);

  // This log continues a stream found in Redis (EventLogOptions::continue_existing), whose
  // writer is gone: the stream gets the open-stream TTL again and, when it had ended at
  // `end_marker_id`, loses its end marker (the next frame says that id was skipped, so
  // readers see no gap).
  void Continue(std::optional<std::uint64_t> end_marker_id);
  // Continue() for this process's own log object: undoes its Close() if it closed.
  void Reopen();

  std::uint64_t Append(std::string_view event, std::string_view data_json) override;
  void Close() override;
  bool closed() const override;
  std::uint64_t next_id() const override;
  [[nodiscard]] std::unique_ptr<Subscription> Subscribe(StartAt start) override;
  boost::asio::awaitable<Status> Flush() override;
  const std::string& key() const override { return key_; }

 private:
  struct WriteState {
    std::mutex mu;
    std::optional<Error> first_error;
  };
  void Write(std::vector<std::string> args);

  const std::shared_ptr<detail::BusCore> core_;
  const std::string key_;
  const EventLogOptions options_;
  const std::shared_ptr<WriteState> writes_ = std::make_shared<WriteState>();
  mutable std::mutex mu_;
  std::uint64_t next_id_;
  bool closed_;
  std::optional<std::uint64_t> skipped_id_;  // the next Append says this id was never a frame
};

}  // namespace agentd::bus::redis
