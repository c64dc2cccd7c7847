#include "http/client_pool.hpp"

#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <tuple>
#include <utility>

#include <boost/asio/execution/context.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/this_coro.hpp>

#include "http/detail/client_connection.hpp"

namespace agentd::http {
namespace {

namespace asio = boost::asio;
using detail::ClientConnection;
using Clock = std::chrono::steady_clock;

struct UpstreamKey {
  std::uint64_t pool_id;  // several ClientPools may share a loop; they never share sockets
  bool tls;
  std::string host;
  std::string port;
  friend bool operator<(const UpstreamKey& a, const UpstreamKey& b) {
    return std::tie(a.pool_id, a.tls, a.host, a.port) < std::tie(b.pool_id, b.tls, b.host, b.port);
  }
};

// The idle connections of one io_context. An Asio service, so the sockets are destroyed when
// their io_context shuts down and never outlive it. Created only when a connection is handed
// back, i.e. after the context's socket machinery exists (services shut down in reverse order
// of creation, so ours goes first and closes its sockets while the reactor is still there).
class IdleConnections final : public asio::execution_context::service {
 public:
  using key_type = IdleConnections;
  static inline asio::execution_context::id id;

  explicit IdleConnections(asio::execution_context& context) : service(context) {}

  // The most recently used live connection for `key`, or null. Expired ones are dropped.
  std::unique_ptr<ClientConnection> Take(const UpstreamKey& key, std::chrono::milliseconds expiry) {
    std::lock_guard lock(mutex_);
    auto it = idle_.find(key);
    if (it == idle_.end()) return nullptr;
    auto& list = it->second;
    const auto now = Clock::now();
    while (!list.empty()) {
      auto conn = std::move(list.back());
      list.pop_back();
      if (now - conn->idle_since < expiry) return conn;
    }
    return nullptr;
  }

  void Give(const UpstreamKey& key, std::unique_ptr<ClientConnection> conn, std::size_t max_idle,
            std::chrono::milliseconds expiry) {
    std::lock_guard lock(mutex_);
    auto& list = idle_[key];
    const auto now = Clock::now();
    // Oldest first: drop the expired, then make room.
    while (!list.empty() && now - list.front()->idle_since >= expiry) list.pop_front();
    if (max_idle == 0) return;
    while (list.size() >= max_idle) list.pop_front();
    conn->idle_since = now;
    list.push_back(std::move(conn));
  }

 private:
  void shutdown() override {
    std::lock_guard lock(mutex_);
    idle_.clear();
  }

  std::mutex mutex_;
  std::map<UpstreamKey, std::deque<std::unique_ptr<ClientConnection>>> idle_;
};

std::atomic<std::uint64_t> next_pool_id{1};

}  // namespace

struct ClientPool::State {
  ClientPoolOptions options;
  std::uint64_t id = next_pool_id.fetch_add(1);
  asio::ssl::context ssl{asio::ssl::context::tls_client};
  std::atomic<std::uint64_t> opened{0};
  std::atomic<std::uint64_t> reused{0};
};

ClientPool::ClientPool(ClientPoolOptions options) : state_(std::make_shared<State>()) {
  state_->options = options;
  state_->ssl.set_default_verify_paths();
  state_->ssl.set_verify_mode(options.verify_peer ? asio::ssl::verify_peer : asio::ssl::verify_none);
}

ClientPool::~ClientPool() = default;

std::uint64_t ClientPool::connections_opened() const { return state_->opened.load(); }
std::uint64_t ClientPool::connections_reused() const { return state_->reused.load(); }

asio::awaitable<Result<runtime::HttpReply>> ClientPool::Send(runtime::HttpCall call,
                                                             runtime::BodySink on_body) {
  auto state = state_;  // the frame keeps the options and TLS context alive
  auto upstream = detail::ParseUpstream(call.url);
  if (!upstream) co_return upstream.error();

  auto executor = co_await asio::this_coro::executor;
  asio::execution_context& context = asio::query(executor, asio::execution::context);
  const UpstreamKey key{state->id, upstream->tls, upstream->host, upstream->port};
  const auto& opts = state->options;

  for (int attempt = 0;; ++attempt) {
    std::unique_ptr<ClientConnection> conn;
    if (attempt == 0 && asio::has_service<IdleConnections>(context)) {
      conn = asio::use_service<IdleConnections>(context).Take(key, opts.idle_expiry);
    }
    const bool reused = conn != nullptr;
    if (reused) {
      state->reused.fetch_add(1, std::memory_order_relaxed);
    } else {
      auto connected = co_await detail::Connect(*upstream, call, state->ssl, opts.verify_peer);
      if (!connected) co_return connected.error();
      conn = std::move(*connected);
      state->opened.fetch_add(1, std::memory_order_relaxed);
    }

    auto outcome = co_await detail::Exchange(*conn, *upstream, call, on_body, opts.header_limit_bytes);
    if (!outcome.reply && outcome.stale && reused) continue;  // retry once, on a fresh socket
    if (outcome.reply && outcome.reusable) {
      asio::use_service<IdleConnections>(context).Give(key, std::move(conn),
                                                       opts.max_idle_per_upstream, opts.idle_expiry);
    }
    // Otherwise `conn` is destroyed here: a half-read or failed connection is never reused.
    co_return std::move(outcome.reply);
  }
}

}  // namespace agentd::http
