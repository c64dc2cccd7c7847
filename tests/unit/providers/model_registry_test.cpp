// In-process pieces of the model layer (label unit): registry wiring, backoff arithmetic,
// upstream error messages, the mock model's streaming, the semaphore's FIFO hand-off.
#include "runtime/model_registry.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "mock/mock_model.hpp"
#include "runtime/mock_chat_model.hpp"
#include "runtime/model_semaphore.hpp"
#include "runtime/providers/http_provider.hpp"
#include "runtime/providers/openai_stream.hpp"
#include "support/run_co.hpp"

namespace agentd::runtime {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using agentd::testing::RunCo;

class NoTransport final : public HttpTransport {
 public:
  asio::awaitable<Result<HttpReply>> Send(HttpCall, BodySink) override {
    co_return MakeError(Errc::kUnavailable, "no network in unit tests");
  }
};

config::ModelSpec Spec(std::string name, std::string provider) {
  config::ModelSpec spec;
  spec.name = std::move(name);
  spec.provider = std::move(provider);
  spec.model = "m";
  return spec;
}

TEST(ModelRegistry, BuildsOneModelPerConfiguredName) {
  NoTransport transport;
  std::vector<config::ModelSpec> specs = {Spec("a", "mock"), Spec("b", "openai"), Spec("c", "anthropic")};
  auto registry = ModelRegistry::Build(specs, transport);
  ASSERT_TRUE(registry.has_value());
  EXPECT_EQ((*registry)->Names(), (std::vector<std::string>{"a", "b", "c"}));
  ASSERT_NE((*registry)->Find("b"), nullptr);
  EXPECT_EQ((*registry)->Find("b")->name(), "b");
  EXPECT_EQ((*registry)->Find("zzz"), nullptr);
}

TEST(ModelRegistry, RejectsUnknownProviderAndDuplicateNames) {
  NoTransport transport;
  std::vector<config::ModelSpec> unknown = {Spec("x", "gemini")};
  auto bad = ModelRegistry::Build(unknown, transport);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, Errc::kInvalidArgument);
  EXPECT_NE(bad.error().message.find("gemini"), std::string::npos);
  std::vector<config::ModelSpec> dup = {Spec("x", "mock"), Spec("x", "mock")};
  EXPECT_FALSE(ModelRegistry::Build(dup, transport).has_value());
}

TEST(ModelRegistry, AReloadKeepsUnchangedModelsAndReplacesChangedOnes) {
  NoTransport transport;
  auto before = ModelRegistry::Build({Spec("same", "mock"), Spec("changed", "mock"), Spec("gone", "mock")},
                                     transport);
  ASSERT_TRUE(before.has_value());
  config::ModelSpec changed = Spec("changed", "mock");
  changed.mock_chunks = 2;
  auto after = ModelRegistry::Build({Spec("same", "mock"), changed, Spec("new", "openai")}, transport,
                                    nullptr, before->get());
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ((*after)->Names(), (std::vector<std::string>{"changed", "new", "same"}));
  // The unchanged model is the same object (its permits and in-flight calls carry on)...
  EXPECT_EQ((*after)->Find("same"), (*before)->Find("same"));
  // ...the changed one is new, and the old registry still has its own for the runs holding it.
  ASSERT_NE((*after)->Find("changed"), nullptr);
  EXPECT_NE((*after)->Find("changed"), (*before)->Find("changed"));
  EXPECT_NE((*before)->Find("gone"), nullptr);
  EXPECT_EQ((*after)->Find("gone"), nullptr);
}

TEST(HttpProvider, UnreachableUpstreamIsUnavailableAfterBoundedRetries) {
  NoTransport transport;
  auto spec = Spec("o", "openai");
  // The sleep is injected: the default one would really wait the backoff.
  providers::ProviderOptions options = providers::ProviderOptionsFrom(spec);
  int sleeps = 0;
  options.sleep = [&](std::chrono::milliseconds) -> asio::awaitable<Status> {
    ++sleeps;
    co_return Status{};
  };
  class Probe final : public providers::HttpChatProvider {
   public:
    Probe(providers::ProviderOptions o, HttpTransport& t) : HttpChatProvider(std::move(o), t) {}
    HttpCall BuildCall(const ChatRequest&) const override { return HttpCall{}; }
    std::unique_ptr<providers::ChatStreamDecoder> MakeDecoder() const override {
      return std::make_unique<providers::OpenAiStreamDecoder>();
    }
  };
  Probe probe(options, transport);
  auto result = RunCo(probe.Complete(ChatRequest{}, nullptr));
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, Errc::kUnavailable);
  EXPECT_EQ(probe.attempts(), 4u);
  EXPECT_EQ(sleeps, 3);
}

