#include "api_fixture.hpp"

namespace agentd::api::testing {
namespace {

class StoreTest : public ApiTest {
 protected:
  void PutItem(std::string_view ns, std::string_view key, std::string_view value) {
    Reply r = Put("/store/items", R"({"namespace":)" + std::string(ns) + R"(,"key":")" +
                                      std::string(key) + R"(","value":)" + std::string(value) +
                                      "}");
    ASSERT_EQ(r.status, 204) << r.body;
  }
};

TEST_F(StoreTest, PutThenGetReturnsItem) {
  PutItem(R"(["users","u1"])", "prefs", R"({"theme":"dark"})");
  Reply r = Get("/store/items?namespace=users.u1&key=prefs");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ToJson(r.Normalized()),
            R"({"namespace":["users","u1"],"key":"prefs","value":{"theme":"dark"},)"
            R"("created_at":"<ts>","updated_at":"<ts>"})");
  // Overwrite keeps the key, replaces the value.
  PutItem(R"(["users","u1"])", "prefs", R"({"theme":"light"})");
  EXPECT_EQ(ToJson(Get("/store/items?namespace=users.u1&key=prefs").Json().at("value")),
            R"({"theme":"light"})");
}

TEST_F(StoreTest, GetAbsentIs200Null) {
  Reply r = Get("/store/items?namespace=users&key=nope&refresh_ttl=true");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "null");
}

TEST_F(StoreTest, PutAcceptsIndexAndTtl) {
  Reply r = Put("/store/items",
                R"({"namespace":["a"],"key":"k","value":{},"index":false,"ttl":null})");
  EXPECT_EQ(r.status, 204) << r.body;
  Reply r2 = Put("/store/items",
                 R"({"namespace":["a"],"key":"k2","value":{},"index":["x"],"ttl":5})");
  EXPECT_EQ(r2.status, 204) << r2.body;
  EXPECT_EQ(Get("/store/items?namespace=a&key=k2").status, 200);
}

TEST_F(StoreTest, PutValidates) {
  Reply missing = Put("/store/items", R"({"namespace":["a"]})");
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(ToJson(missing.Json().at("error").at("issues")),
            R"([{"code":"invalid_type","expected":"string","received":"undefined",)"
            R"("path":["key"],"message":"Required"},{"code":"invalid_type",)"
            R"("expected":"object","received":"undefined","path":["value"],)"
            R"("message":"Required"}])");
  EXPECT_EQ(Put("/store/items", R"({"namespace":["a"],"key":"k","value":[]})").status, 400);
  EXPECT_EQ(Put("/store/items", R"({"namespace":"a","key":"k","value":{}})").status, 400);
  EXPECT_EQ(Put("/store/items", R"({"namespace":["a"],"key":"k","value":{},"index":true})")
                .status,
            400);
}

TEST_F(StoreTest, NamespaceRules) {
  Reply empty = Put("/store/items", R"({"namespace":[],"key":"k","value":{}})");
  EXPECT_EQ(empty.status, 400);
  EXPECT_EQ(empty.Detail(), "Namespace is required");
  Reply dotted = Put("/store/items", R"({"namespace":["a.b","c"],"key":"k","value":{}})");
  EXPECT_EQ(dotted.status, 422);
  EXPECT_EQ(dotted.Detail(), "Namespace labels cannot be empty or contain periods. Received: a.b.c");
  Reply blank = Put("/store/items", R"({"namespace":["a",""],"key":"k","value":{}})");
  EXPECT_EQ(blank.status, 422);
  Reply get_empty_label = Get("/store/items?namespace=a..b&key=k");
  EXPECT_EQ(get_empty_label.status, 422);
  EXPECT_EQ(get_empty_label.Detail(),
            "Namespace labels cannot be empty or contain periods. Received: a..b");
  Reply get_no_ns = Get("/store/items?key=k");
  EXPECT_EQ(get_no_ns.status, 400);
  EXPECT_EQ(get_no_ns.Detail(), "Namespace is required");
  Reply get_no_key = Get("/store/items?namespace=a");
  EXPECT_EQ(get_no_key.status, 400);
  EXPECT_EQ(get_no_key.Json().at("error").at("issues").at(0).at("path").at(0), "key");
  EXPECT_EQ(Delete("/store/items", R"({"namespace":[],"key":"k"})").Detail(),
            "Namespace is required");
  EXPECT_EQ(Post("/store/items/search", R"({"namespace_prefix":["a.b"]})").status, 422);
}

