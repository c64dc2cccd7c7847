// Request framing and the header timeout through the real binary: `agentd serve` on port 0,
// raw bytes over loopback (http/detail/framing.hpp, docs: src/http/README.md).
#include <csignal>

#include <gtest/gtest.h>

#include "agentd_child.hpp"
#include "support/temp_dir.hpp"

namespace agentd {
namespace {

using namespace std::chrono_literals;
using testing::AgentdChild;
using testing::RawExchange;

class HttpBinary : public ::testing::Test {
 protected:
  void SetUp() override {
    child_ = std::make_unique<AgentdChild>(
        std::vector<std::string>{AGENTD_BINARY, "serve", "--port", "0", "--storage", "memory",
                                 "--threads", "1", "--header-timeout-ms", "300"},
        testing::EnvOverrides{}, (dir_.path() / "agentd.log").string());
    port_ = child_->WaitListening(20s).value_or(0);
    ASSERT_NE(port_, 0) << child_->Log();
  }
  void TearDown() override {
    if (child_) EXPECT_EQ(child_->Stop(SIGTERM, 20s), 0) << child_->Log();
  }
  agentd::testing::TempDir dir_;
  std::unique_ptr<AgentdChild> child_;
  std::uint16_t port_ = 0;
};

TEST_F(HttpBinary, RefusesFramingAProxyCouldReadDifferently) {
  // gzip, chunked: 501, and the chunked body is not served as a request.
  std::string raw = RawExchange(
      port_,
      "POST /threads HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: gzip, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
      10s);
  EXPECT_EQ(raw.rfind("HTTP/1.1 501 Not Implemented\r\n", 0), 0u) << raw;
  EXPECT_NE(raw.find(R"j({"error":"not_implemented","detail":"transfer coding \"gzip\" is not supported (only chunked)"})j"),
            std::string::npos)
      << raw;

  // Content-Length and Transfer-Encoding together: 400.
  raw = RawExchange(port_,
                    "POST /threads HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
                    10s);
  EXPECT_EQ(raw.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << raw;
  EXPECT_NE(raw.find(R"("error":"bad_request")"), std::string::npos) << raw;

  // HTTP/1.1 without Host: 400; HTTP/1.0 without Host: served.
  raw = RawExchange(port_, "GET /ok HTTP/1.1\r\n\r\n", 10s);
  EXPECT_EQ(raw.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << raw;
  EXPECT_NE(raw.find("missing Host header"), std::string::npos) << raw;
  raw = RawExchange(port_, "GET /ok HTTP/1.0\r\n\r\n", 10s);
  EXPECT_EQ(raw.rfind("HTTP/1.0 200 OK\r\n", 0), 0u) << raw;

  // Nothing was created by the refused requests.
  raw = RawExchange(port_,
                    "POST /threads/search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    "Content-Length: 2\r\nConnection: close\r\n\r\n{}",
                    10s);
  EXPECT_NE(raw.find("\r\n\r\n[]"), std::string::npos) << raw;
}

TEST_F(HttpBinary, HeaderTimeoutAnswers408BeforeClosing) {
  // --header-timeout-ms 300: a head that stops half way gets 408, then the close.
  const std::string raw = RawExchange(port_, "GET /ok HTTP/1.1\r\nHost: x\r\n", 10s);
  EXPECT_EQ(raw.rfind("HTTP/1.1 408 Request Timeout\r\n", 0), 0u) << raw;
  EXPECT_NE(raw.find("Connection: close"), std::string::npos) << raw;
  EXPECT_NE(raw.find(R"({"error":"request_timeout","detail":"the request did not arrive in time"})"),
            std::string::npos)
      << raw;
}

}  // namespace
}  // namespace agentd
