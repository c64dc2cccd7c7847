#include "http/message.hpp"

#include <gtest/gtest.h>

#include "common/uuid.hpp"
#include "http/detail/cors.hpp"
#include "http/detail/target.hpp"

namespace agentd::http {
namespace {

TEST(Request, HeaderLookupIgnoresCase) {
  Request r;
  r.headers = {{"Content-Type", "application/json"}, {"X-Api-Key", "k"}};
  EXPECT_EQ(r.Header("content-type"), "application/json");
  EXPECT_EQ(r.Header("x-api-key"), "k");
  EXPECT_FALSE(r.Header("origin").has_value());
}

TEST(Request, QueryKeepsOrderAndRepeats) {
  Request r;
  ASSERT_TRUE(detail::ParseTarget("/runs?stream_mode=values&limit=10&stream_mode=updates&q=a%20b+c",
                                  r.path, r.query));
  EXPECT_EQ(r.path, "/runs");
  EXPECT_EQ(r.Query("limit"), "10");
  EXPECT_EQ(r.Query("stream_mode"), "values");
  auto all = r.QueryAll("stream_mode");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1], "updates");
  EXPECT_EQ(r.Query("q"), "a b c");
  EXPECT_FALSE(r.Query("nope").has_value());
}

TEST(Target, PathIsPercentDecodedAndAbsoluteFormRejected) {
  std::string path;
  std::vector<std::pair<std::string, std::string>> query;
  ASSERT_TRUE(detail::ParseTarget("/threads/a%2Db", path, query));
  EXPECT_EQ(path, "/threads/a-b");
  EXPECT_FALSE(detail::ParseTarget("http://example.com/x", path, query));
}

TEST(Response, SetHeaderReplacesSameNameCaseInsensitively) {
  auto r = Response::Json(200, "{}");
  r.SetHeader("content-type", "application/problem+json");
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].second, "application/problem+json");
}

TEST(Cors, WildcardOrConfiguredOriginOnly) {
  HeaderList h;
  detail::AddCorsHeaders({"*"}, std::string_view("https://x.example"), h);
  EXPECT_EQ(h, (HeaderList{{"Access-Control-Allow-Origin", "*"},
                           {"Access-Control-Expose-Headers",
                            "content-location, location, x-pagination-total, x-pagination-next"}}));
  h.clear();
  detail::AddCorsHeaders({"https://a.example"}, std::string_view("https://a.example"), h);
  EXPECT_EQ(h[0], (std::pair<std::string, std::string>{"Access-Control-Allow-Origin",
                                                        "https://a.example"}));
  h.clear();
  detail::AddCorsHeaders({"https://a.example"}, std::string_view("https://evil.example"), h);
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0].first, "Access-Control-Expose-Headers");
}

TEST(Cors, ErrorJsonEscapes) {
  EXPECT_EQ(detail::ErrorJson("bad", "say \"hi\"\n"),
            R"({"error":"bad","detail":"say \"hi\"\n"})");
}

TEST(RequestId, KeepsSaneClientValueElseGeneratesUuid) {
  EXPECT_EQ(detail::ChooseRequestId(std::string_view("abc-123")), "abc-123");
  EXPECT_TRUE(IsUuid(detail::ChooseRequestId(std::nullopt)));
  EXPECT_TRUE(IsUuid(detail::ChooseRequestId(std::string_view("has space"))));
}

}  // namespace
}  // namespace agentd::http
