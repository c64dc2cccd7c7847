#pragma once
// Serving a run's event log as an SSE body (agent-protocol.md 4): frames from a Subscription,
// every batch Next() returns coalesced into one write; a `: hb\n` comment (no empty line after
// it, section 4.8) every `heartbeat` while idle; no terminal event, the body just ends.

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>

#include "bus/event_log.hpp"
#include "http/message.hpp"

namespace agentd::api {

// Streams until the log ends or the client goes away; calls `on_disconnect` (may be empty) when
// a write fails before the end.
boost::asio::awaitable<void> ServeSse(std::shared_ptr<bus::Subscription> subscription,
                                      http::BodyWriter& out, std::function<void()> on_disconnect,
                                      std::chrono::milliseconds heartbeat = std::chrono::seconds(10));

// An `error` event with no id (nothing was logged), e.g. for the join of an unknown run.
std::string SseErrorFrame(std::string_view error, std::string_view message);

// A `values` event with no id: the final values of an ended run whose event log is no longer
// retained (what a late joiner gets instead of a replay).
std::string SseValuesFrame(const boost::json::value& values);

// A `queue` event with no id: {"position": n, "estimated_wait_ms": m}. Sent only while a run
// waits for an execution slot (admission), never for a run that starts at once: the JS SDK
// hands unknown event names to the app, so clients that never see a queue never see one.
std::string SseQueueFrame(std::size_t position, std::int64_t estimated_wait_ms);

// Sets the SSE headers of section 4.1 (Content-Type is set by Response::Stream).
void SetSseHeaders(http::Response& response);

}  // namespace agentd::api
