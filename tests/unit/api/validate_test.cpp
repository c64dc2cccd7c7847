#include "api/validate.hpp"

#include <chrono>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "api/errors.hpp"
#include "common/json.hpp"
#include "scheduler/refusal.hpp"

namespace agentd::api {
namespace {

json::object Obj(std::string_view text) { return ParseJson(text)->as_object(); }

TEST(ParseBool, AcceptsProtocolSpellingsInAnyCase) {
  for (auto t : {"true", "TRUE", "1", "yes", "Yes"}) EXPECT_EQ(ParseBool(t), true) << t;
  for (auto f : {"false", "False", "0", "no", "NO"}) EXPECT_EQ(ParseBool(f), false) << f;
  for (auto bad : {"", "2", "y", "truthy"}) EXPECT_EQ(ParseBool(bad), std::nullopt) << bad;
}

TEST(QueryArray, AcceptsJsonStringAndRepeatedForms) {
  http::Request js;
  js.query = {{"select", R"(["run_id","status"])"}};
  EXPECT_EQ(QueryArray(js, "select"), (std::vector<std::string>{"run_id", "status"}));
  http::Request py;
  py.query = {{"select", "run_id"}, {"other", "x"}, {"select", "status"}};
  EXPECT_EQ(QueryArray(py, "select"), (std::vector<std::string>{"run_id", "status"}));
}

TEST(ParseBody, EmptyBodyIsEmptyObject) {
  http::Request req;
  req.body = "  \n";
  auto body = ParseBody(req, 64);
  ASSERT_TRUE(body);
  EXPECT_TRUE(body->empty());
}

TEST(Validator, WrongTypeRendersZodBody) {
  auto body = Obj(R"({"graph_id": 5})");
  Validator v(body);
  EXPECT_EQ(v.String("graph_id", kRequired), std::nullopt);
  ASSERT_FALSE(v.ok());
  http::Response r = v.Response();
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body,
            R"({"success":false,"error":{"name":"ZodError","issues":[{"code":"invalid_type",)"
            R"("expected":"string","received":"number","path":["graph_id"],)"
            R"("message":"Expected string, received number"}]},)"
            R"("detail":"Invalid request: graph_id: Expected string, received number"})");
}

TEST(Validator, MissingRequiredFieldSaysRequired) {
  auto body = Obj("{}");
  Validator v(body);
  v.String("graph_id", kRequired);
  EXPECT_EQ(ToJson(v.issues()),
            R"([{"code":"invalid_type","expected":"string","received":"undefined",)"
            R"("path":["graph_id"],"message":"Required"}])");
}

TEST(Validator, NullMeansAbsentAndUnknownFieldsAreIgnored) {
  auto body = Obj(R"({"name": null, "limit": null, "whatever": [1]})");
  Validator v(body);
  EXPECT_EQ(v.String("name"), std::nullopt);
  EXPECT_EQ(v.Limit(), 10);
  EXPECT_TRUE(v.ok());
}

TEST(Validator, EnumNamesOptions) {
  auto body = Obj(R"({"sort_order": "up"})");
  Validator v(body);
  EXPECT_EQ(v.Enum("sort_order", {"asc", "desc"}), std::nullopt);
  EXPECT_EQ(ToJson(v.issues()),
            R"([{"code":"invalid_enum_value","options":["asc","desc"],"received":"up",)"
            R"("path":["sort_order"],"message":"Invalid enum value. Expected 'asc' | 'desc', )"
            R"(received 'up'"}])");
}

TEST(Validator, LimitMustBeBetween1And1000) {
  for (auto [text, ok] : std::vector<std::pair<const char*, bool>>{
           {R"({"limit":0})", false}, {R"({"limit":1})", true}, {R"({"limit":1000})", true},
           {R"({"limit":1001})", false}, {R"({"limit":2.5})", false},
           {R"({"limit":"5"})", false}, {R"({"limit":7.0})", true}}) {
    auto body = Obj(text);
    Validator v(body);
    v.Limit();
    EXPECT_EQ(v.ok(), ok) << text << " " << ToJson(v.issues());
  }
  auto body = Obj(R"({"limit":0,"offset":-1})");
  Validator v(body);
  v.Limit();
  v.Offset();
  ASSERT_EQ(v.issues().size(), 2u);
  EXPECT_EQ(v.issues()[0].at("code"), "too_small");
  EXPECT_EQ(v.issues()[0].at("message"), "Number must be greater than or equal to 1");
  EXPECT_EQ(v.issues()[1].at("path"), json::array{"offset"});
}

