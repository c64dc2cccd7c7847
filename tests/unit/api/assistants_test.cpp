#include "api_fixture.hpp"

#include "common/uuid.hpp"
#include "support/run_co.hpp"

namespace agentd::api::testing {
namespace {

// A user assistant's body without its generated id.
json::value WithoutId(const json::value& v) {
  json::object out;  // rebuilt: object::erase would reorder the remaining keys
  for (const auto& [key, value] : v.as_object()) {
    if (key != "assistant_id") out[key] = value;
  }
  return out;
}


class AssistantsTest : public ApiTest {
 protected:
  std::string Create(std::string body) {
    Reply r = Post("/assistants", std::move(body));
    EXPECT_EQ(r.status, 200) << r.body;
    return std::string(r.Json().at("assistant_id").as_string());
  }
  std::string CountAll() { return Post("/assistants/count").body; }
};

TEST_F(AssistantsTest, SystemAssistantExistsUnderUuid5AndGraphName) {
  constexpr auto kExpected =
      R"({"assistant_id":"fe096781-5601-53d2-b2f6-0d3403f7e9ca","graph_id":"agent",)"
      R"("name":"agent","description":null,"config":{"configurable":{"model":"mock"}},)"
      R"("context":{},"metadata":{"created_by":"system"},"version":1,)"
      R"("created_at":"<ts>","updated_at":"<ts>"})";
  Reply by_name = Get("/assistants/agent");
  EXPECT_EQ(by_name.status, 200);
  EXPECT_EQ(ToJson(by_name.Normalized()), kExpected);
  Reply by_id = Get("/assistants/" + std::string(kAgentAssistantId));
  EXPECT_EQ(ToJson(by_id.Normalized()), kExpected);
  // Running EnsureSystemAssistants again keeps them (do_nothing).
  EXPECT_TRUE(agentd::testing::RunCo(EnsureSystemAssistants(*ctx_)));
  EXPECT_EQ(CountAll(), "2");
}

TEST_F(AssistantsTest, CreateReturnsVersion1WithFieldsAsSent) {
  Reply r = Post("/assistants", R"({"graph_id":"echo","name":"e","description":"d",
      "config":{"tags":["x"]},"context":{"k":1},"metadata":{"owner":"me"},"durability":"x"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ToJson(WithoutId(r.Normalized())),
            R"({"graph_id":"echo","name":"e","description":"d","config":{"tags":["x"]},)"
            R"("context":{"k":1},"metadata":{"owner":"me"},"version":1,)"
            R"("created_at":"<ts>","updated_at":"<ts>"})");
  EXPECT_TRUE(IsUuid(r.Json().at("assistant_id").as_string()));
}

TEST_F(AssistantsTest, CreateDefaultsNameAndObjects) {
  Reply r = Post("/assistants", R"({"graph_id":"echo","config":null})");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(ToJson(WithoutId(r.Normalized())),
            R"({"graph_id":"echo","name":"Untitled","description":null,"config":{},)"
            R"("context":{},"metadata":{},"version":1,"created_at":"<ts>","updated_at":"<ts>"})");
}

TEST_F(AssistantsTest, CreateValidatesAndWritesNothing) {
  Reply missing = Post("/assistants", R"({"name":"x"})");
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(ToJson(missing.Json().at("error").at("issues")),
            R"([{"code":"invalid_type","expected":"string","received":"undefined",)"
            R"("path":["graph_id"],"message":"Required"}])");
  EXPECT_NE(std::string(missing.Json().at("detail").as_string()).find("graph_id"),
            std::string::npos);
  Reply typed = Post("/assistants", R"({"graph_id":5,"config":[],"if_exists":"maybe"})");
  EXPECT_EQ(typed.status, 400);
  EXPECT_EQ(typed.Json().at("error").at("issues").as_array().size(), 3u) << typed.body;
  Reply bad_id = Post("/assistants", R"({"graph_id":"echo","assistant_id":"abc"})");
  EXPECT_EQ(bad_id.status, 400);
  EXPECT_EQ(CountAll(), "2");
}

TEST_F(AssistantsTest, CreateOnUnknownGraphIs404) {
  Reply r = Post("/assistants", R"({"graph_id":"nope"})");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.Detail(), R"(Graph "nope" not found)");
}

TEST_F(AssistantsTest, CreateExistingRaisesOrReturnsExisting) {
  std::string body = R"({"graph_id":"echo","assistant_id":"11111111-1111-4111-8111-111111111111",)"
                     R"("name":"first"})";
  ASSERT_EQ(Post("/assistants", body).status, 200);
  Reply raise = Post("/assistants", R"({"graph_id":"echo",)"
                                    R"("assistant_id":"11111111-1111-4111-8111-111111111111"})");
  EXPECT_EQ(raise.status, 409);
  EXPECT_EQ(raise.Detail(), "Assistant already exists");
  Reply keep = Post("/assistants", R"({"graph_id":"echo","if_exists":"do_nothing",)"
                                   R"("assistant_id":"11111111-1111-4111-8111-111111111111"})");
  EXPECT_EQ(keep.status, 200);
  EXPECT_EQ(keep.Json().at("name"), "first");
}

TEST_F(AssistantsTest, GetMissingIs404) {
  Reply r = Get("/assistants/" + std::string(kMissingId));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.Detail(), "Assistant not found");
  EXPECT_EQ(Get("/assistants/not-a-graph").status, 404);
}

