#pragma once
// JSON-RPC 2.0 as MCP uses it (one message per line on stdio, one per POST or SSE event over
// Streamable HTTP). Pure: text in, values out, no I/O. Garbage is an error value, never an
// exception; memory per line is bounded by LineSplitter.
// Tests: tests/unit/mcp/jsonrpc_test.cpp.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "common/error.hpp"

namespace agentd::mcp {

// The protocol revision this client speaks (initialize, MCP-Protocol-Version header).
inline constexpr std::string_view kProtocolVersion = "2025-11-25";

enum class MessageKind { kRequest, kNotification, kResponse };

struct Message {
  MessageKind kind = MessageKind::kNotification;
  boost::json::value id;  // request/response: a string or integer; null otherwise
  std::string method;     // request/notification
  boost::json::value params;
  boost::json::value result;                // response (success)
  std::optional<boost::json::object> error;  // response (failure): {code, message, data?}
};

// One JSON-RPC message. kInvalidArgument (with what is wrong) for non-JSON, a batch, a missing
// "jsonrpc":"2.0", or a shape that is neither request, notification nor response.
Result<Message> ParseMessage(std::string_view text);

std::string EncodeRequest(std::int64_t id, std::string_view method, boost::json::value params);
std::string EncodeNotification(std::string_view method, boost::json::value params);
std::string EncodeResult(const boost::json::value& id, boost::json::value result);
std::string EncodeError(const boost::json::value& id, int code, std::string_view message);

// The integer id of a response (this client only sends integer ids), if it has one.
std::optional<std::int64_t> IntegerId(const boost::json::value& id);

// Splits a byte stream into lines ('\n', a trailing '\r' dropped; empty lines skipped). A line
// longer than `max_line_bytes` is not kept: it is reported as an Oversized entry with the id
// found near its start or end (`"id":N`; the SDKs write it last), so the caller can fail that
// one request instead of letting it hang.
class LineSplitter {
 public:
  explicit LineSplitter(std::size_t max_line_bytes) : max_(max_line_bytes) {}
  struct Oversized {
    std::size_t bytes = 0;
    std::optional<std::int64_t> id;
  };
  void Feed(std::string_view bytes, std::vector<std::string>& lines,
            std::vector<Oversized>& oversized);

 private:
  std::size_t max_;
  std::string line_;
  bool skipping_ = false;  // inside an oversized line
  std::size_t skipped_ = 0;
  std::string head_;       // the oversized line's first bytes
  std::string tail_;       // and its last bytes
};

}  // namespace agentd::mcp