TEST(Validator, CollectsEveryIssueWithNestedPaths) {
  auto body = Obj(R"({"ids":["x", 3], "checkpoint": {"checkpoint_id": "nope"}})");
  Validator v(body);
  v.Uuids("ids");
  auto cp = v.Child("checkpoint");
  ASSERT_TRUE(cp);
  cp->Uuid("checkpoint_id");
  ASSERT_EQ(v.issues().size(), 2u) << ToJson(v.issues());
  EXPECT_EQ(ToJson(v.issues()[0].at("path")), R"(["ids",1])");
  EXPECT_EQ(ToJson(v.issues()[1].at("path")), R"(["checkpoint","checkpoint_id"])");
  EXPECT_EQ(v.issues()[1].at("message"), "Invalid uuid");
}

TEST(Validator, MovedRootKeepsItsIssues) {
  auto body = Obj(R"({"a": 1})");
  Validator v(body);
  v.String("a");
  Validator moved(std::move(v));
  moved.Bool("a");
  EXPECT_EQ(moved.issues().size(), 2u);
}

json::value BodyOf(const http::Response& r) {
  EXPECT_EQ(r.headers.size() > 0 ? r.headers[0].second : "", "application/json");
  return json::parse(r.body);
}

TEST(ErrorResponse, MapsErrcToStatusAndOneJsonShapeKeepingTheMessage) {
  http::Response missing = ErrorResponse(MakeError(Errc::kNotFound, "Assistant not found"));
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(BodyOf(missing), json::parse(R"({"error":"not_found","detail":"Assistant not found"})"));
  EXPECT_EQ(ErrorResponse(MakeError(Errc::kConflict, "x")).status, 409);
  EXPECT_EQ(BodyOf(ErrorResponse(MakeError(Errc::kConflict, "x"))).at("error"), "conflict");
  EXPECT_EQ(ErrorResponse(MakeError(Errc::kUnprocessable, "x")).status, 422);
  EXPECT_EQ(ErrorResponse(MakeError(Errc::kInvalidArgument, "x")).status, 400);
  EXPECT_EQ(BodyOf(ErrorResponse(MakeError(Errc::kInvalidArgument, "x"))).at("error"),
            "invalid_argument");
  EXPECT_EQ(ErrorResponse(MakeError(Errc::kUnavailable, "x")).status, 503);
  http::Response internal = ErrorResponse(MakeError(Errc::kInternal, "sqlite: disk I/O"));
  EXPECT_EQ(internal.status, 500);
  EXPECT_EQ(BodyOf(internal), json::parse(R"({"error":"internal","detail":"Internal server error"})"))
      << "a 500 never carries the backend's message";
}

TEST(ErrorResponse, RefusalCarriesItsCodeLimitAndRetryAfter) {
  Error e = scheduler::RefusalError(
      Errc::kResourceExhausted,
      scheduler::Refusal{"tenant_limit", "max_concurrent_runs", "too many runs", std::chrono::seconds(3)});
  http::Response r = ErrorResponse(e);
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(BodyOf(r), json::parse(R"({"error":"tenant_limit","detail":"too many runs",)"
                                   R"("retry_after":3,"limit":"max_concurrent_runs"})"));
  bool retry_after = false;
  for (const auto& [k, v] : r.headers) retry_after |= k == "Retry-After" && v == "3";
  EXPECT_TRUE(retry_after);
}

TEST(ParseJsonBody, RefusesNumbersOutsideADoubleWith422NamingThePath) {
  auto r = ParseJsonBody(R"({"value":{"a":1,"list":[0,-1e400]}})", 64);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().status, 422);
  auto body = BodyOf(r.error());
  EXPECT_EQ(body.at("error"), "number_out_of_range");
  EXPECT_EQ(body.at("path"), json::parse(R"(["value","list",1])"));
  EXPECT_NE(std::string(body.at("detail").as_string()).find("Number out of range at value.list[1]"),
            std::string::npos)
      << body;
  EXPECT_TRUE(ParseJsonBody(R"({"tiny":1e-400,"big":1.7976931348623157e308})", 64))
      << "underflow to 0 and the largest double are fine";
}

TEST(ParseJsonBody, NestingLimitIsSaidAndConfigurable) {
  auto nested = [](int depth) { return std::string(depth, '[') + std::string(depth, ']'); };
  EXPECT_TRUE(ParseJsonBody(nested(64), 64));
  auto deep = ParseJsonBody(nested(65), 64);
  ASSERT_FALSE(deep);
  EXPECT_EQ(deep.error().status, 400);
  EXPECT_EQ(BodyOf(deep.error()),
            json::parse(R"({"error":"invalid_json","detail":"Malformed JSON in request body: )"
                        R"j(nesting deeper than 64 levels (server.json_max_depth)"})j"));
  EXPECT_TRUE(ParseJsonBody(nested(100), 100));
  auto bad = ParseJsonBody("{\"a\":", 64);
  ASSERT_FALSE(bad);
  EXPECT_EQ(BodyOf(bad.error()),
            json::parse(R"({"error":"invalid_json","detail":"Malformed JSON in request body"})"));
}

}  // namespace
}  // namespace agentd::api
