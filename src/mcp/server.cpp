#include "mcp/server.hpp"

#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/object.hpp>
#include <fmt/format.h>

#include "mcp/stdio_transport.hpp"
#include "mcp/streamable_http.hpp"
#include "mcp/tool_result.hpp"
#include "observe/log.hpp"

namespace agentd::mcp {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace asio::experimental::awaitable_operators;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

struct McpServer::Pending {
  explicit Pending(asio::any_io_executor ex) : done(std::move(ex), 1) {}
  Signal done;
  Result<json::value> result = Error(Errc::kUnavailable, "no answer");
};

struct McpServer::Metrics {
  Metrics(observe::Metrics& m, const std::string& server) {
    auto calls = [&](const char* outcome) -> observe::Counter& {
      return m.GetCounter("agentd_mcp_calls_total", "MCP tools/call by server and outcome",
                          {{"server", server}, {"outcome", outcome}});
    };
    success = &calls("success");
    error = &calls("error");
    timeout = &calls("timeout");
    cancelled = &calls("cancelled");
    latency = &m.GetHistogram("agentd_mcp_call_latency_seconds",
                              "MCP tools/call latency, sent -> answered", {{"server", server}});
    restarts = &m.GetCounter("agentd_mcp_restarts_total",
                             "MCP connections lost and made again (stdio: process restarts)",
                             {{"server", server}});
    up = &m.GetGauge("agentd_mcp_up", "1 while the MCP server is connected and initialized",
                     {{"server", server}});
    tools = &m.GetGauge("agentd_mcp_tools", "Tools agentd offers from this MCP server",
                        {{"server", server}});
    refused = &m.GetCounter("agentd_mcp_tools_refused_total",
                            "tools/list entries refused (invalid schema or name, name collision)",
                            {{"server", server}});
    protocol_errors = &m.GetCounter(
        "agentd_mcp_protocol_errors_total",
        "Messages from the MCP server that were not JSON-RPC or exceeded the size bound",
        {{"server", server}});
  }
  observe::Counter* success;
  observe::Counter* error;
  observe::Counter* timeout;
  observe::Counter* cancelled;
  observe::Histogram* latency;
  observe::Counter* restarts;
  observe::Gauge* up;
  observe::Gauge* tools;
  observe::Counter* refused;
  observe::Counter* protocol_errors;
};

namespace {

std::shared_ptr<spdlog::logger> Log() {
  static auto log = observe::Logger("mcp");
  return log;
}

}  // namespace

McpServer::McpServer(config::McpServerSpec spec, asio::any_io_executor strand,
                     runtime::HttpTransport& http, observe::Metrics* metrics,
                     std::function<void()> on_tools_changed)
    : spec_(std::move(spec)),
      strand_(std::move(strand)),
      http_(http),
      on_tools_changed_(std::move(on_tools_changed)),
      metrics_(metrics ? std::make_unique<Metrics>(*metrics, spec_.name) : nullptr),
      max_message_bytes_(std::max<std::size_t>(8u << 20, 2 * spec_.max_output_bytes)),
      tools_(std::make_shared<const std::vector<config::ToolSpec>>()),
      closed_(strand_, 1) {}

McpServer::~McpServer() {
  if (transport_) transport_->Close();
}

void McpServer::Start() {
  asio::co_spawn(strand_, Supervise(shared_from_this()), [name = spec_.name](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      Log()->error("mcp supervisor ended by an exception: server={} error=\"{}\"", name, ex.what());
    }
  });
}

void McpServer::Stop() {
  std::shared_ptr<Transport> transport;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    transport = transport_;
  }
  if (transport) transport->Close();
  closed_.try_send(boost::system::error_code{});
}

std::shared_ptr<const std::vector<config::ToolSpec>> McpServer::tools() const {
  std::lock_guard lock(mu_);
  return tools_;
}

std::vector<std::string> McpServer::refusals() const {
  std::lock_guard lock(mu_);
  return refusals_;
}

bool McpServer::up() const {
  std::lock_guard lock(mu_);
  return up_;
}

std::string McpServer::last_error() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

int McpServer::pid_for_test() const {
  std::lock_guard lock(mu_);
  return transport_ ? transport_->pid() : 0;
}

std::size_t McpServer::in_flight() const {
  std::lock_guard lock(mu_);
  return pending_.size();
}

