#include "http/router.hpp"

#include <gtest/gtest.h>

namespace agentd::http {
namespace {

Handler Named(std::string name) {
  return [name](Request&) -> boost::asio::awaitable<Response> {
    co_return Response::Text(200, name);
  };
}

Request Req(Method m, std::string path) {
  Request r;
  r.method = m;
  r.path = std::move(path);
  return r;
}

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.Add(Method::kGet, "/threads/{thread_id}", Named("get-thread"));
    router_.Add(Method::kPost, "/threads/search", Named("search"));
    router_.Add(Method::kPost, "/threads", Named("create"));
    router_.Add(Method::kDelete, "/threads/{thread_id}", Named("delete-thread"));
    router_.Add(Method::kGet, "/threads/{thread_id}/runs/{run_id}", Named("get-run"));
    router_.Add(Method::kGet, "/ok", Named("ok"));
  }
  Router router_;
};

TEST_F(RouterTest, LiteralSegmentBeatsCaptureRegardlessOfOrder) {
  auto r = Req(Method::kPost, "/threads/search");
  auto m = router_.Find(r);
  ASSERT_NE(m.handler, nullptr);
  EXPECT_EQ(m.route, "/threads/search");
  EXPECT_TRUE(r.path_params.empty());
}

TEST_F(RouterTest, CapturesFillPathParams) {
  auto r = Req(Method::kGet, "/threads/t1/runs/r2");
  auto m = router_.Find(r);
  ASSERT_NE(m.handler, nullptr);
  EXPECT_EQ(m.route, "/threads/{thread_id}/runs/{run_id}");
  EXPECT_EQ(r.PathParam("thread_id"), "t1");
  EXPECT_EQ(r.PathParam("run_id"), "r2");
  EXPECT_EQ(r.PathParam("missing"), "");
}

TEST_F(RouterTest, CaptureServesWhenTheLiteralRouteHasAnotherMethod) {
  // GET /threads/search: the literal route is POST only, so the GET capture route answers.
  auto r = Req(Method::kGet, "/threads/search");
  auto m = router_.Find(r);
  ASSERT_NE(m.handler, nullptr);
  EXPECT_EQ(m.route, "/threads/{thread_id}");
  EXPECT_EQ(r.PathParam("thread_id"), "search");
}

TEST_F(RouterTest, UnknownPathIs404) {
  for (const char* path : {"/nope", "/threads/a/b", "/threads/", "/", "/ok/extra"}) {
    auto r = Req(Method::kGet, path);
    auto m = router_.Find(r);
    EXPECT_EQ(m.handler, nullptr) << path;
    EXPECT_EQ(m.status, 404) << path;
  }
}

TEST_F(RouterTest, WrongMethodIs405WithAllow) {
  auto r = Req(Method::kPut, "/threads/abc");
  auto m = router_.Find(r);
  EXPECT_EQ(m.handler, nullptr);
  EXPECT_EQ(m.status, 405);
  EXPECT_EQ(m.allow, "GET, HEAD, DELETE");
}

TEST_F(RouterTest, HeadIsServedByGet) {
  auto r = Req(Method::kHead, "/ok");
  auto m = router_.Find(r);
  ASSERT_NE(m.handler, nullptr);
  EXPECT_EQ(m.route, "/ok");
}

TEST(Router, EmptyCaptureSegmentDoesNotMatch) {
  Router router;
  router.Add(Method::kGet, "/a/{id}/b", Named("x"));
  auto r = Req(Method::kGet, "/a//b");
  EXPECT_EQ(router.Find(r).status, 404);
}

}  // namespace
}  // namespace agentd::http
