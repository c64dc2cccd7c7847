// Configured HTTP tools and model settings through the real binary. `agentd serve` runs as a
// child process with a config file whose models and tools point at an upstream HTTP server
// this test runs on 127.0.0.1 (port 0): an OpenAI-compatible and an Anthropic-compatible chat
// endpoint that record every request and answer scripted streams, and tool endpoints that
// answer, fail with 5xx, or hang. The test checks what reached the upstream (tool schemas and
// descriptions offered to the model, the tool call's arguments, sampling settings, headers,
// params) and what the run made of it (tool messages, retries, timeouts, a stalled stream),
// also for a graph file (graphs[] {"file"}) that names the configured tool.
//
// Scripted model (both chat endpoints): when the last message is a tool result, reply
// "echo: <result>"; when the last user message is "call:<json>" and tools are offered, call the
// first offered tool with <json> as its arguments; otherwise reply "echo: <user text>".

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "agentd_child.hpp"
#include "http/event_loops.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "observe/metrics.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"

namespace agentd {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;
using http::Request;
using http::Response;
using testing::AgentdChild;
using testing::HttpClient;

constexpr std::string_view kOpenAiReplyModel = "gpt-upstream-2025-01-01";
constexpr std::string_view kAnthropicReplyModel = "claude-upstream-20250101";

struct Recorded {
  std::string path;
  http::HeaderList headers;
  std::string body;

