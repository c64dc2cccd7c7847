#include "api_fixture.hpp"

#include "common/uuid.hpp"

namespace agentd::api::testing {
namespace {

using ThreadsTest = ApiTest;

constexpr std::string_view kThreadA = "aaaaaaaa-0000-4000-8000-000000000001";

TEST_F(ThreadsTest, CreateReturnsIdleThreadWithNullValues) {
  Reply r = Post("/threads", R"({"thread_id":"aaaaaaaa-0000-4000-8000-000000000001",
      "metadata":{"graph_id":"agent"},"durability":"async"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ToJson(r.Normalized()),
            R"({"thread_id":"aaaaaaaa-0000-4000-8000-000000000001","created_at":"<ts>",)"
            R"("updated_at":"<ts>","state_updated_at":"<ts>","metadata":{"graph_id":"agent"},)"
            R"("status":"idle","config":{},"values":null,"interrupts":{},"error":null})");
}

TEST_F(ThreadsTest, CreateWithEmptyBodyGeneratesId) {
  Reply r = Post("/threads");
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(IsUuid(r.Json().at("thread_id").as_string()));
  EXPECT_EQ(r.Json().at("metadata"), json::object{});
}

TEST_F(ThreadsTest, CreateExistingRaisesOrReturnsExisting) {
  std::string id(kThreadA);
  NewThread(R"({"thread_id":")" + id + R"(","metadata":{"n":1}})");
  Reply raise = Post("/threads", R"({"thread_id":")" + id + R"("})");
  EXPECT_EQ(raise.status, 409);
  EXPECT_EQ(raise.Detail(), "Thread already exists");
  Reply keep = Post("/threads", R"({"thread_id":")" + id + R"(","if_exists":"do_nothing"})");
  EXPECT_EQ(keep.status, 200);
  EXPECT_EQ(keep.Json().at("metadata").at("n"), 1);
}

TEST_F(ThreadsTest, CreateValidatesAndWritesNothing) {
  for (auto body : {R"({"thread_id":"not-a-uuid"})", R"({"metadata":[]})",
                    R"({"if_exists":"replace"})", R"({"ttl":"soon"})", R"({"ttl":-5})",
                    R"({"ttl":{"ttl":5,"strategy":"archive"}})", R"({"supersteps":{}})"}) {
    Reply r = Post("/threads", body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(r.Json().at("success"), false) << body << " " << r.body;
  }
  EXPECT_EQ(Post("/threads/count").body, "0");
}

TEST_F(ThreadsTest, SuperstepsAreRefusedUntilTheRunEngineExists) {
  Reply r = Post("/threads", R"({"supersteps":[{"updates":[{"values":{},"as_node":"model"}]}]})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.Detail(), "supersteps is not supported yet");
  EXPECT_EQ(Post("/threads/count").body, "0");
  EXPECT_EQ(Post("/threads", R"({"supersteps":[]})").status, 200);
}

TEST_F(ThreadsTest, TtlIsAccepted) {
  EXPECT_EQ(Post("/threads", R"({"ttl":30})").status, 200);
  EXPECT_EQ(Post("/threads", R"({"ttl":{"ttl":1.5,"strategy":"delete"}})").status, 200);
}

TEST_F(ThreadsTest, GetAndPathValidation) {
  std::string id = NewThread();
  EXPECT_EQ(Str(Get("/threads/" + id).Json().at("thread_id")), id);
  Reply missing = Get("/threads/" + std::string(kMissingId));
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.Detail(), "Thread with ID " + std::string(kMissingId) + " not found");
  Reply bad = Get("/threads/nope");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(ToJson(bad.Json().at("error").at("issues")),
            R"([{"validation":"uuid","code":"invalid_string","path":["thread_id"],)"
            R"("message":"Invalid uuid"}])");
}

TEST_F(ThreadsTest, PatchMergesMetadata) {
  std::string id = NewThread(R"({"metadata":{"a":1,"b":1}})");
  Reply r = Patch("/threads/" + id, R"({"metadata":{"b":2,"c":3}})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ToJson(r.Json().at("metadata")), R"({"a":1,"b":2,"c":3})");
  EXPECT_EQ(Patch("/threads/" + id, "{}").status, 200);  // metadata optional
  EXPECT_EQ(Patch("/threads/" + id, R"({"ttl":10})").status, 200);
  Reply missing = Patch("/threads/" + std::string(kMissingId), R"({"metadata":{}})");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.Detail(), "Thread not found");
  EXPECT_EQ(Patch("/threads/" + id, R"({"metadata":5})").status, 400);
  EXPECT_EQ(Patch("/threads/x", "{}").status, 400);
}

TEST_F(ThreadsTest, DeleteAnswers204) {
  std::string id = NewThread();
  Reply r = Delete("/threads/" + id);
  EXPECT_EQ(r.status, 204);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(Get("/threads/" + id).status, 404);
  Reply again = Delete("/threads/" + id);
  EXPECT_EQ(again.status, 404);
  EXPECT_EQ(again.Detail(), "Thread with ID " + id + " not found");
  EXPECT_EQ(Delete("/threads/123").status, 400);
}

TEST_F(ThreadsTest, CopyAddsThreadIdToMetadata) {
  std::string id = NewThread(R"({"metadata":{"graph_id":"agent"}})");
  Reply r = Post("/threads/" + id + "/copy");
  ASSERT_EQ(r.status, 200) << r.body;
  std::string copy_id(r.Json().at("thread_id").as_string());
  EXPECT_NE(copy_id, id);
  EXPECT_EQ(ToJson(r.Json().at("metadata")),
            R"({"graph_id":"agent","thread_id":")" + copy_id + R"("})");
  EXPECT_EQ(r.Json().at("status"), "idle");
  Reply missing = Post("/threads/" + std::string(kMissingId) + "/copy");
  EXPECT_EQ(missing.status, 409);
  EXPECT_EQ(missing.Detail(), "Thread not found");
}

TEST_F(ThreadsTest, SearchFiltersPaginatesAndSelects) {
  std::string a = NewThread(R"({"metadata":{"graph_id":"agent","n":1}})");
  std::string b = NewThread(R"({"metadata":{"graph_id":"echo","n":2}})");
  std::string c = NewThread(R"({"metadata":{"graph_id":"agent","n":3}})");
  Reply agent = Post("/threads/search", R"({"metadata":{"graph_id":"agent"},
      "select":["thread_id"]})");
  ASSERT_EQ(agent.status, 200) << agent.body;
  EXPECT_EQ(agent.body, R"([{"thread_id":")" + c + R"("},{"thread_id":")" + a + R"("}])");
  EXPECT_EQ(agent.Header("X-Pagination-Total"), "2");

  Reply page = Post("/threads/search", R"({"limit":1,"offset":1,"sort_by":"created_at",
      "sort_order":"asc","select":["thread_id"]})");
  EXPECT_EQ(page.body, R"([{"thread_id":")" + b + R"("}])");
  EXPECT_EQ(page.Header("X-Pagination-Total"), "3");
  EXPECT_EQ(page.Header("X-Pagination-Next"), "2");

