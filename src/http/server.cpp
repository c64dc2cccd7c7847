#include "http/server.hpp"

#include <exception>
#include <future>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include "http/detail/server_state.hpp"
#include "http/detail/session.hpp"
#include "observe/log.hpp"

namespace agentd::http {

using detail::Connection;
using detail::ServerState;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

namespace detail {

ServerState::ServerState(ServerOptions o, EventLoops& l, const Router& r, observe::Metrics& m)
    : options(std::move(o)),
      loops(l),
      router(r),
      metrics(m),
      open_gauge(m.GetGauge("agentd_http_open_connections", "HTTP connections currently open")) {}

void ServerState::TaskStarted(const std::shared_ptr<Connection>& conn) {
  std::lock_guard lock(mu);
  ++tasks;
  if (conn) connections.insert(conn);
}

void ServerState::TaskEnded(const std::shared_ptr<Connection>& conn) {
  std::lock_guard lock(mu);
  --tasks;
  if (conn) connections.erase(conn);
  cv.notify_all();
}

void ServerState::CountRequest(std::string_view route, std::string_view method, int status,
                               double seconds) {
  // Two registry lookups per request (a mutex and a map find each); fine at our rates, and
  // the first thing to cache per route if a profile says so.
  metrics
      .GetCounter("agentd_http_requests_total", "HTTP requests answered",
                  {{"route", std::string(route)},
                   {"method", std::string(method)},
                   {"status", std::to_string(status)}})
      .Inc();
  metrics
      .GetHistogram("agentd_http_request_duration_seconds",
                    "Time from request head to last byte written", {{"route", std::string(route)}})
      .Observe(seconds);
}

}  // namespace detail

namespace {

// The completion handler for every coroutine the server spawns: logs what escaped (except
// cancellation, which is how Stop() ends sessions) and tells the state the task is over.
auto TaskDone(std::shared_ptr<ServerState> state, std::shared_ptr<Connection> conn,
              const char* what) {
  return [state = std::move(state), conn = std::move(conn), what](std::exception_ptr e) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const boost::system::system_error& se) {
        if (se.code() != asio::error::operation_aborted) {
          observe::Logger("http")->error("{} ended with error what={}", what, se.what());
        }
      } catch (const std::exception& ex) {
        observe::Logger("http")->error("{} ended with exception what={}", what, ex.what());
      } catch (...) {
        observe::Logger("http")->error("{} ended with unknown exception", what);
      }
    }
    state->TaskEnded(conn);
  };
}

void SpawnConnection(const std::shared_ptr<ServerState>& state, tcp::socket socket) {
  auto exec = socket.get_executor();
  if (state->open.load() >= state->options.max_connections) {
    static observe::RateLimit limit(std::chrono::seconds(10));
    observe::WarnLimited(limit, *observe::Logger("http"),
                         "connection limit reached max_connections={}",
                         state->options.max_connections);
    state->TaskStarted(nullptr);
    asio::co_spawn(exec, detail::RejectConnection(state, std::move(socket)),
                   TaskDone(state, nullptr, "rejected connection"));
    return;
  }
  auto conn = std::make_shared<Connection>();
  conn->executor = exec;
  state->TaskStarted(conn);
  asio::co_spawn(exec, detail::RunSession(state, conn, std::move(socket)),
                 asio::bind_cancellation_slot(conn->cancel.slot(),
                                              TaskDone(state, conn, "http session")));
}

asio::awaitable<void> AcceptLoop(std::shared_ptr<ServerState> state) {
  static observe::RateLimit limit(std::chrono::seconds(5));
  while (!state->draining.load()) {
    // Accept straight onto the loop that will own the connection.
    auto& loop = state->loops.Next();
    auto [ec, socket] = co_await state->acceptor->async_accept(loop, kUseTuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !state->acceptor->is_open()) break;
      observe::WarnLimited(limit, *observe::Logger("http"), "accept failed error={}", ec.message());
      // Out of descriptors (EMFILE) fails every accept at once: back off instead of spinning.
      asio::steady_timer pause(co_await asio::this_coro::executor, std::chrono::milliseconds(50));
      co_await pause.async_wait(kUseTuple);
      continue;
    }
    if (state->draining.load()) break;
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    SpawnConnection(state, std::move(socket));
  }
}

// Runs `fn` on `exec` and waits (bounded) for it; runs it here if the loop is not running.
template <class F>
void RunOn(asio::io_context& loop, F fn) {
  if (loop.stopped()) {
    fn();
    return;
  }
  auto done = std::make_shared<std::promise<void>>();
  auto fut = done->get_future();
  asio::post(loop, [fn = std::move(fn), done]() mutable {
    fn();
    done->set_value();
  });
  fut.wait_for(std::chrono::seconds(5));
}

}  // namespace

