// CheckFraming (http/detail/framing.hpp): the framing rules as a table.
#include "http/detail/framing.hpp"

#include <gtest/gtest.h>

namespace agentd::http::detail {
namespace {

struct Case {
  HeaderList headers;
  unsigned version;
  int status;  // 0: accepted
  std::string body;
};

TEST(Framing, RefusesWhatAProxyMightFrameDifferently) {
  const HeaderList host{{"Host", "t"}};
  auto with = [&](HeaderList extra) {
    HeaderList h = host;
    h.insert(h.end(), extra.begin(), extra.end());
    return h;
  };
  const std::vector<Case> cases = {
      {host, 11, 0, ""},
      {{}, 10, 0, ""},
      {with({{"Content-Length", "3"}}), 11, 0, ""},
      {with({{"Transfer-Encoding", "chunked"}}), 11, 0, ""},
      {with({{"transfer-encoding", " Chunked "}}), 11, 0, ""},
      {with({{"Transfer-Encoding", "chunked,"}}), 11, 0, ""},  // empty list elements are allowed
      {with({{"Transfer-Encoding", "gzip, chunked"}}), 11, 501,
       R"j({"error":"not_implemented","detail":"transfer coding \"gzip\" is not supported (only chunked)"})j"},
      {with({{"Transfer-Encoding", "gzip"}, {"Transfer-Encoding", "chunked"}}), 11, 501, ""},
      {with({{"Transfer-Encoding", "chunked, gzip"}}), 11, 501, ""},
      {with({{"Transfer-Encoding", "identity"}}), 11, 501, ""},
      {with({{"Transfer-Encoding", "chunked;ext=1"}}), 11, 501, ""},
      {with({{"Transfer-Encoding", "chunked, chunked"}}), 11, 400,
       R"({"error":"bad_request","detail":"chunked applied more than once"})"},
      {with({{"Transfer-Encoding", " , "}}), 11, 400,
       R"({"error":"bad_request","detail":"empty Transfer-Encoding"})"},
      {with({{"Transfer-Encoding", "chunked"}, {"Content-Length", "5"}}), 11, 400,
       R"({"error":"bad_request","detail":"a request may not carry both Content-Length and Transfer-Encoding"})"},
      {with({{"Content-Length", "5"}, {"Transfer-Encoding", "gzip"}}), 11, 400, ""},
      {with({{"Transfer-Encoding", "chunked"}}), 10, 400,
       R"({"error":"bad_request","detail":"Transfer-Encoding is not allowed in an HTTP/1.0 request"})"},
      {{}, 11, 400, R"j({"error":"bad_request","detail":"missing Host header (required in HTTP/1.1)"})j"},
      {with({{"host", "u"}}), 11, 400, R"({"error":"bad_request","detail":"more than one Host header"})"},
      {with({{"host", "u"}}), 10, 400, ""},
  };
  for (const auto& c : cases) {
    Request r;
    r.headers = c.headers;
    std::string shown = "HTTP/1." + std::to_string(c.version % 10);
    for (const auto& [k, v] : c.headers) shown += " | " + k + ": " + v;
    SCOPED_TRACE(shown);
    auto refusal = CheckFraming(r, c.version);
    if (c.status == 0) {
      EXPECT_FALSE(refusal.has_value()) << refusal->body;
      continue;
    }
    ASSERT_TRUE(refusal.has_value());
    EXPECT_EQ(refusal->status, c.status);
    if (!c.body.empty()) EXPECT_EQ(refusal->body, c.body);
  }
}

}  // namespace
}  // namespace agentd::http::detail
