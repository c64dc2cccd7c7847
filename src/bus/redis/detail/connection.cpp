#include "bus/redis/detail/connection.hpp"

#include <algorithm>
#include <utility>

#include <boost/asio/async_result.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <hiredis/async.h>
#include "bus/redis/detail/hiredis_reply.hpp"

#include "observe/log.hpp"

namespace agentd::bus::redis::detail {

namespace asio = boost::asio;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kWatchdogTick = std::chrono::milliseconds(20);

spdlog::logger& Log() {
  static auto logger = observe::Logger("bus.redis");
  return *logger;
}

}  // namespace

struct Connection::Pending {
  Callback cb;
  Clock::time_point deadline = Clock::time_point::max();
  bool timed_out = false;
};

std::shared_ptr<Connection> Connection::Make(asio::any_io_executor executor,
                                             RedisEndpoint endpoint, ConnectionOptions options,
                                             std::string name) {
  return std::shared_ptr<Connection>(
      new Connection(std::move(executor), std::move(endpoint), options, std::move(name)));
}

Connection::Connection(asio::any_io_executor executor, RedisEndpoint endpoint,
                       ConnectionOptions options, std::string name)
    : strand_(asio::make_strand(executor)),
      endpoint_(std::move(endpoint)),
      options_(options),
      name_(std::move(name)),
      reconnect_timer_(strand_),
      watchdog_(strand_) {}

Connection::~Connection() = default;

void Connection::Start() {
  asio::post(strand_, [self = shared_from_this()] { self->Connect(); });
}

void Connection::Stop() {
  asio::post(strand_, [self = shared_from_this()] {
    self->stopped_ = true;
    self->reconnect_timer_.cancel();
    self->watchdog_.cancel();
    self->DropLink("stopped");
  });
}

void Connection::Connect() {
  if (stopped_ || ac_ != nullptr) return;
  redisAsyncContext* ac = redisAsyncConnect(endpoint_.host.c_str(), endpoint_.port);
  if (ac == nullptr) {
    ScheduleReconnect();
    return;
  }
  if (ac->err != 0) {
    Log().warn("redis {}: connect to {}:{} failed: {}", name_, endpoint_.host, endpoint_.port,
               ac->errstr);
    redisAsyncFree(ac);
    ScheduleReconnect();
    return;
  }
  ac_ = ac;
  ac->data = this;
  self_while_linked_ = shared_from_this();
  socket_ = std::make_unique<asio::posix::stream_descriptor>(strand_, ac->c.fd);
  want_read_ = want_write_ = read_armed_ = write_armed_ = false;
  // hiredis 0.14: the event hooks must be in place before SetConnectCallback, which arms the
  // first write wait that detects the finished connect.
  ac->ev.data = this;
  ac->ev.addRead = &HiredisAddRead;
  ac->ev.delRead = &HiredisDelRead;
  ac->ev.addWrite = &HiredisAddWrite;
  ac->ev.delWrite = &HiredisDelWrite;
  ac->ev.cleanup = &HiredisCleanup;
  redisAsyncSetConnectCallback(ac, &HiredisOnConnect);
  redisAsyncSetDisconnectCallback(ac, &HiredisOnDisconnect);
  connect_deadline_ = Clock::now() + options_.connect_timeout;
  SendSetup();
  ArmWatchdog();
}

void Connection::ScheduleReconnect() {
  if (stopped_) return;
  backoff_ = backoff_.count() == 0 ? options_.reconnect_backoff_min
                                   : std::min(backoff_ * 2, options_.reconnect_backoff_max);
  reconnect_timer_.expires_after(backoff_);
  reconnect_timer_.async_wait([self = shared_from_this()](error_code ec) {
    if (!ec) self->Connect();
  });
}

void Connection::OnConnected() {
  link_up_ = true;
  backoff_ = std::chrono::milliseconds(0);
  connected_ = true;
  Log().info("redis {}: connected to {}:{}", name_, endpoint_.host, endpoint_.port);
  if (connected_hook_) connected_hook_();
}

// Queued in hiredis' output buffer ahead of anything callers send while the connect is in
// flight, so AUTH/SELECT always come first on the wire.
void Connection::SendSetup() {
  const auto timeout = options_.connect_timeout;
  if (!endpoint_.password.empty()) {
    SendOnStrand({"AUTH", endpoint_.password}, timeout, [this](Result<Reply> r) {
      if (!r) Log().error("redis {}: AUTH failed: {}", name_, r.error().message);
    });
  }
  if (endpoint_.db != 0) {
    SendOnStrand({"SELECT", std::to_string(endpoint_.db)}, timeout, [](Result<Reply>) {});
  }
  SendOnStrand({"CLIENT", "SETNAME", "agentd-" + name_}, timeout, [](Result<Reply>) {});
  SendOnStrand({"CLIENT", "ID"}, timeout, [this](Result<Reply> r) {
    if (r && r->type == Reply::Type::kInteger) client_id_ = r->integer;
  });
}

