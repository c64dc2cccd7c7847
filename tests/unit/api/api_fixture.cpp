#include "api_fixture.hpp"

#include "storage/memory/memory_storage.hpp"
#include "support/run_co.hpp"

namespace agentd::api::testing {

std::optional<std::string> Reply::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (http::EqualsIgnoreCase(k, name)) return v;
  }
  return std::nullopt;
}

json::value Reply::Json() const {
  std::string error;
  auto parsed = ParseJson(body, &error);
  EXPECT_TRUE(parsed.has_value()) << "not JSON (" << error << "): " << body;
  return parsed ? *parsed : json::value();
}

std::string Reply::Detail() const {
  EXPECT_EQ(ContentType(), "application/json") << body;
  json::value v = Json();
  const json::object* o = v.if_object();
  const json::value* code = o ? o->if_contains("error") : nullptr;
  const json::value* detail = o ? o->if_contains("detail") : nullptr;
  EXPECT_TRUE(code && code->is_string() && detail && detail->is_string())
      << "not an error body {\"error\": <code>, \"detail\": <message>}: " << body;
  return detail && detail->is_string() ? std::string(detail->get_string()) : std::string();
}

std::string Reply::ErrorCode() const {
  auto parsed = ParseJson(body);
  const json::object* o = parsed ? parsed->if_object() : nullptr;
  const json::value* code = o ? o->if_contains("error") : nullptr;
  return code && code->is_string() ? std::string(code->get_string()) : std::string();
}

json::value Normalize(json::value v) {
  if (v.is_object()) {
    for (auto& [key, value] : v.get_object()) {
      if ((key == "created_at" || key == "updated_at" || key == "state_updated_at") &&
          value.is_string()) {
        value = "<ts>";
      } else {
        value = Normalize(std::move(value));
      }
    }
  } else if (v.is_array()) {
    for (auto& item : v.get_array()) item = Normalize(std::move(item));
  }
  return v;
}

json::value Reply::Normalized() const { return Normalize(Json()); }

config::Config DemoConfig() {
  config::Config c;
  config::ModelSpec model;
  model.name = "mock";
  model.provider = "mock";
  c.models.push_back(model);
  config::ToolSpec tool;
  tool.name = "get_weather";
  tool.kind = "demo";
  c.tools.push_back(tool);
  config::GraphSpec agent;
  agent.graph_id = "agent";
  agent.kind = "react";
  agent.model = "mock";
  agent.tools = {"get_weather"};
  agent.config = json::object{{"configurable", json::object{{"model", "mock"}}}};
  c.graphs.push_back(agent);
  config::GraphSpec echo;
  echo.graph_id = "echo";
  echo.kind = "echo";
  c.graphs.push_back(echo);
  return c;
}

ApiTest::ApiTest(bool dev_endpoints) : config_(DemoConfig()) {
  config_.server.dev_endpoints = dev_endpoints;
}

void ApiTest::SetUp() {
  graphs_ = runtime::GraphRegistry::FromConfig(config_).value();
  // A clock that moves 1 ms per reading keeps created_at ordering deterministic.
  storage_ = storage::MakeMemoryStorage([this] { return clock_ms_++; });
  ctx_ = std::make_unique<ApiContext>(
      ApiContext{*storage_, graphs_, config_, health_, metrics_, "0.1.0-test"});
  RegisterRoutes(router_, *ctx_);
  auto ensured = agentd::testing::RunCo(EnsureSystemAssistants(*ctx_));
  ASSERT_TRUE(ensured) << ensured.error().message;
}

Reply ApiTest::Call(http::Method method, std::string target, std::string body) {
  http::Request req;
  req.method = method;
  req.target = target;
  auto q = target.find('?');
  req.path = target.substr(0, q);
  if (q != std::string::npos) {
    std::string_view rest = std::string_view(target).substr(q + 1);
    while (!rest.empty()) {
      auto amp = rest.find('&');
      std::string_view pair = rest.substr(0, amp);
      auto eq = pair.find('=');
      req.query.emplace_back(std::string(pair.substr(0, eq)),
                             eq == std::string_view::npos ? "" : std::string(pair.substr(eq + 1)));
      if (amp == std::string_view::npos) break;
      rest = rest.substr(amp + 1);
    }
  }
  req.body = std::move(body);
  auto match = router_.Find(req);
  Reply reply;
  if (match.handler == nullptr) {
    reply.status = match.status;
    return reply;
  }
  http::Response response = agentd::testing::RunCo((*match.handler)(req));
  EXPECT_FALSE(response.stream) << "API handlers answer whole bodies";
  reply.status = response.status;
  reply.headers = std::move(response.headers);
  reply.body = std::move(response.body);
  return reply;
}

std::string ApiTest::NewThread(std::string body) {
  Reply r = Post("/threads", std::move(body));
  EXPECT_EQ(r.status, 200) << r.body;
  return std::string(r.Json().at("thread_id").as_string());
}

}  // namespace agentd::api::testing