  std::string Header(std::string_view name) const {
    for (const auto& [n, v] : headers) {
      if (http::EqualsIgnoreCase(n, name)) return v;
    }
    return {};
  }
  json::value Json() const { return json::parse(body); }
};

std::string Sse(const json::value& data) { return "data: " + json::serialize(data) + "\n\n"; }
std::string Sse(std::string_view event, const json::value& data) {
  return fmt::format("event: {}\ndata: {}\n\n", event, json::serialize(data));
}

std::string Text(const json::value& content) {
  if (content.is_string()) return std::string(content.get_string());
  std::string out;
  if (content.is_array()) {
    for (const auto& part : content.get_array()) {
      if (part.is_object() && part.get_object().contains("text")) {
        out += json::value_to<std::string>(part.at("text"));
      }
    }
  }
  return out;
}

// What the scripted model does next: a text reply or one call of the first offered tool.
struct Script {
  std::string text;
  std::string tool_name;  // set: call it with `arguments`
  std::string arguments;
};

Script Decide(const json::object& body, bool anthropic) {
  const json::array& messages = body.at("messages").as_array();
  const json::object& last = messages.back().as_object();
  const bool has_tools = body.contains("tools") && !body.at("tools").as_array().empty();
  if (!anthropic && last.at("role") == "tool") return {"echo: " + Text(last.at("content")), {}, {}};
  if (anthropic && last.at("content").is_array()) {
    for (const auto& block : last.at("content").as_array()) {
      if (block.at("type") == "tool_result") {
        return {"echo: " + Text(block.at("content")), {}, {}};
      }
    }
  }
  const std::string said = Text(last.at("content"));
  if (has_tools && said.rfind("call:", 0) == 0) {
    const json::object& tool = body.at("tools").as_array()[0].as_object();
    const std::string name = anthropic ? json::value_to<std::string>(tool.at("name"))
                                       : json::value_to<std::string>(tool.at("function").at("name"));
    return {{}, name, said.substr(5)};
  }
  return {"echo: " + said, {}, {}};
}

std::vector<std::string> OpenAiFrames(const Script& s, int n) {
  auto chunk = [&](json::object delta, json::value finish) {
    return Sse(json::object{
        {"id", fmt::format("chatcmpl-{}", n)},
        {"object", "chat.completion.chunk"},
        {"created", 1},
        {"model", kOpenAiReplyModel},
        {"choices", json::array{json::object{
                        {"index", 0}, {"delta", std::move(delta)}, {"finish_reason", finish}}}}});
  };
  std::vector<std::string> frames;
  if (s.tool_name.empty()) {
    frames.push_back(chunk({{"role", "assistant"}, {"content", ""}}, nullptr));
    frames.push_back(chunk({{"content", s.text}}, nullptr));
    frames.push_back(chunk({}, "stop"));
  } else {
    json::object start{{"index", 0},
                       {"id", fmt::format("call_{}", n)},
                       {"type", "function"},
                       {"function", {{"name", s.tool_name}, {"arguments", ""}}}};
    frames.push_back(chunk({{"role", "assistant"}, {"content", nullptr},
                            {"tool_calls", json::array{start}}}, nullptr));
    frames.push_back(chunk({{"tool_calls", json::array{json::object{
                                {"index", 0}, {"function", {{"arguments", s.arguments}}}}}}},
                           nullptr));
    frames.push_back(chunk({}, "tool_calls"));
  }
  frames.push_back(Sse(json::object{{"id", fmt::format("chatcmpl-{}", n)},
                                    {"object", "chat.completion.chunk"},
                                    {"model", kOpenAiReplyModel},
                                    {"choices", json::array{}},
                                    {"usage", {{"prompt_tokens", 10}, {"completion_tokens", 2},
                                               {"total_tokens", 12}}}}));
  frames.push_back("data: [DONE]\n\n");
  return frames;
}

std::vector<std::string> AnthropicFrames(const Script& s, int n) {
  EXPECT_TRUE(s.tool_name.empty()) << "the Anthropic script only answers text";
  return {
      Sse("message_start",
          json::object{{"type", "message_start"},
                       {"message", {{"id", fmt::format("msg_{}", n)},
                                    {"type", "message"},
                                    {"role", "assistant"},
                                    {"model", kAnthropicReplyModel},
                                    {"content", json::array{}},
                                    {"stop_reason", nullptr},
                                    {"usage", {{"input_tokens", 10}, {"output_tokens", 1}}}}}}),
      Sse("content_block_start", json::object{{"type", "content_block_start"},
                                              {"index", 0},
                                              {"content_block", {{"type", "text"}, {"text", ""}}}}),
      Sse("content_block_delta",
          json::object{{"type", "content_block_delta"},
                       {"index", 0},
                       {"delta", {{"type", "text_delta"}, {"text", s.text}}}}),
      Sse("content_block_stop", json::object{{"type", "content_block_stop"}, {"index", 0}}),
      Sse("message_delta", json::object{{"type", "message_delta"},
                                        {"delta", {{"stop_reason", "end_turn"}}},
                                        {"usage", {{"output_tokens", 2}}}}),
      Sse("message_stop", json::object{{"type", "message_stop"}}),
  };
}

// The upstream: chat endpoints and tool endpoints on one loopback server.
class Upstream {
 public:
  Upstream() : loops_(1) {
    auto self = this;
    auto chat = [self](bool anthropic) {
      return [self, anthropic](Request& req) -> asio::awaitable<Response> {
        const int n = self->Record(req);
        const json::value body = json::parse(req.body);
        const Script script = Decide(body.as_object(), anthropic);
        co_return self->Stream(anthropic ? AnthropicFrames(script, n) : OpenAiFrames(script, n),
                               /*stall_after=*/false);
      };
    };
    router_.Add(http::Method::kPost, "/v1/chat/completions", chat(false));
    router_.Add(http::Method::kPost, "/v1/messages", chat(true));
    // Sends the head and one content chunk, then nothing (the connection stays open).
    router_.Add(http::Method::kPost, "/stall/v1/chat/completions",
                [self](Request& req) -> asio::awaitable<Response> {
                  const int n = self->Record(req);
                  auto frames = OpenAiFrames({"partial answer", {}, {}}, n);
                  frames.resize(2);  // the role chunk and one content chunk
                  co_return self->Stream(std::move(frames), /*stall_after=*/true);
                });
    // Never sends a response head.
    router_.Add(http::Method::kPost, "/silent/v1/chat/completions",
                [self](Request& req) -> asio::awaitable<Response> {
                  self->Record(req);
                  co_await self->WaitForStop();
                  co_return Response::Text(503, "stopping");
                });
    // A byte of SSE comment every 50 ms, forever: never idle, never done.
    router_.Add(http::Method::kPost, "/trickle/v1/chat/completions",
                [self](Request& req) -> asio::awaitable<Response> {
                  self->Record(req);
                  co_return Response::Stream(200, "text/event-stream",
                                             [self](http::BodyWriter& w) -> asio::awaitable<void> {
                                               while (!self->stopping_ && !w.closed()) {
                                                 if (!co_await w.Write(":\n")) co_return;
                                                 co_await self->Pause(50ms);
                                               }
                                             });
                });
    router_.Add(http::Method::kPost, "/tools/echo", [self](Request& req) -> asio::awaitable<Response> {
      self->Record(req);
      co_return Response::Text(200, "got " + req.body);
    });
    // 503 for the first two calls, then 200.
    router_.Add(http::Method::kPost, "/tools/flaky", [self](Request& req) -> asio::awaitable<Response> {
      self->Record(req);
      if (self->flaky_calls_.fetch_add(1) < 2) co_return Response::Text(503, "busy, try again");
      co_return Response::Text(200, "recovered: " + req.body);
    });
    router_.Add(http::Method::kPost, "/tools/down", [self](Request& req) -> asio::awaitable<Response> {
      self->Record(req);
      co_return Response::Text(500, "database on fire");
    });
    router_.Add(http::Method::kPost, "/tools/refuse", [self](Request& req) -> asio::awaitable<Response> {
      self->Record(req);
      co_return Response::Text(422, "tracking_id is malformed");
    });
    router_.Add(http::Method::kPost, "/tools/hang", [self](Request& req) -> asio::awaitable<Response> {
      self->Record(req);
      co_await self->WaitForStop();
      co_return Response::Text(503, "stopping");
    });

    http::ServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.shutdown_grace = 200ms;
    server_ = std::make_unique<http::Server>(options, loops_, router_, metrics_);
    loops_.Start();
    port_ = server_->Start().value();
  }
  ~Upstream() {
    stopping_ = true;
    server_->Stop();
    loops_.Stop();
  }