  Reply ids = Post("/threads/search", R"({"ids":[")" + b + R"("],"status":"idle"})");
  EXPECT_EQ(ids.Json().as_array().size(), 1u);
  EXPECT_EQ(Str(ids.Json().at(0).at("thread_id")), b);
  Reply busy = Post("/threads/search", R"({"status":"busy"})");
  EXPECT_EQ(busy.body, "[]");
  EXPECT_EQ(busy.Header("X-Pagination-Total"), "0");
}

TEST_F(ThreadsTest, SearchValidatesEveryField) {
  for (auto [body, field] : std::vector<std::pair<const char*, const char*>>{
           {R"({"sort_by":"name"})", "sort_by"},
           {R"({"sort_order":"sideways"})", "sort_order"},
           {R"({"status":"sleeping"})", "status"},
           {R"({"ids":["x"]})", "ids"},
           {R"({"values":1})", "values"},
           {R"({"limit":5000})", "limit"},
           {R"({"select":["secret"]})", "select"}}) {
    Reply r = Post("/threads/search", body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(r.Json().at("error").at("issues").at(0).at("path").at(0), field) << r.body;
    EXPECT_NE(std::string(r.Json().at("detail").as_string()).find(field), std::string::npos);
  }
}

TEST_F(ThreadsTest, CountHonoursFilters) {
  NewThread(R"({"metadata":{"graph_id":"agent"}})");
  NewThread(R"({"metadata":{"graph_id":"echo"}})");
  EXPECT_EQ(Post("/threads/count").body, "2");
  EXPECT_EQ(Post("/threads/count", R"({"metadata":{"graph_id":"echo"}})").body, "1");
  EXPECT_EQ(Post("/threads/count", R"({"status":"error"})").body, "0");
  EXPECT_EQ(Post("/threads/count", R"({"status":"x"})").status, 400);
}

}  // namespace
}  // namespace agentd::api::testing