TEST_F(AssistantsTest, PatchMergesMetadataReplacesConfigAndBumpsVersion) {
  std::string id = Create(R"({"graph_id":"echo","config":{"a":1},"metadata":{"x":1,"y":1}})");
  Reply r = Patch("/assistants/" + id, R"({"config":{"b":2},"metadata":{"y":2},"name":"n"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ToJson(WithoutId(r.Normalized())),
            R"({"graph_id":"echo","name":"n","description":null,"config":{"b":2},)"
            R"("context":{},"metadata":{"x":1,"y":2},"version":2,)"
            R"("created_at":"<ts>","updated_at":"<ts>"})");
}

TEST_F(AssistantsTest, PatchErrors) {
  Reply missing = Patch("/assistants/" + std::string(kMissingId), R"({"name":"n"})");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.Detail(), "Assistant not found");
  Reply graph = Patch("/assistants/agent", R"({"graph_id":"nope"})");
  EXPECT_EQ(graph.status, 404);
  EXPECT_EQ(graph.Detail(), R"(Graph "nope" not found)");
  Reply typed = Patch("/assistants/agent", R"({"metadata":"x"})");
  EXPECT_EQ(typed.status, 400);
  EXPECT_EQ(Get("/assistants/agent").Json().at("version"), 1);
}

TEST_F(AssistantsTest, DeleteAnswersIdListAndCanDeleteThreads) {
  std::string id = Create(R"({"graph_id":"echo"})");
  std::string kept = NewThread(R"({"metadata":{"assistant_id":"other"}})");
  std::string gone = NewThread(R"({"metadata":{"assistant_id":")" + id + R"("}})");
  Reply bad = Delete("/assistants/" + id + "?delete_threads=maybe");
  EXPECT_EQ(bad.status, 400);
  Reply r = Delete("/assistants/" + id + "?delete_threads=YES");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "[\"" + id + "\"]");
  EXPECT_EQ(Get("/assistants/" + id).status, 404);
  EXPECT_EQ(Get("/threads/" + gone).status, 404);
  EXPECT_EQ(Get("/threads/" + kept).status, 200);
  Reply again = Delete("/assistants/" + id);
  EXPECT_EQ(again.status, 404);
  EXPECT_EQ(again.Detail(), "Assistant not found");
}