  std::string url() const { return fmt::format("http://127.0.0.1:{}", port_); }

  std::vector<Recorded> Requests(std::string_view path) const {
    std::lock_guard lock(mutex_);
    std::vector<Recorded> out;
    for (const auto& r : recorded_) {
      if (r.path == path) out.push_back(r);
    }
    return out;
  }

 private:
  int Record(const Request& req) {
    std::lock_guard lock(mutex_);
    recorded_.push_back({req.path, req.headers, req.body});
    return static_cast<int>(recorded_.size());
  }

  asio::awaitable<void> Pause(std::chrono::milliseconds d) {
    asio::steady_timer timer(co_await asio::this_coro::executor, d);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  asio::awaitable<void> WaitForStop() {
    while (!stopping_) co_await Pause(20ms);
  }

  Response Stream(std::vector<std::string> frames, bool stall_after) {
    auto self = this;
    return Response::Stream(
        200, "text/event-stream",
        [self, frames = std::move(frames), stall_after](http::BodyWriter& w) -> asio::awaitable<void> {
          for (const auto& f : frames) {
            if (!co_await w.Write(f)) co_return;
          }
          while (stall_after && !self->stopping_ && !w.closed()) co_await self->Pause(20ms);
        });
  }

  http::EventLoops loops_;
  http::Router router_;
  observe::Metrics metrics_;
  std::unique_ptr<http::Server> server_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> flaky_calls_{0};
  mutable std::mutex mutex_;
  std::vector<Recorded> recorded_;
};

const json::object kShippingSchema{
    {"type", "object"},
    {"properties", {{"tracking_id", {{"type", "string"}, {"description", "The parcel's id"}}}}},
    {"required", json::array{"tracking_id"}},
};

// A graph file using the configured model and HTTP tool by name (graphs[] {"file"}).
constexpr std::string_view kShippingGraphFile = R"(graph_id: shipping_file
nodes:
  agent: {kind: llm, model: gpt, system: You track parcels., tools: [shipping_status]}
  tools: {kind: tools}
edges:
  - {from: __start__, to: agent}
  - from: agent
    branches:
      - {when: {tool_calls: true}, to: tools}
      - {to: __end__}
  - {from: tools, to: agent}
)";

std::string ConfigFor(const Upstream& up, const std::string& graph_file) {
  const std::string u = up.url();
  json::object config{
      {"models",
       json::array{
           json::object{{"name", "gpt"},
                        {"provider", "openai"},
                        {"model", "gpt-configured"},
                        {"base_url", u + "/v1"},
                        {"api_key_env", "TEST_LLM_KEY"},
                        {"temperature", 0.25},
                        {"top_p", 0.5},
                        {"max_tokens", 77},
                        {"stop", json::array{"STOP"}},
                        {"headers", {{"X-Org", {{"env", "TEST_ORG"}}}, {"X-Static", "fixed"}}},
                        {"params", {{"seed", 7}, {"api_version", "2024-10-21"}}}},
           json::object{{"name", "claude"},
                        {"provider", "anthropic"},
                        {"model", "claude-configured"},
                        {"base_url", u},
                        {"api_key_env", "TEST_LLM_KEY"},
                        {"temperature", 0.5},
                        {"max_tokens", 50},
                        {"stop", "END"},
                        {"headers", {{"anthropic-beta", "tools-2024"}}},
                        {"params", {{"top_k", 5}}}},
           json::object{{"name", "stalled"},
                        {"provider", "openai"},
                        {"model", "gpt-configured"},
                        {"base_url", u + "/stall/v1"},
                        {"api_key_env", "TEST_LLM_KEY"},
                        {"idle_timeout_ms", 300}},
           json::object{{"name", "silent"},
                        {"provider", "openai"},
                        {"model", "gpt-configured"},
                        {"base_url", u + "/silent/v1"},
                        {"api_key_env", "TEST_LLM_KEY"},
                        {"first_byte_timeout_ms", 300}},
           json::object{{"name", "trickle"},
                        {"provider", "openai"},
                        {"model", "gpt-configured"},
                        {"base_url", u + "/trickle/v1"},
                        {"api_key_env", "TEST_LLM_KEY"},
                        {"timeout_ms", 600}},
       }},
      {"tools",
       json::array{
           json::object{{"name", "shipping_status"},
                        {"kind", "http"},
                        {"description", "Where a parcel is right now."},
                        {"url", u + "/tools/echo"},
                        {"parameters", kShippingSchema}},
           json::object{{"name", "flaky"}, {"kind", "http"}, {"url", u + "/tools/flaky"}, {"retries", 2}},
           json::object{{"name", "down"}, {"kind", "http"}, {"url", u + "/tools/down"}, {"retries", 1}},
           json::object{{"name", "refuse"}, {"kind", "http"}, {"url", u + "/tools/refuse"}},
           json::object{{"name", "hang"},
                        {"kind", "http"},
                        {"url", u + "/tools/hang"},
                        {"timeout_ms", 300},
                        {"retries", 2}},
       }},
      {"graphs",
       json::array{
           json::object{{"graph_id", "shipping"}, {"kind", "react"}, {"model", "gpt"},
                        {"tools", json::array{"shipping_status"}}},
           json::object{{"graph_id", "flaky"}, {"kind", "react"}, {"model", "gpt"},
                        {"tools", json::array{"flaky"}}},
           json::object{{"graph_id", "down"}, {"kind", "react"}, {"model", "gpt"},
                        {"tools", json::array{"down"}}},
           json::object{{"graph_id", "refuse"}, {"kind", "react"}, {"model", "gpt"},
                        {"tools", json::array{"refuse"}}},
           json::object{{"graph_id", "hang"}, {"kind", "react"}, {"model", "gpt"},
                        {"tools", json::array{"hang"}}},
           json::object{{"graph_id", "claude"}, {"kind", "react"}, {"model", "claude"},
                        {"tools", json::array{"shipping_status"}}},
           json::object{{"graph_id", "stalled"}, {"kind", "react"}, {"model", "stalled"}},
           json::object{{"graph_id", "silent"}, {"kind", "react"}, {"model", "silent"}},
           json::object{{"graph_id", "trickle"}, {"kind", "react"}, {"model", "trickle"}},
           json::object{{"file", graph_file}},
       }},
  };
  return json::serialize(config);
}

class ConfiguredTools : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string tmp = dir_.path().string();
    const std::string config_path = tmp + "/agentd.json";
    {
      std::FILE* f = std::fopen((tmp + "/shipping.yaml").c_str(), "w");
      ASSERT_NE(f, nullptr);
      std::fwrite(kShippingGraphFile.data(), 1, kShippingGraphFile.size(), f);
      std::fclose(f);
    }
    {
      std::FILE* f = std::fopen(config_path.c_str(), "w");
      ASSERT_NE(f, nullptr);
      const std::string text = ConfigFor(upstream_, tmp + "/shipping.yaml");
      std::fwrite(text.data(), 1, text.size(), f);
      std::fclose(f);
    }
    serve_ = std::make_unique<AgentdChild>(
        std::vector<std::string>{AGENTD_BINARY, "serve", "--config", config_path, "--port", "0",
                                 "--storage", "memory", "--threads", "2"},
        testing::EnvOverrides{{"TEST_LLM_KEY", "sk-test"}, {"TEST_ORG", "org-42"}},
        tmp + "/serve.log");
    const auto port = serve_->WaitListening(20s);
    ASSERT_TRUE(port) << serve_->Log();
    client_ = std::make_unique<HttpClient>(*port, "127.0.0.1", 30s);
  }

  // POST /runs/wait on `graph` with one user message; the JSON answer.
  json::value Turn(std::string_view graph, std::string_view text) {
    json::object body{{"assistant_id", graph},
                      {"input", {{"messages", json::array{json::object{{"role", "user"},
                                                                        {"content", text}}}}}}};
    auto reply = client_->Post("/runs/wait", json::serialize(body));
    EXPECT_EQ(reply.status, 200) << reply.body << "\n" << serve_->Log();
    return json::parse(reply.body);
  }

  // The run's messages; fails the test when the run ended in an error.
  static const json::array& Messages(const json::value& answer) {
    static const json::array kNone;
    EXPECT_TRUE(answer.is_object() && answer.as_object().contains("messages")) << answer;
    if (!answer.is_object() || !answer.as_object().contains("messages")) return kNone;
    return answer.at("messages").as_array();
  }

  // One shipping_status tool round through `graph` (defined below).
  void ExpectShippingToolRound(const std::string& graph, const std::string& id);

  testing::TempDir dir_;
  Upstream upstream_;
  std::unique_ptr<AgentdChild> serve_;
  std::unique_ptr<HttpClient> client_;
};

