#pragma once
// Incremental Server-Sent Events parser, client side, as the WHATWG HTML standard's
// "Interpreting an event stream" section defines it. Pure: bytes in, events out, no I/O.
//
// Feed it whatever the socket returned: a slice may end anywhere, even between the CR and the
// LF of one line end or inside the leading byte-order mark. Lines may end in LF, CR or CRLF.
// Memory is bounded: a line longer than `max_line_bytes`, or an event whose data outgrows
// `max_event_data_bytes`, is an error, never unbounded growth.
//
// Bytes are passed through as they come (no UTF-8 validation): the JSON parser downstream is
// the one that rejects bad text.
//
// Thread safety: none; one parser per stream, used by the stream's owner only.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace agentd::runtime::providers {

inline constexpr std::size_t kDefaultSseMaxLineBytes = std::size_t{1} << 20;        // 1 MiB
inline constexpr std::size_t kDefaultSseMaxEventDataBytes = std::size_t{4} << 20;  // 4 MiB

struct SseEvent {
  std::string event = "message";  // the `event:` field; "message" when the block had none
  std::string data;               // the block's `data:` values joined with '\n'
  std::string id;                 // last event id of the stream (persists across events)
  std::optional<std::uint64_t> retry;  // a valid `retry:` (ms) given in this event's block

  friend bool operator==(const SseEvent&, const SseEvent&) = default;
};

struct SseParserOptions {
  std::size_t max_line_bytes = kDefaultSseMaxLineBytes;  // excluding the line end
  std::size_t max_event_data_bytes = kDefaultSseMaxEventDataBytes;
};

class SseParser {
 public:
  explicit SseParser(SseParserOptions options = {});

  // Parses `bytes`, appending each event they complete to `events` (never cleared here, so a
  // caller can reuse one vector). Fails with kResourceExhausted when a line or an event's data
  // exceeds the limits; a failed parser stays failed and returns the same error on every call.
  Status Feed(std::string_view bytes, std::vector<SseEvent>& events);

  // True when nothing of an unfinished event is buffered, i.e. the stream may end here without
  // losing an event. Per the standard, an event not closed by a blank line is discarded at the
  // end of the stream; a client uses this to tell a clean end from a truncated one.
  bool AtEventBoundary() const;

  // The reconnection time set by the latest valid `retry:` field, if any (the standard makes it
  // a property of the stream, and a block holding only `retry:` dispatches no event).
  std::optional<std::uint64_t> reconnection_time_ms() const { return reconnection_time_ms_; }

 private:
  Status ProcessLine(std::string_view line, std::vector<SseEvent>& events);
  Status ProcessField(std::string_view name, std::string_view value);
  void Dispatch(std::vector<SseEvent>& events);
  Status Fail(Error error);

  SseParserOptions options_;
  std::string line_;        // the unfinished line carried over from earlier slices
  std::string event_type_;  // event type buffer
  std::string data_;        // data buffer, without the standard's trailing LF
  bool has_data_ = false;   // a `data` field was seen (an empty `data:` still dispatches)
  std::string last_event_id_;
  std::optional<std::uint64_t> block_retry_;
  std::optional<std::uint64_t> reconnection_time_ms_;
  bool skip_lf_ = false;      // the previous slice ended in CR: a leading LF ends nothing
  bool bom_checked_ = false;  // only the stream's first bytes may be a BOM
  std::size_t bom_matched_ = 0;
  std::optional<Error> failure_;
};

}  // namespace agentd::runtime::providers