// Keeps the call it was given and refuses it (no retry follows a kInvalidArgument).
class RecordingTransport final : public HttpTransport {
 public:
  asio::awaitable<Result<HttpReply>> Send(HttpCall call, BodySink) override {
    calls.push_back(std::move(call));
    co_return MakeError(Errc::kInvalidArgument, "recorded");
  }
  std::string Header(std::size_t i, std::string_view name) const {
    std::string value;  // the last one wins, as on the wire (the client sets them in order)
    for (const auto& [n, v] : calls.at(i).headers) {
      if (n == name) value = v;
    }
    return value;
  }
  std::vector<HttpCall> calls;
};

config::ModelSpec SettingsSpec(std::string provider) {
  config::ModelSpec spec = Spec("configured", std::move(provider));
  spec.model = "upstream-model";
  spec.base_url = "http://127.0.0.1:1";
  spec.timeout = 90s;
  spec.connect_timeout = 2s;
  spec.first_byte_timeout = 15s;
  spec.idle_timeout = 5s;
  spec.temperature = 0.25;
  spec.top_p = 0.5;
  spec.max_tokens = 77;
  spec.stop = {"STOP"};
  spec.headers = {{"X-Org", "org-42", "ORG_ID"}, {"anthropic-version", "2099-01-01", ""}};
  spec.params = boost::json::object{{"seed", 7}, {"top_k", 3}};
  return spec;
}

TEST(ModelSettings, OpenAiSendsThemInItsShapeWithTheTimeouts) {
  RecordingTransport transport;
  auto model = MakeChatModel(SettingsSpec("openai"), transport).value();
  EXPECT_EQ(model->model(), "upstream-model");
  const auto before = std::chrono::steady_clock::now();
  (void)RunCo(model->Complete(ChatRequest{}, nullptr));
  ASSERT_EQ(transport.calls.size(), 1u);
  const HttpCall& call = transport.calls[0];
  EXPECT_EQ(call.connect_timeout, 2s);
  EXPECT_EQ(call.first_byte_timeout, 15s);
  EXPECT_EQ(call.idle_timeout, 5s);
  ASSERT_TRUE(call.deadline.has_value());
  EXPECT_GE(*call.deadline, before + 90s);
  EXPECT_EQ(transport.Header(0, "X-Org"), "org-42");
  const auto body = boost::json::parse(call.body).as_object();
  EXPECT_EQ(body.at("model"), "upstream-model");
  EXPECT_EQ(body.at("temperature"), 0.25);
  EXPECT_EQ(body.at("top_p"), 0.5);
  EXPECT_EQ(body.at("max_tokens"), 77);
  EXPECT_EQ(body.at("stop"), (boost::json::array{"STOP"}));
  EXPECT_EQ(body.at("seed"), 7);
  EXPECT_EQ(body.at("top_k"), 3);
}

TEST(ModelSettings, AnthropicSendsThemInItsShapeAndAHeaderReplacesOurs) {
  RecordingTransport transport;
  auto model = MakeChatModel(SettingsSpec("anthropic"), transport).value();
  (void)RunCo(model->Complete(ChatRequest{}, nullptr));
  ASSERT_EQ(transport.calls.size(), 1u);
  EXPECT_EQ(transport.Header(0, "anthropic-version"), "2099-01-01");
  const auto body = boost::json::parse(transport.calls[0].body).as_object();
  EXPECT_EQ(body.at("temperature"), 0.25);
  EXPECT_EQ(body.at("max_tokens"), 77);
  EXPECT_EQ(body.at("stop_sequences"), (boost::json::array{"STOP"}));
  EXPECT_FALSE(body.contains("stop"));
  EXPECT_EQ(body.at("top_k"), 3);
}

TEST(ModelSettings, ARequestsOwnOptionsWinFieldByField) {
  providers::ChatOptions defaults;
  defaults.temperature = 0.2;
  defaults.max_tokens = 100;
  defaults.stop = {"a"};
  defaults.extra = boost::json::object{{"seed", 1}, {"user", "u"}};
  providers::ChatOptions request;
  request.temperature = 0.9;
  request.extra = boost::json::object{{"seed", 2}};
  const auto merged = providers::WithDefaults(request, defaults);
  EXPECT_EQ(merged.temperature, 0.9);
  EXPECT_EQ(merged.max_tokens, 100);
  EXPECT_FALSE(merged.top_p);
  EXPECT_EQ(merged.stop, std::vector<std::string>{"a"});
  EXPECT_EQ(merged.extra, (boost::json::object{{"seed", 2}, {"user", "u"}}));
}

