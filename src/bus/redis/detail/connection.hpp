#pragma once
// One hiredis async connection driven by Asio: the context's socket is awaited with
// posix::stream_descriptor::async_wait for read/write readiness, and every hiredis call runs
// on this connection's strand, so hiredis itself is only ever touched by one thread at a time.
//
// Lifecycle: Start() connects (commands sent meanwhile are buffered); a lost connection is re-established with exponential backoff
// (reconnect_backoff_min .. max) until Stop(). While disconnected, commands fail at once with
// kUnavailable; commands in flight when the link drops complete with kUnavailable. A command
// that has no reply within its timeout completes with kTimeout and the connection is dropped
// and re-established (a stuck link is indistinguishable from a dead one).
//
// Thread safety: Send/Command/SendSubscribe/Stop may be called from any thread. Callbacks and
// hooks run on the strand and must not block.

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "bus/redis/detail/redis_url.hpp"
#include "bus/redis/detail/reply.hpp"
#include "common/error.hpp"

struct redisAsyncContext;

namespace agentd::bus::redis::detail {

struct ConnectionOptions {
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds reconnect_backoff_min{50};
  std::chrono::milliseconds reconnect_backoff_max{2000};
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using Strand = boost::asio::strand<boost::asio::any_io_executor>;
  using Callback = std::function<void(Result<Reply>)>;
  using PushHandler = std::function<void(const Reply&)>;
  using ConnectedHook = std::function<void()>;

  // `name` appears in logs and as CLIENT SETNAME (agentd-<name>).
  static std::shared_ptr<Connection> Make(boost::asio::any_io_executor executor,
                                          RedisEndpoint endpoint, ConnectionOptions options,
                                          std::string name);
  ~Connection();

  // Both run on the strand: set them before Start().
  void SetPushHandler(PushHandler handler) { push_handler_ = std::move(handler); }
  void SetConnectedHook(ConnectedHook hook) { connected_hook_ = std::move(hook); }

  void Start();
  // No more reconnects; drops the link. Pending callbacks complete with kUnavailable.
  void Stop();

  // Issues a command; `cb` runs on the strand with the reply, or kUnavailable / kTimeout /
  // kInternal (an error reply: its text). timeout 0 = unbounded (use for nothing but tests).
  void Send(std::vector<std::string> args, std::chrono::milliseconds timeout, Callback cb);
  // The same, awaited: completes on the awaiting coroutine's executor.
  boost::asio::awaitable<Result<Reply>> Command(std::vector<std::string> args,
                                                std::chrono::milliseconds timeout);
  // SUBSCRIBE / UNSUBSCRIBE: every push on this connection goes to the push handler.
  void SendSubscribe(std::vector<std::string> args);

  bool connected() const { return connected_.load(); }
  // CLIENT ID of the current link; -1 while unknown.
  long long client_id() const { return client_id_.load(); }
  const Strand& strand() const { return strand_; }

 private:
  struct Pending;

  Connection(boost::asio::any_io_executor executor, RedisEndpoint endpoint,
             ConnectionOptions options, std::string name);

  void Connect();
  void ScheduleReconnect();
  void OnConnected();
  void SendSetup();
  void OnGone(const char* why);
  void DropLink(const char* why);
  void ArmRead();
  void ArmWrite();
  void ArmWatchdog();
  void SendOnStrand(std::vector<std::string> args, std::chrono::milliseconds timeout, Callback cb);

  static void HiredisAddRead(void* self);
  static void HiredisDelRead(void* self);
  static void HiredisAddWrite(void* self);
  static void HiredisDelWrite(void* self);
  static void HiredisCleanup(void* self);
  static void HiredisOnConnect(const redisAsyncContext* ac, int status);
  static void HiredisOnDisconnect(const redisAsyncContext* ac, int status);
  static void HiredisOnReply(redisAsyncContext* ac, void* reply, void* privdata);
  static void HiredisOnPush(redisAsyncContext* ac, void* reply, void* privdata);

  Strand strand_;
  const RedisEndpoint endpoint_;
  const ConnectionOptions options_;
  const std::string name_;
  PushHandler push_handler_;
  ConnectedHook connected_hook_;

  // Strand-only state.
  redisAsyncContext* ac_ = nullptr;
  std::shared_ptr<Connection> self_while_linked_;  // hiredis holds a raw `this`
  std::unique_ptr<boost::asio::posix::stream_descriptor> socket_;
  std::uint64_t generation_ = 0;  // bumped when a context goes away: stale waits ignore it
  bool want_read_ = false, want_write_ = false;
  bool read_armed_ = false, write_armed_ = false;
  bool link_up_ = false;
  bool stopped_ = false;
  std::chrono::steady_clock::time_point connect_deadline_;
  std::chrono::milliseconds backoff_{0};
  boost::asio::steady_timer reconnect_timer_;
  boost::asio::steady_timer watchdog_;
  bool watchdog_armed_ = false;
  std::deque<Pending*> inflight_;  // commands with a deadline, oldest first

  std::atomic<bool> connected_{false};
  std::atomic<long long> client_id_{-1};
};

}  // namespace agentd::bus::redis::detail
