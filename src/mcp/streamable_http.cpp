#include "mcp/streamable_http.hpp"

#include <atomic>
#include <chrono>
#include <mutex>
#include <vector>

#include <fmt/format.h>

#include "runtime/providers/sse_parser.hpp"

namespace agentd::mcp {

namespace asio = boost::asio;

namespace {

bool StartsWithI(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
  }
  return true;
}

class StreamableHttp final : public Transport {
 public:
  StreamableHttp(config::McpServerSpec spec, runtime::HttpTransport& http, std::size_t max_bytes)
      : spec_(std::move(spec)), http_(http), max_bytes_(max_bytes) {}

  Status Open(TransportCallbacks callbacks) override {
    callbacks_ = std::move(callbacks);
    closed_.store(false);
    return {};
  }

  void Close() override {
    if (closed_.exchange(true)) return;
    callbacks_.on_closed("closed");
  }

  void ResetSession() override {
    std::lock_guard lock(mu_);
    session_id_.clear();
  }
  void SetProtocolVersion(std::string version) override {
    std::lock_guard lock(mu_);
    version_ = std::move(version);
  }

  asio::awaitable<Status> Send(std::string message, std::optional<std::int64_t> request_id) override {
    if (closed_.load()) co_return Error(Errc::kUnavailable, "not connected");
    runtime::HttpCall call;
    call.url = spec_.url;
    call.body = std::move(message);
    std::string session;
    {
      std::lock_guard lock(mu_);
      session = session_id_;
      if (!version_.empty()) call.headers.emplace_back("MCP-Protocol-Version", version_);
    }
    call.headers.emplace_back("content-type", "application/json");
    call.headers.emplace_back("accept", "application/json, text/event-stream");
    if (!session.empty()) call.headers.emplace_back("Mcp-Session-Id", session);
    for (const auto& h : spec_.headers) call.headers.emplace_back(h.name, h.value);
    call.connect_timeout = std::min(spec_.timeout, std::chrono::milliseconds(10'000));
    call.first_byte_timeout = spec_.timeout;
    call.idle_timeout = spec_.timeout;
    call.deadline = std::chrono::steady_clock::now() + spec_.timeout;

    struct State {
      int status = 0;
      bool sse = false;
      std::string body;
      runtime::providers::SseParser parser;
      std::vector<runtime::providers::SseEvent> events;
      bool answered = false;
    };
    auto state = std::make_shared<State>();
    runtime::providers::SseParserOptions sse_options;
    sse_options.max_event_data_bytes = max_bytes_;
    sse_options.max_line_bytes = max_bytes_;
    state->parser = runtime::providers::SseParser(sse_options);
    call.on_head = [this, state](const runtime::HttpReply& head) {
      state->status = head.status;
      state->sse = StartsWithI(head.Header("content-type"), "text/event-stream");
      if (std::string id = head.Header("mcp-session-id"); !id.empty() && head.status < 300) {
        std::lock_guard lock(mu_);
        session_id_ = std::move(id);
      }
    };
    auto deliver = [this, state, request_id](std::string_view text) {
      auto parsed = ParseMessage(text);
      if (!parsed) {
        callbacks_.on_garbage(parsed.error().message);
        return;
      }
      if (request_id && parsed->kind == MessageKind::kResponse &&
          IntegerId(parsed->id) == request_id) {
        state->answered = true;
      }
      callbacks_.on_message(std::move(*parsed));
    };
    static const Error kDone(Errc::kCancelled, "answered");
    auto reply = co_await http_.Send(std::move(call), [this, state, deliver](std::string_view bytes) -> Status {
      if (state->status >= 300) {
        if (state->body.size() < 2048) state->body.append(bytes.substr(0, 2048));
        return {};
      }
      if (!state->sse) {
        if (state->body.size() + bytes.size() > max_bytes_) {
          return Error(Errc::kResourceExhausted,
                       fmt::format("the reply is larger than {} bytes", max_bytes_));
        }
        state->body.append(bytes);
        return {};
      }
      state->events.clear();
      if (auto st = state->parser.Feed(bytes, state->events); !st) {
        return Error(Errc::kResourceExhausted,
                     fmt::format("a reply event is larger than {} bytes", max_bytes_));
      }
      for (const auto& e : state->events) {
        if (!e.data.empty()) deliver(e.data);
      }
      // Leave the stream once our answer is in (the server may keep it open).
      if (state->answered) return kDone;
      return {};
    });
    if (!reply) {
      if (state->answered) co_return Status{};
      co_return reply.error();
    }
    if (reply->status == 404 && !session.empty()) {
      co_return Error(Errc::kNotFound, "the server no longer knows the session (HTTP 404)");
    }
    if (reply->status >= 300) {
      co_return Error(Errc::kUnavailable,
                      fmt::format("HTTP {}: {}", reply->status, state->body.substr(0, 300)));
    }
    if (!state->sse && !state->body.empty()) deliver(state->body);
    co_return Status{};
  }

 private:
  config::McpServerSpec spec_;
  runtime::HttpTransport& http_;
  std::size_t max_bytes_;
  TransportCallbacks callbacks_;
  std::atomic<bool> closed_{false};
  std::mutex mu_;
  std::string session_id_;
  std::string version_;
};

}  // namespace

std::shared_ptr<Transport> MakeStreamableHttpTransport(const config::McpServerSpec& spec,
                                                       runtime::HttpTransport& http,
                                                       std::size_t max_message_bytes) {
  return std::make_shared<StreamableHttp>(spec, http, max_message_bytes);
}

}  // namespace agentd::mcp