// The context is gone (hiredis frees it right after its disconnect/connect-failure callback).
void Connection::OnGone(const char* why) {
  if (ac_ == nullptr) return;
  if (link_up_) Log().warn("redis {}: connection lost ({})", name_, why);
  ac_ = nullptr;
  link_up_ = false;
  connected_ = false;
  client_id_ = -1;
  ++generation_;
  if (socket_) {
    socket_->release();  // hiredis owns and closes the descriptor
    socket_.reset();
  }
  inflight_.clear();  // hiredis completes each of them with a null reply
  ScheduleReconnect();
  // Last: may destroy *this once no wait holds it.
  asio::post(strand_, [keep = std::move(self_while_linked_)] {});
}

void Connection::DropLink(const char* why) {
  if (ac_ == nullptr) return;
  redisAsyncContext* ac = ac_;
  redisAsyncFree(ac);  // null-replies every pending callback; disconnect callback if linked
  OnGone(why);          // no-op when the disconnect callback already ran
}

void Connection::Send(std::vector<std::string> args, std::chrono::milliseconds timeout,
                      Callback cb) {
  asio::post(strand_, [self = shared_from_this(), args = std::move(args), timeout,
                       cb = std::move(cb)]() mutable {
    self->SendOnStrand(std::move(args), timeout, std::move(cb));
  });
}

void Connection::SendOnStrand(std::vector<std::string> args, std::chrono::milliseconds timeout,
                              Callback cb) {
  // While a connect is in flight hiredis buffers the command; between attempts it fails fast.
  if (ac_ == nullptr) {
    cb(Error(Errc::kUnavailable, "redis " + name_ + ": not connected"));
    return;
  }
  std::vector<const char*> argv;
  std::vector<std::size_t> argvlen;
  argv.reserve(args.size());
  argvlen.reserve(args.size());
  for (const auto& a : args) {
    argv.push_back(a.data());
    argvlen.push_back(a.size());
  }
  auto* pending = new Pending{std::move(cb)};
  if (timeout.count() > 0) {
    pending->deadline = Clock::now() + timeout;
    inflight_.push_back(pending);
  }
  if (redisAsyncCommandArgv(ac_, &HiredisOnReply, pending, static_cast<int>(argv.size()),
                            argv.data(), argvlen.data()) != REDIS_OK) {
    std::erase(inflight_, pending);
    auto cb2 = std::move(pending->cb);
    delete pending;
    cb2(Error(Errc::kUnavailable, "redis " + name_ + ": command not sent"));
    return;
  }
  ArmWatchdog();
}

// Not a coroutine on purpose: GCC 12 destroys an owning lambda temporary built inside a
// co_await expression in a coroutine body twice (each awaited command dropped one reference
// to this Connection, which was then freed under the still-running links: the reconnect /
// repeated-Flush use-after-free). Built here, the lambda is moved once into asio's frame.
asio::awaitable<Result<Reply>> Connection::Command(std::vector<std::string> args,
                                                   std::chrono::milliseconds timeout) {
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(Result<Reply>)>(
      [self = shared_from_this(), args = std::move(args), timeout](auto handler) mutable {
        using Handler = decltype(handler);
        auto h = std::make_shared<Handler>(std::move(handler));
        // The awaiting context must not run out of work while the reply is outstanding.
        auto work = asio::prefer(asio::get_associated_executor(*h),
                                 asio::execution::outstanding_work.tracked);
        // Everything that refers to the awaiting context moves into the posted completion:
        // once it ran, that context may be gone (a test's io_context), so nothing left on
        // this strand may release work on it or destroy its handler.
        self->Send(std::move(args), timeout,
                   [h = std::move(h), work = std::move(work)](Result<Reply> r) mutable {
                     auto target = asio::prefer(work, asio::execution::outstanding_work.untracked);
                     asio::post(target, [h = std::move(h), work = std::move(work),
                                         r = std::move(r)]() mutable {
                       std::move(*h)(std::move(r));
                     });
                   });
      },
      asio::use_awaitable);
}

void Connection::SendSubscribe(std::vector<std::string> args) {
  asio::post(strand_, [self = shared_from_this(), args = std::move(args)] {
    if (self->ac_ == nullptr || !self->link_up_) return;  // the connected hook resubscribes
    std::vector<const char*> argv;
    std::vector<std::size_t> argvlen;
    for (const auto& a : args) {
      argv.push_back(a.data());
      argvlen.push_back(a.size());
    }
    redisAsyncCommandArgv(self->ac_, &HiredisOnPush, nullptr, static_cast<int>(argv.size()),
                          argv.data(), argvlen.data());
  });
}