std::string Str(const json::value& v, std::string_view key) {
  const auto* f = v.is_object() ? v.as_object().if_contains(key) : nullptr;
  return f && f->is_string() ? std::string(f->get_string()) : std::string();
}

// One shipping_status round on `graph` with tracking id `id`: the tool's answer and the echo
// of it end the run; the model was offered the configured description and schema on both of
// its calls; the tool got the model's arguments as its JSON body.
void ConfiguredTools::ExpectShippingToolRound(const std::string& graph, const std::string& id) {
  const std::string args = R"({"tracking_id":")" + id + R"("})";
  const json::value answer = Turn(graph, "call:" + args);
  const json::array& messages = Messages(answer);
  ASSERT_EQ(messages.size(), 4u) << answer;
  EXPECT_EQ(Str(messages[2], "type"), "tool") << answer;
  EXPECT_EQ(Str(messages[2], "name"), "shipping_status") << answer;
  EXPECT_EQ(Str(messages[2], "status"), "success") << answer;
  EXPECT_EQ(Str(messages[2], "content"), "got " + args) << answer;
  EXPECT_EQ(Str(messages[3], "content"), "echo: got " + args) << answer;

  const auto chats = upstream_.Requests("/v1/chat/completions");
  ASSERT_EQ(chats.size(), 2u);
  for (const auto& chat : chats) {
    EXPECT_EQ(chat.Json().at("tools"),
              (json::array{json::object{
                  {"type", "function"},
                  {"function", {{"name", "shipping_status"},
                                {"parameters", kShippingSchema},
                                {"description", "Where a parcel is right now."}}}}}))
        << chat.body;
  }
  const auto calls = upstream_.Requests("/tools/echo");
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(json::parse(calls[0].body), (json::object{{"tracking_id", id}}));
  EXPECT_EQ(calls[0].Header("content-type"), "application/json");
}