// The public header names Server::State; the definition lives in detail/ with the sessions.
struct Server::State : ServerState {
  using ServerState::ServerState;
};

Server::Server(ServerOptions options, EventLoops& loops, const Router& router,
               observe::Metrics& metrics)
    : state_(std::make_shared<State>(std::move(options), loops, router, metrics)) {}

Server::~Server() { Stop(); }

Result<std::uint16_t> Server::Start() {
  auto& opts = state_->options;
  boost::system::error_code ec;
  auto address = asio::ip::make_address(opts.host, ec);
  if (ec) {
    return MakeError(Errc::kInvalidArgument, fmt::format("bad listen address {}", opts.host));
  }
  tcp::endpoint endpoint(address, opts.port);
  auto where = fmt::format("{}:{}", opts.host, opts.port);
  // Why one acceptor (on loop 0) handing sockets to loops round-robin rather than a
  // SO_REUSEPORT listener per loop: the kernel hashes REUSEPORT connections by 4-tuple, which
  // spreads a handful of long-lived SSE clients unevenly; one acceptor gives an exact
  // round-robin, an exact max_connections count, and with port 0 a single bound port.
  // Accepting is not our bottleneck at these connection rates.
  auto& acceptor = state_->acceptor.emplace(state_->loops.loop(0));
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    state_->acceptor.reset();
    return MakeError(Errc::kUnavailable, fmt::format("cannot listen on {}: {}", where, ec.message()));
  }
  auto port = acceptor.local_endpoint(ec).port();
  state_->TaskStarted(nullptr);
  asio::co_spawn(state_->loops.loop(0), AcceptLoop(state_),
                 TaskDone(state_, nullptr, "http accept loop"));
  observe::Logger("http")->info("listening host={} port={} loops={}", opts.host, port,
                                state_->loops.size());
  return port;
}

void Server::Stop() {
  std::shared_ptr<ServerState> state = state_;
  if (state->stop_called.exchange(true)) return;
  state->draining.store(true);
  if (state->acceptor) {
    RunOn(state->loops.loop(0), [state] {
      boost::system::error_code ignored;
      state->acceptor->close(ignored);
    });
  }

  auto for_each_connection = [&](auto fn) {
    std::vector<std::shared_ptr<Connection>> conns;
    {
      std::lock_guard lock(state->mu);
      conns.assign(state->connections.begin(), state->connections.end());
    }
    for (auto& c : conns) asio::post(c->executor, [c, fn] { fn(*c); });
  };

  // Idle keep-alive connections have nothing in flight: close them now. Busy ones see
  // `draining` and close after their current response.
  for_each_connection([](Connection& c) {
    if (c.stream != nullptr && c.idle) {
      boost::system::error_code ignored;
      c.stream->socket().cancel(ignored);
    }
  });

  std::unique_lock lock(state->mu);
  auto deadline = Clock::now() + state->options.shutdown_grace;
  if (!state->cv.wait_until(lock, deadline, [&] { return state->tasks == 0; })) {
    auto left = state->connections.size();
    lock.unlock();
    observe::Logger("http")->warn("shutdown grace over, closing connections remaining={}", left);
    // Cancel each session coroutine (this reaches whatever its handler is awaiting) and
    // close its socket (this ends any pending read or write).
    for_each_connection([](Connection& c) {
      c.force_closed = true;
      c.cancel.emit(asio::cancellation_type::terminal);
      if (c.stream != nullptr) {
        boost::system::error_code ignored;
        c.stream->socket().close(ignored);
      }
    });
    lock.lock();
  }
  // Every coroutine must have ended before we return: they hold references to the router
  // and handlers the caller is about to destroy. Only a stopped loop can keep one from ending.
  while (!state->cv.wait_for(lock, std::chrono::seconds(1), [&] { return state->tasks == 0; })) {
    bool any_stopped = false;
    for (std::size_t i = 0; i < state->loops.size(); ++i) {
      any_stopped = any_stopped || state->loops.loop(i).stopped();
    }
    if (any_stopped) {
      observe::Logger("http")->error(
          "server stop: event loops stopped before the server; tasks_left={}", state->tasks);
      break;
    }
  }
  lock.unlock();
  observe::Logger("http")->info("server stopped");
}

std::size_t Server::open_connections() const { return state_->open.load(); }

}  // namespace agentd::http
