#pragma once
// A small blocking HTTP/1.1 client for tests over loopback: one keep-alive connection, whole
// responses (chunked bodies are de-chunked), bounded by a per-call timeout. Beast stays inside
// http_client.cpp.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace agentd::testing {

struct HttpResult {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::optional<std::string> Header(std::string_view name) const;
};

class HttpClient {
 public:
  explicit HttpClient(std::uint16_t port, std::string host = "127.0.0.1",
                      std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends one request on the kept-alive connection (reconnecting if the server closed it).
  // Throws std::runtime_error on transport failure or timeout.
  HttpResult Send(std::string_view method, std::string_view target, std::string_view body = {},
                  const std::vector<std::pair<std::string, std::string>>& headers = {});
  HttpResult Get(std::string_view target) { return Send("GET", target); }
  HttpResult Post(std::string_view target, std::string_view body) {
    return Send("POST", target, body, {{"content-type", "application/json"}});
  }
  // How many TCP connections this client has opened so far (keep-alive checks).
  int connections_opened() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace agentd::testing
