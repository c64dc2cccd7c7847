#include "bus/redis/detail/sync_client.hpp"

#include <sys/time.h>

#include "bus/redis/detail/hiredis_reply.hpp"

namespace agentd::bus::redis::detail {

namespace {

timeval ToTimeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

}  // namespace

SyncClient::SyncClient(RedisEndpoint endpoint, std::chrono::milliseconds timeout)
    : endpoint_(std::move(endpoint)), timeout_(timeout) {}

SyncClient::~SyncClient() {
  std::lock_guard lock(mu_);
  DropLocked();
}

void SyncClient::DropLocked() {
  if (ctx_ != nullptr) redisFree(ctx_);
  ctx_ = nullptr;
}

Status SyncClient::EnsureConnectedLocked() {
  if (ctx_ != nullptr) return {};
  ctx_ = redisConnectWithTimeout(endpoint_.host.c_str(), endpoint_.port, ToTimeval(timeout_));
  if (ctx_ == nullptr || ctx_->err != 0) {
    std::string why = ctx_ != nullptr ? ctx_->errstr : "out of memory";
    DropLocked();
    return Error(Errc::kUnavailable, "redis: connect failed: " + why);
  }
  redisSetTimeout(ctx_, ToTimeval(timeout_));
  auto auth_select = [&](std::vector<std::string> args) -> Status {
    std::vector<const char*> argv;
    std::vector<std::size_t> len;
    for (auto& a : args) { argv.push_back(a.data()); len.push_back(a.size()); }
    auto* r = static_cast<redisReply*>(
        redisCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), len.data()));
    if (r == nullptr) return Error(Errc::kUnavailable, "redis: setup failed");
    const bool err = r->type == REDIS_REPLY_ERROR;
    freeReplyObject(r);
    if (err) return Error(Errc::kUnavailable, "redis: " + args[0] + " refused");
    return {};
  };
  Status s;
  if (!endpoint_.password.empty()) s = auth_select({"AUTH", endpoint_.password});
  if (s && endpoint_.db != 0) s = auth_select({"SELECT", std::to_string(endpoint_.db)});
  if (!s) DropLocked();
  return s;
}

Result<Reply> SyncClient::Command(const std::vector<std::string>& args) {
  std::lock_guard lock(mu_);
  if (auto s = EnsureConnectedLocked(); !s) return s.error();
  std::vector<const char*> argv;
  std::vector<std::size_t> len;
  argv.reserve(args.size());
  len.reserve(args.size());
  for (const auto& a : args) {
    argv.push_back(a.data());
    len.push_back(a.size());
  }
  auto* r = static_cast<redisReply*>(
      redisCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), len.data()));
  if (r == nullptr) {
    std::string why = ctx_->errstr;
    DropLocked();  // the link is in an unknown state after a failed call
    return Error(Errc::kUnavailable, "redis: " + why);
  }
  Reply out = CopyReply(r);
  freeReplyObject(r);
  if (out.is_error()) return Error(Errc::kInternal, "redis: " + out.str);
  return out;
}

}  // namespace agentd::bus::redis::detail