TEST_F(StoreTest, DeleteIs204WhetherOrNotItExisted) {
  PutItem(R"(["a"])", "k", "{}");
  EXPECT_EQ(Delete("/store/items", R"({"namespace":["a"],"key":"k"})").status, 204);
  EXPECT_EQ(Get("/store/items?namespace=a&key=k").body, "null");
  EXPECT_EQ(Delete("/store/items", R"({"namespace":["a"],"key":"k"})").status, 204);
  EXPECT_EQ(Delete("/store/items", R"({"namespace":["a"]})").status, 400);
}

TEST_F(StoreTest, SearchByPrefixAndFilterNewestFirst) {
  PutItem(R"(["docs","a"])", "1", R"({"n":1,"kind":"x"})");
  PutItem(R"(["docs","b"])", "2", R"({"n":2,"kind":"y"})");
  PutItem(R"(["other"])", "3", R"({"n":3,"kind":"x"})");
  Reply r = Post("/store/items/search", R"({"namespace_prefix":["docs"]})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto items = r.Normalized().at("items").as_array();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(ToJson(items[0]),
            R"({"namespace":["docs","b"],"key":"2","value":{"n":2,"kind":"y"},)"
            R"("created_at":"<ts>","updated_at":"<ts>","score":null})");
  Reply filtered = Post("/store/items/search", R"({"namespace_prefix":[],
      "filter":{"kind":"x","n":{"$gt":1}},"query":""})");
  ASSERT_EQ(filtered.Json().at("items").as_array().size(), 1u) << filtered.body;
  EXPECT_EQ(filtered.Json().at("items").at(0).at("key"), "3");
  Reply paged = Post("/store/items/search", R"({"limit":1,"offset":1})");
  ASSERT_EQ(paged.Json().at("items").as_array().size(), 1u);
  EXPECT_EQ(paged.Json().at("items").at(0).at("key"), "2");
  EXPECT_EQ(Post("/store/items/search", R"({"limit":0})").status, 400);
  EXPECT_EQ(Post("/store/items/search", R"({"filter":[]})").status, 400);
}

TEST_F(StoreTest, SearchWithAQueryIsRefusedUntilSemanticSearchExists) {
  PutItem(R"(["docs"])", "1", R"({"text":"hello"})");
  Reply r = Post("/store/items/search", R"({"namespace_prefix":["docs"],"query":"hello"})");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.ErrorCode(), "semantic_search_not_configured");
  EXPECT_EQ(r.Detail(),
            "Semantic search is not configured: this server has no store index, so it cannot "
            "rank items by `query`. Search without `query` (namespace prefix and filter only).");
  // A bad field is still reported as such first.
  EXPECT_EQ(Post("/store/items/search", R"({"query":"x","limit":0})").status, 400);
  EXPECT_EQ(Post("/store/items/search", R"({"query":5})").status, 400);
}

TEST_F(StoreTest, NamespacesListedSortedWithDepthAndPaging) {
  PutItem(R"(["a","x","1"])", "k", "{}");
  PutItem(R"(["a","y"])", "k", "{}");
  PutItem(R"(["b"])", "k", "{}");
  EXPECT_EQ(Post("/store/namespaces").body, R"({"namespaces":[["a","x","1"],["a","y"],["b"]]})");
  EXPECT_EQ(Post("/store/namespaces", R"({"prefix":["a"],"max_depth":2})").body,
            R"({"namespaces":[["a","x"],["a","y"]]})");
  EXPECT_EQ(Post("/store/namespaces", R"({"suffix":["y"]})").body,
            R"({"namespaces":[["a","y"]]})");
  EXPECT_EQ(Post("/store/namespaces", R"({"prefix":["*","x"]})").body,
            R"({"namespaces":[["a","x","1"]]})");
  EXPECT_EQ(Post("/store/namespaces", R"({"limit":1,"offset":1})").body,
            R"({"namespaces":[["a","y"]]})");
  EXPECT_EQ(Post("/store/namespaces", R"({"max_depth":0})").status, 400);
  EXPECT_EQ(Post("/store/namespaces", R"({"prefix":"a"})").status, 400);
}

}  // namespace
}  // namespace agentd::api::testing
