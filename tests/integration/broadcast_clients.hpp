#pragma once
// Loopback clients for the broadcast integration test, as coroutines on the test's own
// io_context: an SSE follower, a WebSocket follower (which can also publish), and a POST.
// Followers record the `data` of every message they receive until one whose data is
// {"kind": "end"} arrives, then return. Every wait is bounded by the caller (RunCo deadline).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>

namespace agentd::testing {

struct Follower {
  std::string name;              // for failure messages: "sse#1@A"
  bool connected = false;        // got 200 (SSE) or completed the handshake (WebSocket)
  int status = 0;                // the HTTP status answered
  std::vector<boost::json::value> data;  // every message's `data`, in order
  std::string error;             // what ended it early, if anything
  bool finished = false;         // saw the end marker
};

// GET /broadcast/<channel>/stream with x-api-key: `key`.
boost::asio::awaitable<void> FollowSse(std::uint16_t port, std::string key, std::string channel,
                                       std::shared_ptr<Follower> out);

// GET /broadcast/<channel>/ws (upgrade) with x-api-key: `key`. Each of `publish` is sent as a
// client text message right after the handshake.
boost::asio::awaitable<void> FollowWebSocket(std::uint16_t port, std::string key,
                                             std::string channel, std::shared_ptr<Follower> out,
                                             std::vector<std::string> publish = {});

struct PostResult {
  int status = 0;
  std::string body;
  std::optional<std::string> retry_after;
};

// POST `target` with a JSON body and x-api-key: `key` (one connection per call).
boost::asio::awaitable<PostResult> PostJson(std::uint16_t port, std::string key,
                                            std::string target, std::string body);
// A plain GET (no upgrade) with x-api-key: `key`.
boost::asio::awaitable<PostResult> PlainGet(std::uint16_t port, std::string key,
                                            std::string target);

}  // namespace agentd::testing