TEST_F(AssistantsTest, SearchFiltersPaginatesAndSelects) {
  Create(R"({"graph_id":"echo","name":"Alpha","metadata":{"team":"a"}})");
  Create(R"({"graph_id":"echo","name":"alphabet","metadata":{"team":"b"}})");
  Create(R"({"graph_id":"echo","name":"beta","metadata":{"team":"a"}})");
  Reply by_name = Post("/assistants/search", R"({"name":"ALPHA","sort_by":"name",
      "sort_order":"asc","select":["name"]})");
  ASSERT_EQ(by_name.status, 200) << by_name.body;
  EXPECT_EQ(by_name.body, R"([{"name":"Alpha"},{"name":"alphabet"}])");
  EXPECT_EQ(by_name.Header("X-Pagination-Total"), "2");
  EXPECT_EQ(by_name.Header("X-Pagination-Next"), std::nullopt);

  Reply page = Post("/assistants/search", R"({"graph_id":"echo","limit":2,"offset":0,
      "select":["name"]})");
  EXPECT_EQ(page.body, R"([{"name":"beta"},{"name":"alphabet"}])");  // created_at desc
  EXPECT_EQ(page.Header("X-Pagination-Total"), "4");  // with the system assistant "echo"
  EXPECT_EQ(page.Header("X-Pagination-Next"), "2");

  Reply meta = Post("/assistants/search", R"({"metadata":{"team":"a"},"select":["name"]})");
  EXPECT_EQ(meta.body, R"([{"name":"beta"},{"name":"Alpha"}])");
  Reply system = Post("/assistants/search", R"({"metadata":{"created_by":"system"},
      "sort_by":"graph_id","sort_order":"asc","select":["assistant_id","name"]})");
  EXPECT_EQ(system.body, R"([{"assistant_id":"fe096781-5601-53d2-b2f6-0d3403f7e9ca",)"
                         R"("name":"agent"},{"assistant_id":")" +
                             SystemAssistantId("echo") + R"(","name":"echo"}])");
}

