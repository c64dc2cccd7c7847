#pragma once
// RedisRunEventLog: one run's log as a Redis Stream. The writer (the instance running the
// run, or one that found the stream to resume it) assigns ids locally, encodes each frame
// once and pipelines `XADD <key> MAXLEN ~ <max_retained> 0-<id+1> id <id> f <frame>` on the
// bus's command connection; explicit entry ids make a second writer's XADD fail instead of
// interleaving. Close() appends the end marker (`end 1 id <next_id>`) and PEXPIREs the key by
// retention_after_close. A continued log (another writer's, or this one's after Close) marks
// its next entry `skip <first id it skipped>`: the only legitimate holes in a stream's ids are
// a continuation's new id range and a removed end marker's id. Subscribe attaches to the
// process-wide StreamHub.
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
  // writer is gone: the stream gets the open-stream TTL again; ids from `skip_from` up to this
  // log's first entry hold no frame (its next entry says so, so readers see no gap); when the
  // stream had ended, `end_marker_id` names its end marker, which is removed.
  void Continue(std::uint64_t skip_from, std::optional<std::uint64_t> end_marker_id);
  // Continue() for this process's own log object: undoes its Close() if it closed.
  void Reopen();

  std::uint64_t Append(std::string_view event, std::string_view data_json) override;
  std::optional<std::uint64_t> AppendIfOpen(std::string_view event,
                                            std::string_view data_json) override;
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
  // The next entry (frame or end marker) says the ids from this one up to its own were never
  // frames.
  std::optional<std::uint64_t> skip_from_;
};

}  // namespace agentd::bus::redis