TEST(ModelSettings, MockRepliesNameItsConfiguredModel) {
  NoTransport transport;
  config::ModelSpec spec = Spec("configured", "mock");
  spec.model = "mock-7";
  spec.temperature = 0.5;
  auto model = MakeChatModel(spec, transport).value();
  ChatRequest request;
  request.messages.push_back({providers::ChatRole::kUser, "hi", {}, ""});
  auto result = RunCo(model->Complete(request, nullptr));
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->model, "mock-7");
  EXPECT_EQ(model->model(), "mock-7");
  EXPECT_EQ(model->name(), "configured");
}

TEST(Backoff, FullJitterUnderACappedExponentialCeiling) {
  providers::RetryPolicy policy;
  policy.base_backoff = 100ms;
  policy.max_backoff = 1000ms;
  EXPECT_EQ(providers::Backoff(policy, 1, 1.0), 100ms);
  EXPECT_EQ(providers::Backoff(policy, 3, 1.0), 400ms);
  EXPECT_EQ(providers::Backoff(policy, 10, 1.0), 1000ms);
  EXPECT_EQ(providers::Backoff(policy, 3, 0.5), 200ms);
  EXPECT_EQ(providers::Backoff(policy, 3, 0.0), 0ms);
}

TEST(UpstreamErrorMessage, ReadsOpenAiAndAnthropicErrorBodies) {
  EXPECT_EQ(providers::UpstreamErrorMessage(R"({"error":{"message":"bad key","type":"x"}})"), "bad key");
  EXPECT_EQ(providers::UpstreamErrorMessage(
                R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"),
            "Overloaded");
  EXPECT_EQ(providers::UpstreamErrorMessage("plain text"), "plain text");
}

TEST(MockChatModel, StreamsTheMockPiecesThenFinishAndUsage) {
  MockChatModel model("m", mock::MockOptions{});
  ChatRequest request;
  request.messages.push_back({providers::ChatRole::kUser, "hello mock model", {}, ""});
  std::vector<providers::StreamDelta> deltas;
  auto result = RunCo(model.Complete(request, [&](const providers::StreamDelta& d) { deltas.push_back(d); }));
  ASSERT_TRUE(result.has_value());
  const auto wire = providers::BuildOpenAiRequest(request.messages, request.tools, "mock", true);
  const auto reply = mock::ComputeReply(wire, mock::MockOptions{});
  // The reply id first (as the openai decoder emits it), then the pieces, finish, usage.
  ASSERT_EQ(deltas.size(), reply.pieces.size() + 3);
  EXPECT_EQ(std::get<providers::MessageStart>(deltas[0]).id, reply.completion_id);
  for (std::size_t i = 0; i < reply.pieces.size(); ++i) {
    EXPECT_EQ(std::get<providers::TextDelta>(deltas[i + 1]).text, reply.pieces[i]);
  }
  EXPECT_EQ(std::get<providers::Finish>(deltas[reply.pieces.size() + 1]).reason, "stop");
  EXPECT_TRUE(std::holds_alternative<providers::Usage>(deltas.back()));
  EXPECT_EQ(result->text, "echo: hello mock model");
  EXPECT_EQ(result->id, reply.completion_id);
}

TEST(ModelSemaphore, HandsSlotsToWaitersInFifoOrder) {
  ModelSemaphore semaphore(1);
  std::vector<int> order;
  RunCo([&]() -> asio::awaitable<void> {
    auto first = co_await semaphore.Acquire();
    EXPECT_TRUE(first.has_value());
    auto executor = co_await asio::this_coro::executor;
    for (int i = 0; i < 3; ++i) {
      auto waiter = [&, i]() -> asio::awaitable<void> {
        auto permit = co_await semaphore.Acquire();
        EXPECT_TRUE(permit.has_value());
        order.push_back(i);
      };
      asio::co_spawn(executor, waiter, asio::detached);
    }
    asio::steady_timer timer(executor);
    for (int i = 0; i < 100 && semaphore.waiting() < 3; ++i) {
      timer.expires_after(1ms);
      co_await timer.async_wait(asio::use_awaitable);
    }
    EXPECT_EQ(semaphore.waiting(), 3u);
    { auto release = std::move(*first); }
    for (int i = 0; i < 100 && order.size() < 3; ++i) {
      timer.expires_after(1ms);
      co_await timer.async_wait(asio::use_awaitable);
    }
  }());
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(semaphore.in_use(), 0u);
}

}  // namespace
}  // namespace agentd::runtime