TEST_F(ConfiguredTools, HttpToolSchemaReachesTheModelAndItsCallReachesTheTool) {
  ExpectShippingToolRound("shipping", "T-1");
}

// A graph file names the configured HTTP tool: its llm node offers it with its description and
// schema, and its tools node calls it (the run's tools come from the catalog it started with).
TEST_F(ConfiguredTools, GraphFileUsesAConfiguredHttpToolByName) {
  ExpectShippingToolRound("shipping_file", "T-9");
}

TEST_F(ConfiguredTools, ModelSettingsHeadersAndParamsReachOpenAi) {
  const json::value answer = Turn("shipping", "hello");
  const json::array& messages = Messages(answer);
  ASSERT_EQ(messages.size(), 2u) << answer;
  EXPECT_EQ(Str(messages[1], "content"), "echo: hello");
  // The provider's model as the reply names it, not the configured name "gpt".
  EXPECT_EQ(Str(messages[1].at("response_metadata"), "model_name"), kOpenAiReplyModel) << answer;

  const auto chats = upstream_.Requests("/v1/chat/completions");
  ASSERT_EQ(chats.size(), 1u);
  const json::object body = chats[0].Json().as_object();
  EXPECT_EQ(body.at("model"), "gpt-configured");
  EXPECT_EQ(body.at("temperature"), 0.25);
  EXPECT_EQ(body.at("top_p"), 0.5);
  EXPECT_EQ(body.at("max_tokens"), 77);
  EXPECT_EQ(body.at("stop"), (json::array{"STOP"}));
  EXPECT_EQ(body.at("seed"), 7);
  EXPECT_EQ(body.at("api_version"), "2024-10-21");
  EXPECT_EQ(body.at("stream"), true);
  EXPECT_EQ(chats[0].Header("authorization"), "Bearer sk-test");
  EXPECT_EQ(chats[0].Header("x-org"), "org-42");
  EXPECT_EQ(chats[0].Header("x-static"), "fixed");
}

