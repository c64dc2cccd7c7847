#pragma once
// Drives the API handlers through a Router filled by RegisterRoutes, with a memory Storage and
// hand-built requests (no sockets). Responses come back as status + headers + parsed JSON;
// Normalized() replaces timestamps and generated ids so whole bodies can be compared.

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>
#include <gtest/gtest.h>

#include "api/api.hpp"
#include "common/json.hpp"
#include "common/time.hpp"
#include "config/config.hpp"
#include "http/router.hpp"
#include "observe/health.hpp"
#include "observe/metrics.hpp"
#include "runtime/graph_registry.hpp"
#include "storage/storage.hpp"

namespace agentd::api::testing {

namespace json = boost::json;

struct Reply {
  int status = 0;
  http::HeaderList headers;
  std::string body;

  std::optional<std::string> Header(std::string_view name) const;
  // The body parsed as JSON (fails the test when it is not JSON).
  json::value Json() const;
  // The "detail" of an error body, after checking that the body has the one error shape
  // {"error": "<code>", "detail": "<message>", ...} (fails the test otherwise).
  std::string Detail() const;
  // Its "error" code ("" when the body is not an error body).
  std::string ErrorCode() const;
  // Json() with created_at/updated_at/state_updated_at replaced by "<ts>".
  json::value Normalized() const;
  std::string ContentType() const { return Header("Content-Type").value_or(""); }
};

// Replaces timestamp fields (recursively) by "<ts>", so a whole body can be compared as text.
json::value Normalize(json::value v);

config::Config DemoConfig();

// A JSON string's text ("" for a non-string), for comparing with std::string values.
inline std::string Str(const json::value& v) {
  return v.is_string() ? std::string(v.get_string()) : std::string();
}

class ApiTest : public ::testing::Test {
 protected:
  explicit ApiTest(bool dev_endpoints = true);
  void SetUp() override;

  Reply Call(http::Method method, std::string target, std::string body = "");
  Reply Get(std::string target) { return Call(http::Method::kGet, std::move(target)); }
  Reply Post(std::string target, std::string body = "") {
    return Call(http::Method::kPost, std::move(target), std::move(body));
  }
  Reply Put(std::string target, std::string body) {
    return Call(http::Method::kPut, std::move(target), std::move(body));
  }
  Reply Patch(std::string target, std::string body) {
    return Call(http::Method::kPatch, std::move(target), std::move(body));
  }
  Reply Delete(std::string target, std::string body = "") {
    return Call(http::Method::kDelete, std::move(target), std::move(body));
  }

  // Creates a thread and returns its id.
  std::string NewThread(std::string body = "{}");

  config::Config config_;
  runtime::GraphRegistry graphs_;
  std::unique_ptr<storage::Storage> storage_;
  observe::Health health_{1, std::chrono::seconds(60)};
  observe::Metrics metrics_;
  std::unique_ptr<ApiContext> ctx_;
  http::Router router_;
  // The store's clock starts at the wall clock: the API turns `ttl` into a wall-clock expiry
  // and the store judges expiry by this clock, so they must agree.
  std::int64_t clock_ms_ = NowMs();
};

inline constexpr std::string_view kAgentAssistantId = "fe096781-5601-53d2-b2f6-0d3403f7e9ca";
inline constexpr std::string_view kMissingId = "00000000-0000-4000-8000-000000000000";

}  // namespace agentd::api::testing