void McpServer::SetUp(bool up, std::string error) {
  std::vector<std::shared_ptr<Signal>> waiters;
  {
    std::lock_guard lock(mu_);
    up_ = up;
    if (!error.empty()) last_error_ = std::move(error);
    if (up) waiters.swap(up_waiters_);
  }
  if (metrics_) metrics_->up->Set(up ? 1 : 0);
  for (auto& w : waiters) w->try_send(boost::system::error_code{});
}

asio::awaitable<void> McpServer::Supervise(std::shared_ptr<McpServer> self) {
  int failures = 0;
  bool first = true;
  while (true) {
    {
      std::lock_guard lock(self->mu_);
      if (self->stopping_) break;
    }
    // A close signal left from the previous connection must not end the next one.
    self->closed_.try_receive([](boost::system::error_code) {});
    Status st = co_await self->Connect();
    if (st) {
      failures = 0;
      if (!first && self->metrics_) self->metrics_->restarts->Inc();
      self->SetUp(true, {});
      // The merged list includes only servers that are up: rebuild it now that this one is.
      if (self->on_tools_changed_) self->on_tools_changed_();
      self->attempted_.store(true);
      Log()->info("mcp server up: server={} transport={} tools={}", self->spec_.name,
                  self->spec_.transport, self->tools()->size());
      co_await self->closed_.async_receive(asio::as_tuple(asio::use_awaitable));
      std::string why = self->last_error();
      self->SetUp(false, {});
      {
        std::lock_guard lock(self->mu_);
        self->transport_.reset();
      }
      Log()->warn("mcp server down: server={} why=\"{}\"", self->spec_.name, why);
    } else {
      ++failures;
      {
        std::lock_guard lock(self->mu_);
        if (self->transport_) self->transport_->Close();
        self->transport_.reset();
      }
      self->SetUp(false, st.error().message);
      self->attempted_.store(true);
      Log()->warn("mcp server failed to connect: server={} attempt={} error=\"{}\"",
                  self->spec_.name, failures, st.error().message);
    }
    first = false;
    // The death of the connection that just failed may have signalled closed_: only Stop()
    // (which sets stopping_ first) may cut the backoff short.
    self->closed_.try_receive([](boost::system::error_code) {});
    {
      std::lock_guard lock(self->mu_);
      if (self->stopping_) break;
    }
    const milliseconds backoff(std::min<std::int64_t>(30'000, 250LL << std::clamp(failures - 1, 0, 7)));
    asio::steady_timer timer(self->strand_);
    timer.expires_after(failures == 0 ? milliseconds(100) : backoff);
    // Stop() wakes the wait through closed_.
    co_await (timer.async_wait(asio::as_tuple(asio::use_awaitable)) ||
              self->closed_.async_receive(asio::as_tuple(asio::use_awaitable)));
  }
  self->SetUp(false, "stopped");
}

asio::awaitable<Status> McpServer::Connect() {
  std::shared_ptr<Transport> transport =
      spec_.transport == "stdio"
          ? MakeStdioTransport(spec_, strand_, max_message_bytes_)
          : MakeStreamableHttpTransport(spec_, http_, max_message_bytes_);
  std::weak_ptr<McpServer> weak = weak_from_this();
  const Transport* raw = transport.get();
  TransportCallbacks callbacks;
  callbacks.on_message = [weak, raw](Message m) {
    if (auto self = weak.lock()) self->OnMessage(raw, std::move(m));
  };
  callbacks.on_garbage = [weak](std::string why) {
    auto self = weak.lock();
    if (!self) return;
    if (self->metrics_) self->metrics_->protocol_errors->Inc();
    static observe::RateLimit limit(std::chrono::seconds(10));
    std::uint64_t suppressed = 0;
    if (limit.Allow(&suppressed)) {
      Log()->warn("mcp server sent a message that is not JSON-RPC, ignored: server={} why=\"{}\" "
                  "suppressed={}", self->spec_.name, why, suppressed);
    }
  };
  callbacks.on_oversized = [weak](std::optional<std::int64_t> id, std::size_t bytes) {
    auto self = weak.lock();
    if (!self) return;
    if (self->metrics_) self->metrics_->protocol_errors->Inc();
    Log()->warn("mcp server sent a message over the size bound, dropped: server={} bytes={}",
                self->spec_.name, bytes);
    if (id) {
      self->Complete(*id, Error(Errc::kResourceExhausted,
                                fmt::format("the answer ({} bytes) is larger than the {}-byte bound",
                                            bytes, self->max_message_bytes_)));
    }
  };
  callbacks.on_closed = [weak, raw](std::string why) {
    if (auto self = weak.lock()) self->OnClosed(raw, std::move(why));
  };
  if (auto st = transport->Open(std::move(callbacks)); !st) co_return st;
  {
    std::lock_guard lock(mu_);
    if (stopping_) {
      transport->Close();
      co_return Error(Errc::kCancelled, "stopping");
    }
    transport_ = transport;
  }
  if (auto st = co_await Initialize(transport); !st) co_return st;
  co_return co_await RefreshTools();
}

asio::awaitable<Status> McpServer::Initialize(std::shared_ptr<Transport> transport) {
  transport->ResetSession();
  json::object params{
      {"protocolVersion", kProtocolVersion},
      {"capabilities", json::object{}},
      {"clientInfo", json::object{{"name", "agentd"}, {"version", "0.1.0"}}},
  };
  auto init = co_await Request("initialize", std::move(params), spec_.timeout);
  if (!init) co_return Error(init.error().code, "initialize: " + init.error().message);
  std::string version(kProtocolVersion);
  if (init->is_object()) {
    if (const auto* v = init->get_object().if_contains("protocolVersion"); v && v->is_string()) {
      version = std::string(v->get_string());
    }
  }
  // Versions whose Streamable HTTP / stdio framing and tools methods are what we speak.
  static constexpr std::string_view kSupported[] = {"2025-11-25", "2025-06-18", "2025-03-26"};
  if (std::find(std::begin(kSupported), std::end(kSupported), version) == std::end(kSupported)) {
    co_return Error(Errc::kUnsupported,
                    fmt::format("initialize: the server speaks protocol {}, agentd speaks {}",
                                version, kProtocolVersion));
  }
  transport->SetProtocolVersion(version);
  if (auto st = co_await transport->Send(EncodeNotification("notifications/initialized", nullptr),
                                         std::nullopt);
      !st) {
    co_return Error(st.error().code, "notifications/initialized: " + st.error().message);
  }
  co_return Status{};
}

asio::awaitable<Status> McpServer::RefreshTools() {
  std::vector<config::ToolSpec> all;
  std::vector<std::string> refusals;
  std::optional<std::string> cursor;
  for (int page = 0; page < 100; ++page) {  // 100 pages: a server that pages forever is cut
    json::object params;
    if (cursor) params["cursor"] = *cursor;
    auto result = co_await Request("tools/list", std::move(params), spec_.timeout);
    if (!result) co_return Error(result.error().code, "tools/list: " + result.error().message);
    auto parsed = ParseToolsPage(*result, spec_);
    if (!parsed) co_return Error(parsed.error().code, "tools/list: " + parsed.error().message);
    for (auto& t : parsed->tools) all.push_back(std::move(t));
    for (auto& r : parsed->refusals) refusals.push_back(std::move(r));
    cursor = parsed->next_cursor;
    if (!cursor) break;
  }
  for (const auto& r : refusals) {
    Log()->warn("mcp tool refused: server={} tool={}", spec_.name, r);
  }
  if (metrics_) {
    metrics_->refused->Inc(refusals.size());
    metrics_->tools->Set(static_cast<double>(all.size()));
  }
  {
    std::lock_guard lock(mu_);
    tools_ = std::make_shared<const std::vector<config::ToolSpec>>(std::move(all));
    refusals_ = std::move(refusals);
  }
  if (on_tools_changed_) on_tools_changed_();
  co_return Status{};
}

asio::awaitable<void> McpServer::RefreshLater(std::shared_ptr<McpServer> self) {
  if (auto st = co_await self->RefreshTools(); !st) {
    Log()->warn("mcp tools/list after list_changed failed: server={} error=\"{}\"",
                self->spec_.name, st.error().message);
  }
}

asio::awaitable<void> McpServer::SendLater(std::shared_ptr<Transport> transport,
                                           std::string message) {
  (void)co_await transport->Send(std::move(message), std::nullopt);
}

void McpServer::OnMessage(const Transport* from, Message m) {
  std::shared_ptr<Transport> transport;
  {
    std::lock_guard lock(mu_);
    if (transport_.get() != from) return;  // a message of a dead connection
    transport = transport_;
  }
  switch (m.kind) {
    case MessageKind::kResponse: {
      const auto id = IntegerId(m.id);
      if (!id) return;
      if (m.error) {
        const json::value* msg = m.error->if_contains("message");
        const json::value* code = m.error->if_contains("code");
        Complete(*id, Error(Errc::kInvalidArgument,
                            fmt::format("{} (JSON-RPC error {})",
                                        msg && msg->is_string() ? std::string(msg->get_string()) : "no message",
                                        code && code->is_int64() ? code->get_int64() : 0)));
      } else {
        Complete(*id, std::move(m.result));
      }
      return;
    }
    case MessageKind::kNotification:
      if (m.method == "notifications/tools/list_changed") {
        asio::co_spawn(strand_, RefreshLater(shared_from_this()), asio::detached);
      }
      return;
    case MessageKind::kRequest: {
      std::string reply = m.method == "ping"
                              ? EncodeResult(m.id, json::object{})
                              : EncodeError(m.id, -32601, "method not supported by agentd");
      asio::co_spawn(strand_, SendLater(transport, std::move(reply)), asio::detached);
      return;
    }
  }
}

void McpServer::OnClosed(const Transport* from, std::string why) {
  std::map<std::int64_t, std::shared_ptr<Pending>> pending;
  {
    std::lock_guard lock(mu_);
    if (transport_.get() != from) return;
    pending.swap(pending_);
    last_error_ = why;
    // Down now, not when the supervisor gets to it: a call made in between must wait for the
    // reconnect (WaitUp) instead of sending on the dead connection.
    up_ = false;
  }
  if (metrics_) metrics_->up->Set(0);
  for (auto& [id, p] : pending) {
    p->result = Error(Errc::kUnavailable, fmt::format("the connection was lost ({})", why));
    p->done.try_send(boost::system::error_code{});
  }
  closed_.try_send(boost::system::error_code{});
}

void McpServer::Complete(std::int64_t id, Result<json::value> result) {
  std::shared_ptr<Pending> p;
  {
    std::lock_guard lock(mu_);
    auto it = pending_.find(id);
    if (it == pending_.end()) return;  // late (timed out, cancelled) or unknown
    p = std::move(it->second);
    pending_.erase(it);
  }
  p->result = std::move(result);
  p->done.try_send(boost::system::error_code{});
}

namespace {

asio::awaitable<Status> SendThenWait(std::shared_ptr<Transport> transport, std::string message,
                                     std::int64_t id, std::shared_ptr<McpServer::Signal> done,
                                     std::function<void(Error)> fail) {
  co_await asio::this_coro::throw_if_cancelled(false);
  if (auto st = co_await transport->Send(std::move(message), id); !st) {
    fail(st.error());
  }
  auto [ec] = co_await done->async_receive(asio::as_tuple(asio::use_awaitable));
  if (ec) co_return Error(Errc::kCancelled, "cancelled");
  co_return Status{};
}

}  // namespace

asio::awaitable<Result<json::value>> McpServer::Request(std::string method, json::value params,
                                                        milliseconds timeout) {
  co_await asio::this_coro::throw_if_cancelled(false);
  auto ex = co_await asio::this_coro::executor;
  const std::int64_t id = next_id_.fetch_add(1);
  // The signal belongs to the server's strand, not to the caller's executor: the reader thread
  // that completes it may drop the last reference after the caller has finished and its
  // io_context is gone, and destroying a channel touches its execution context's channel
  // service. The caller still resumes on its own executor (the awaitable's).
  auto pending = std::make_shared<Pending>(strand_);
  std::shared_ptr<Transport> transport;
  {
    std::lock_guard lock(mu_);
    if (!transport_) co_return Error(Errc::kUnavailable, "not connected: " + last_error_);
    transport = transport_;
    pending_[id] = pending;
  }
  std::shared_ptr<Signal> done(pending, &pending->done);
  auto fail = [weak = weak_from_this(), id](Error e) {
    if (auto self = weak.lock()) self->Complete(id, std::move(e));
  };
  asio::steady_timer timer(ex);
  timer.expires_after(timeout);
  std::variant<Status, std::tuple<boost::system::error_code>> raced;
  try {
    raced = co_await (SendThenWait(transport, EncodeRequest(id, method, std::move(params)), id, done, fail) ||
                      timer.async_wait(asio::as_tuple(asio::use_awaitable)));
  } catch (const std::exception& e) {
    raced = Status(Error(Errc::kInternal, e.what()));
  }
  const bool cancelled =
      (co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none;
  if (raced.index() == 0 && std::get<0>(raced)) co_return std::move(pending->result);
  bool was_pending = false;
  {
    std::lock_guard lock(mu_);
    was_pending = pending_.erase(id) > 0;
  }
  if (!was_pending && !cancelled && raced.index() == 0) co_return std::move(pending->result);
  if (was_pending) {
    // Tell the server to stop working on it (MCP "Cancellation"); not for initialize.
    json::object note{{"requestId", id},
                      {"reason", cancelled ? "cancelled by the client" : "timed out"}};
    if (method != "initialize") {
      asio::co_spawn(strand_, SendLater(transport, EncodeNotification("notifications/cancelled", std::move(note))),
                     asio::detached);
    }
  }
  if (cancelled) co_return Error(Errc::kCancelled, method + " cancelled");
  co_return Error(Errc::kTimeout, fmt::format("{} got no answer within {} ms (timeout_ms)", method,
                                              timeout.count()));
}

asio::awaitable<bool> McpServer::WaitUp(Clock::time_point deadline) {
  auto ex = co_await asio::this_coro::executor;
  auto signal = std::make_shared<Signal>(strand_, 1);  // strand_: see Request
  {
    std::lock_guard lock(mu_);
    if (up_) co_return true;
    if (stopping_) co_return false;
    up_waiters_.push_back(signal);
  }
  asio::steady_timer timer(ex);
  timer.expires_at(deadline);
  co_await (signal->async_receive(asio::as_tuple(asio::use_awaitable)) ||
            timer.async_wait(asio::as_tuple(asio::use_awaitable)));
  std::lock_guard lock(mu_);
  std::erase(up_waiters_, signal);
  co_return up_;
}

asio::awaitable<runtime::ToolOutcome> McpServer::Call(const config::ToolSpec& tool, json::value args) {
  co_await asio::this_coro::throw_if_cancelled(false);
  const auto start = Clock::now();
  const auto deadline = start + spec_.timeout;
  auto outcome_of = [&](Errc code, const std::string& message) -> runtime::ToolOutcome {
    if (metrics_) {
      (code == Errc::kTimeout ? metrics_->timeout
       : code == Errc::kCancelled ? metrics_->cancelled
                                  : metrics_->error)->Inc();
    }
    return {fmt::format("Error: MCP tool {} (server {}): {}", tool.name, spec_.name, message), false};
  };
  if (!up()) {
    const bool up_now = co_await WaitUp(deadline);
    if ((co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none) {
      co_return outcome_of(Errc::kCancelled, "cancelled");
    }
    if (!up_now) {
      co_return outcome_of(Errc::kUnavailable,
                           fmt::format("the server is down (last error: {}); the call was not sent",
                                       last_error()));
    }
  }
  if (args.is_null()) args = json::object{};
  json::object params{{"name", tool.remote_name}, {"arguments", args}};
  auto remaining = [&] {
    return std::max(milliseconds(1), std::chrono::duration_cast<milliseconds>(deadline - Clock::now()));
  };
  auto result = co_await Request("tools/call", params, remaining());
  if (!result && result.error().code == Errc::kNotFound && spec_.transport == "streamable_http") {
    // The server forgot our session (restarted, expired): initialize again, then retry once.
    std::shared_ptr<Transport> transport;
    {
      std::lock_guard lock(mu_);
      transport = transport_;
    }
    if (transport) {
      Log()->info("mcp session expired, initializing again: server={}", spec_.name);
      if (auto st = co_await Initialize(transport); st) {
        result = co_await Request("tools/call", std::move(params), remaining());
      } else {
        result = st.error();
      }
    }
  }
  if (!result) {
    const Error& e = result.error();
    if (e.code == Errc::kUnavailable && spec_.transport == "streamable_http") {
      // The server cannot be reached: the supervisor reconnects with backoff.
      std::shared_ptr<Transport> transport;
      {
        std::lock_guard lock(mu_);
        transport = transport_;
      }
      if (transport) transport->Close();
    }
    if (e.code == Errc::kTimeout) {
      co_return outcome_of(e.code, fmt::format("tools/call got no answer within {} ms (timeout_ms)",
                                               spec_.timeout.count()));
    }
    co_return outcome_of(e.code, e.message);
  }
  if (metrics_) {
    metrics_->latency->Observe(std::chrono::duration<double>(Clock::now() - start).count());
  }
  runtime::ToolOutcome outcome = MapToolResult(tool, *result, spec_.max_output_bytes);
  if (metrics_) (outcome.ok ? metrics_->success : metrics_->error)->Inc();
  co_return outcome;
}

}  // namespace agentd::mcp