TEST_F(AssistantsTest, SearchValidatesEnumsLimitsAndSelect) {
  for (auto [body, field] : std::vector<std::pair<const char*, const char*>>{
           {R"({"sort_by":"color"})", "sort_by"},
           {R"({"sort_order":"up"})", "sort_order"},
           {R"({"limit":0})", "limit"},
           {R"({"limit":1001})", "limit"},
           {R"({"offset":-1})", "offset"},
           {R"({"select":["nope"]})", "select"}}) {
    Reply r = Post("/assistants/search", body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(r.Json().at("error").at("issues").at(0).at("path").at(0), field) << r.body;
  }
}

TEST_F(AssistantsTest, CountHonoursFilters) {
  Create(R"({"graph_id":"echo"})");
  EXPECT_EQ(Post("/assistants/count", R"({"graph_id":"echo"})").body, "2");
  EXPECT_EQ(Post("/assistants/count", R"({"graph_id":"agent"})").body, "1");
  EXPECT_EQ(Post("/assistants/count", R"({"graph_id":1})").status, 400);
}

TEST_F(AssistantsTest, GraphListsNodesAndEdges) {
  Reply echo = Get("/assistants/echo/graph");
  ASSERT_EQ(echo.status, 200);
  EXPECT_EQ(echo.body,
            R"({"nodes":[{"id":"__start__","type":"schema","data":"__start__"},)"
            R"({"id":"echo","type":"runnable","data":{"id":["agentd","echo","echo"],)"
            R"("name":"echo"}},{"id":"__end__","type":"schema","data":"__end__"}],)"
            R"("edges":[{"source":"__start__","target":"echo"},)"
            R"({"source":"echo","target":"__end__"}]})");
  Reply agent = Get("/assistants/agent/graph?xray=true");
  ASSERT_EQ(agent.status, 200);
  EXPECT_EQ(ToJson(agent.Json().at("edges")),
            R"([{"source":"__start__","target":"model"},)"
            R"({"source":"model","target":"tools","conditional":true},)"
            R"({"source":"model","target":"__end__","conditional":true},)"
            R"({"source":"tools","target":"model"}])");
  EXPECT_EQ(Get("/assistants/agent/graph?xray=2").status, 200);
  EXPECT_EQ(Get("/assistants/agent/graph?xray=banana").status, 400);
  EXPECT_EQ(Get("/assistants/" + std::string(kMissingId) + "/graph").Detail(), "Assistant not found");
}

TEST_F(AssistantsTest, SchemasHaveProperties) {
  Reply r = Get("/assistants/agent/schemas");
  ASSERT_EQ(r.status, 200);
  auto body = r.Json();
  EXPECT_EQ(body.at("graph_id"), "agent");
  for (auto key : {"input_schema", "output_schema", "state_schema"}) {
    EXPECT_EQ(ToJson(body.at(key).at("properties")),
              R"({"messages":{"type":"array","items":{"type":"object"}}})")
        << key;
  }
  EXPECT_TRUE(body.at("config_schema").at("properties").is_object());
  EXPECT_TRUE(body.at("context_schema").at("properties").is_object());
  EXPECT_EQ(Get("/assistants/" + std::string(kMissingId) + "/schemas").status, 404);
}

TEST_F(AssistantsTest, SubgraphsAreEmpty) {
  EXPECT_EQ(Get("/assistants/agent/subgraphs").body, "{}");
  EXPECT_EQ(Get("/assistants/agent/subgraphs/model?recurse=true").body, "{}");
  EXPECT_EQ(Get("/assistants/" + std::string(kMissingId) + "/subgraphs").status, 404);
}

TEST_F(AssistantsTest, VersionsNewestFirstAndLatestPinsOne) {
  std::string id = Create(R"({"graph_id":"echo","name":"v1","config":{"n":1}})");
  ASSERT_EQ(Patch("/assistants/" + id, R"({"name":"v2","config":{"n":2}})").status, 200);
  Reply versions = Post("/assistants/" + id + "/versions");
  ASSERT_EQ(versions.status, 200) << versions.body;
  EXPECT_EQ(ToJson(versions.Normalized()),
            R"([{"assistant_id":")" + id + R"(","graph_id":"echo","name":"v2",)"
            R"("description":null,"config":{"n":2},"context":{},"metadata":{},"version":2,)"
            R"("created_at":"<ts>"},{"assistant_id":")" + id + R"(","graph_id":"echo",)"
            R"("name":"v1","description":null,"config":{"n":1},"context":{},"metadata":{},)"
            R"("version":1,"created_at":"<ts>"}])");
  Reply limited = Post("/assistants/" + id + "/versions", R"({"limit":1,"offset":1})");
  EXPECT_EQ(limited.Json().at(0).at("version"), 1);

  Reply latest = Post("/assistants/" + id + "/latest", R"({"version":1})");
  ASSERT_EQ(latest.status, 200) << latest.body;
  EXPECT_EQ(latest.Json().at("name"), "v1");
  EXPECT_EQ(ToJson(latest.Json().at("config")), R"({"n":1})");
  EXPECT_EQ(Get("/assistants/" + id).Json().at("name"), "v1");
}

TEST_F(AssistantsTest, VersionsAndLatestErrors) {
  Reply none = Post("/assistants/" + std::string(kMissingId) + "/versions");
  EXPECT_EQ(none.status, 404);
  EXPECT_EQ(none.Detail(), "Assistant \"" + std::string(kMissingId) + "\" not found.");
  Reply no_version = Post("/assistants/agent/latest", R"({"version":99})");
  EXPECT_EQ(no_version.status, 404);
  EXPECT_EQ(no_version.Detail(), "Assistant version not found");
  Reply no_assistant = Post("/assistants/" + std::string(kMissingId) + "/latest",
                            R"({"version":1})");
  EXPECT_EQ(no_assistant.Detail(), "Assistant not found");
  Reply required = Post("/assistants/agent/latest", "{}");
  EXPECT_EQ(required.status, 400);
  EXPECT_EQ(required.Json().at("error").at("issues").at(0).at("path").at(0), "version");
}

}  // namespace
}  // namespace agentd::api::testing