TEST_F(ConfiguredTools, ModelSettingsAndToolsReachAnthropicInItsShape) {
  const json::value answer = Turn("claude", "hello");
  const json::array& messages = Messages(answer);
  ASSERT_EQ(messages.size(), 2u) << answer;
  EXPECT_EQ(Str(messages[1], "content"), "echo: hello");
  EXPECT_EQ(Str(messages[1].at("response_metadata"), "model_name"), kAnthropicReplyModel) << answer;

  const auto chats = upstream_.Requests("/v1/messages");
  ASSERT_EQ(chats.size(), 1u);
  const json::object body = chats[0].Json().as_object();
  EXPECT_EQ(body.at("model"), "claude-configured");
  EXPECT_EQ(body.at("temperature"), 0.5);
  EXPECT_EQ(body.at("max_tokens"), 50);
  EXPECT_EQ(body.at("stop_sequences"), (json::array{"END"}));
  EXPECT_EQ(body.at("top_k"), 5);
  EXPECT_FALSE(body.contains("stop"));
  EXPECT_EQ(body.at("tools"), (json::array{json::object{{"name", "shipping_status"},
                                                        {"description", "Where a parcel is right now."},
                                                        {"input_schema", kShippingSchema}}}));
  EXPECT_EQ(chats[0].Header("x-api-key"), "sk-test");
  EXPECT_EQ(chats[0].Header("anthropic-beta"), "tools-2024");
  EXPECT_EQ(chats[0].Header("anthropic-version"), "2023-06-01");
}