void Connection::ArmWatchdog() {
  if (watchdog_armed_ || stopped_) return;
  if (link_up_ && inflight_.empty()) return;
  if (ac_ == nullptr) return;
  watchdog_armed_ = true;
  watchdog_.expires_after(kWatchdogTick);
  watchdog_.async_wait([self = shared_from_this()](error_code ec) {
    self->watchdog_armed_ = false;
    if (ec || self->ac_ == nullptr) return;
    const auto now = Clock::now();
    if (!self->link_up_) {
      if (now >= self->connect_deadline_) {
        self->DropLink("connect timed out");
        return;
      }
    } else if (!self->inflight_.empty() && self->inflight_.front()->deadline <= now) {
      for (Pending* p : self->inflight_) {
        if (p->deadline <= now) p->timed_out = true;
      }
      self->DropLink("command timed out");
      return;
    }
    self->ArmWatchdog();
  });
}

void Connection::ArmRead() {
  if (read_armed_ || !socket_) return;
  read_armed_ = true;
  socket_->async_wait(asio::posix::stream_descriptor::wait_read,
                      [self = shared_from_this(), gen = generation_](error_code ec) {
                        if (gen != self->generation_) return;
                        self->read_armed_ = false;
                        if (ec || !self->want_read_ || self->ac_ == nullptr) return;
                        redisAsyncHandleRead(self->ac_);
                        if (gen == self->generation_ && self->want_read_) self->ArmRead();
                      });
}

void Connection::ArmWrite() {
  if (write_armed_ || !socket_) return;
  write_armed_ = true;
  socket_->async_wait(asio::posix::stream_descriptor::wait_write,
                      [self = shared_from_this(), gen = generation_](error_code ec) {
                        if (gen != self->generation_) return;
                        self->write_armed_ = false;
                        if (ec || !self->want_write_ || self->ac_ == nullptr) return;
                        redisAsyncHandleWrite(self->ac_);
                        if (gen == self->generation_ && self->want_write_) self->ArmWrite();
                      });
}

void Connection::HiredisAddRead(void* p) {
  auto* self = static_cast<Connection*>(p);
  self->want_read_ = true;
  self->ArmRead();
}
void Connection::HiredisDelRead(void* p) { static_cast<Connection*>(p)->want_read_ = false; }
void Connection::HiredisAddWrite(void* p) {
  auto* self = static_cast<Connection*>(p);
  self->want_write_ = true;
  self->ArmWrite();
}
void Connection::HiredisDelWrite(void* p) { static_cast<Connection*>(p)->want_write_ = false; }
void Connection::HiredisCleanup(void* p) {
  auto* self = static_cast<Connection*>(p);
  self->want_read_ = self->want_write_ = false;
  if (self->socket_) self->socket_->cancel();
}

void Connection::HiredisOnConnect(const redisAsyncContext* ac, int status) {
  auto* self = static_cast<Connection*>(ac->data);
  if (status != REDIS_OK) {
    Log().warn("redis {}: connect failed: {}", self->name_, ac->errstr);
    self->OnGone("connect failed");
    return;
  }
  self->OnConnected();
}

void Connection::HiredisOnDisconnect(const redisAsyncContext* ac, int /*status*/) {
  auto* self = static_cast<Connection*>(ac->data);
  self->OnGone(ac->err != 0 ? ac->errstr : "closed");
}

void Connection::HiredisOnReply(redisAsyncContext* ac, void* reply, void* privdata) {
  auto* self = static_cast<Connection*>(ac->data);
  auto* pending = static_cast<Pending*>(privdata);
  std::erase(self->inflight_, pending);
  Callback cb = std::move(pending->cb);
  const bool timed_out = pending->timed_out;
  delete pending;
  if (reply == nullptr) {
    if (timed_out) {
      cb(Error(Errc::kTimeout, "redis " + self->name_ + ": command timed out"));
    } else {
      cb(Error(Errc::kUnavailable, "redis " + self->name_ + ": connection lost"));
    }
    return;
  }
  auto* r = static_cast<redisReply*>(reply);
  if (r->type == REDIS_REPLY_ERROR) {
    cb(Error(Errc::kInternal, "redis: " + std::string(r->str, r->len)));
    return;
  }
  cb(CopyReply(r));
}

void Connection::HiredisOnPush(redisAsyncContext* ac, void* reply, void* /*privdata*/) {
  auto* self = static_cast<Connection*>(ac->data);
  if (reply == nullptr || !self->push_handler_) return;
  self->push_handler_(CopyReply(static_cast<redisReply*>(reply)));
}

}  // namespace agentd::bus::redis::detail
