// JSON-RPC framing: message kinds, garbage refused with a reason, lines split across reads,
// and an oversized line dropped with its request id recovered so only that request fails.

#include "mcp/jsonrpc.hpp"

#include <gtest/gtest.h>

namespace agentd::mcp {
namespace {

TEST(JsonRpc, ParsesRequestsNotificationsAndResponses) {
  auto req = ParseMessage(R"({"jsonrpc":"2.0","id":7,"method":"ping"})");
  ASSERT_TRUE(req);
  EXPECT_EQ(req->kind, MessageKind::kRequest);
  EXPECT_EQ(req->method, "ping");
  auto note = ParseMessage(R"({"jsonrpc":"2.0","method":"notifications/tools/list_changed"})");
  ASSERT_TRUE(note);
  EXPECT_EQ(note->kind, MessageKind::kNotification);
  auto ok = ParseMessage(R"({"result":{"tools":[]},"jsonrpc":"2.0","id":3})");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->kind, MessageKind::kResponse);
  EXPECT_EQ(IntegerId(ok->id), 3);
  EXPECT_TRUE(ok->result.is_object());
  auto err = ParseMessage(R"({"jsonrpc":"2.0","id":4,"error":{"code":-32602,"message":"bad"}})");
  ASSERT_TRUE(err);
  ASSERT_TRUE(err->error);
  EXPECT_EQ(err->error->at("message"), "bad");
}

TEST(JsonRpc, GarbageIsAnErrorNamingTheProblem) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"Starting server...", "not JSON"},
      {"[1,2]", "JSON-RPC batches are not supported"},
      {"42", "not a JSON-RPC message (expected an object)"},
      {R"({"id":1,"result":{}})", R"(not a JSON-RPC 2.0 message ("jsonrpc": "2.0" missing))"},
      {R"({"jsonrpc":"2.0","id":{},"result":{}})", R"("id" must be a string or an integer)"},
      {R"({"jsonrpc":"2.0","id":1})", R"(a response needs "result" or "error")"},
      {R"({"jsonrpc":"2.0"})", "neither a request, a notification nor a response"},
  };
  for (const auto& [text, want] : cases) {
    auto m = ParseMessage(text);
    ASSERT_FALSE(m) << text;
    EXPECT_EQ(m.error().message.substr(0, want.size()), want) << text;
  }
}

TEST(JsonRpc, EncodesWhatItParses) {
  auto m = ParseMessage(EncodeRequest(9, "tools/call", boost::json::object{{"name", "echo"}}));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, MessageKind::kRequest);
  EXPECT_EQ(IntegerId(m->id), 9);
  auto n = ParseMessage(EncodeNotification("notifications/cancelled", boost::json::object{{"requestId", 9}}));
  ASSERT_TRUE(n);
  EXPECT_EQ(n->kind, MessageKind::kNotification);
  auto e = ParseMessage(EncodeError(boost::json::value(5), -32601, "nope"));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->error->at("code"), -32601);
}

TEST(LineSplitter, SplitsAcrossReadsAndSkipsEmptyLines) {
  LineSplitter splitter(100);
  std::vector<std::string> lines;
  std::vector<LineSplitter::Oversized> big;
  splitter.Feed("{\"a\":", lines, big);
  EXPECT_TRUE(lines.empty());
  splitter.Feed("1}\r\n\n{\"b\"", lines, big);
  splitter.Feed(":2}\n", lines, big);
  EXPECT_EQ(lines, (std::vector<std::string>{"{\"a\":1}", "{\"b\":2}"}));
  EXPECT_TRUE(big.empty());
}

TEST(LineSplitter, DropsAnOversizedLineAndRecoversItsId) {
  LineSplitter splitter(64);
  std::vector<std::string> lines;
  std::vector<LineSplitter::Oversized> big;
  const std::string huge = R"({"result":{"content":[{"type":"text","text":")" + std::string(5000, 'x') +
                           R"("}]},"jsonrpc":"2.0","id":42})";
  // In pieces, as a pipe delivers it, followed by a normal line.
  for (std::size_t i = 0; i < huge.size(); i += 700) splitter.Feed(huge.substr(i, 700), lines, big);
  splitter.Feed("\n{\"ok\":true}\n", lines, big);
  ASSERT_EQ(big.size(), 1u);
  EXPECT_EQ(big[0].bytes, huge.size());
  EXPECT_EQ(big[0].id, 42);
  EXPECT_EQ(lines, (std::vector<std::string>{"{\"ok\":true}"}));
}

}  // namespace
}  // namespace agentd::mcp