TEST_F(ConfiguredTools, ToolAnswering5xxIsRetriedUntilItSucceeds) {
  const json::value answer = Turn("flaky", R"(call:{"n":1})");
  const json::array& messages = Messages(answer);
  ASSERT_EQ(messages.size(), 4u) << answer;
  EXPECT_EQ(Str(messages[2], "content"), R"(recovered: {"n":1})") << answer;
  EXPECT_EQ(Str(messages[2], "status"), "success") << answer;
  EXPECT_EQ(upstream_.Requests("/tools/flaky").size(), 3u);  // two 503s, then the answer
}

TEST_F(ConfiguredTools, ToolStill5xxAfterItsRetriesGivesAnErrorToolMessage) {
  const json::value answer = Turn("down", R"(call:{"n":2})");
  const json::array& messages = Messages(answer);
  ASSERT_EQ(messages.size(), 4u) << answer;
  EXPECT_EQ(Str(messages[2], "status"), "error") << answer;
  EXPECT_EQ(Str(messages[2], "content"),
            "Error: tool down answered HTTP 500: database on fire (gave up after 2 attempts)")
      << answer;
  EXPECT_EQ(upstream_.Requests("/tools/down").size(), 2u);  // retries: 1
}

TEST_F(ConfiguredTools, Tool4xxIsNotRetried) {
  const json::value answer = Turn("refuse", R"(call:{"tracking_id":"??"})");
  const json::array& messages = Messages(answer);
  ASSERT_EQ(messages.size(), 4u) << answer;
  EXPECT_EQ(Str(messages[2], "status"), "error") << answer;
  EXPECT_EQ(Str(messages[2], "content"), "Error: tool refuse answered HTTP 422: tracking_id is malformed")
      << answer;
  EXPECT_EQ(upstream_.Requests("/tools/refuse").size(), 1u);
}

TEST_F(ConfiguredTools, HangingToolTimesOutAndIsNotRetried) {
  const json::value answer = Turn("hang", R"(call:{"n":3})");
  const json::array& messages = Messages(answer);
  ASSERT_EQ(messages.size(), 4u) << answer;
  EXPECT_EQ(Str(messages[2], "status"), "error") << answer;
  const std::string content = Str(messages[2], "content");
  EXPECT_EQ(content.rfind("Error: tool hang timed out after 300 ms (timeout_ms; not retried)", 0), 0u)
      << content;
  EXPECT_EQ(upstream_.Requests("/tools/hang").size(), 1u);
}

TEST_F(ConfiguredTools, StalledModelStreamEndsTheRunAfterTheIdleTimeout) {
  const json::value answer = Turn("stalled", "hello");
  ASSERT_TRUE(answer.is_object() && answer.as_object().contains("__error__")) << answer;
  const std::string message = Str(answer.at("__error__"), "message");
  EXPECT_NE(message.find("stalled: "), std::string::npos) << message;
  EXPECT_NE(message.find("reading the response body: nothing for 300 ms (idle timeout)"),
            std::string::npos)
      << message;
  EXPECT_EQ(upstream_.Requests("/stall/v1/chat/completions").size(), 1u);  // not retried
}

TEST_F(ConfiguredTools, SilentModelEndsTheRunAfterTheFirstByteTimeout) {
  const json::value answer = Turn("silent", "hello");
  ASSERT_TRUE(answer.is_object() && answer.as_object().contains("__error__")) << answer;
  const std::string message = Str(answer.at("__error__"), "message");
  EXPECT_NE(message.find("waiting for the response head: nothing for 300 ms (first-byte timeout)"),
            std::string::npos)
      << message;
}

TEST_F(ConfiguredTools, TricklingModelEndsTheRunAtTimeoutMs) {
  const json::value answer = Turn("trickle", "hello");
  ASSERT_TRUE(answer.is_object() && answer.as_object().contains("__error__")) << answer;
  const std::string message = Str(answer.at("__error__"), "message");
  EXPECT_NE(message.find("the call's deadline passed (timeout_ms: 600 ms for the whole call)"),
            std::string::npos)
      << message;
}

}  // namespace
}  // namespace agentd
