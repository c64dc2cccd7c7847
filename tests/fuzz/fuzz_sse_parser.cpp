// fuzz_sse_parser: arbitrary bytes as a provider's streamed response body, through
// runtime::providers::SseParser alone and through ChatStream with the OpenAI and the Anthropic
// decoders, and as a non-streamed body through ParseOpenAiResponse / ParseAnthropicResponse.
//
// Input: byte 0 picks the limits (defaults, or tiny ones that make the line and event-data
// limits reachable); bytes 1-2 are two cut points; the rest is the body. The body is fed whole
// to one parser and in three slices to another, and the two must agree exactly: same events,
// same deltas, same success, same assembled result. A socket may cut a body anywhere, so any
// difference is a bug (abort with both sides printed).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string_view>
#include <vector>

#include "runtime/providers/anthropic_stream.hpp"
#include "runtime/providers/chat_stream.hpp"
#include "runtime/providers/openai_stream.hpp"
#include "runtime/providers/sse_parser.hpp"

namespace {

using namespace agentd::runtime::providers;

[[noreturn]] void Mismatch(const char* what, std::string_view body, std::size_t a,
                           std::size_t b) {
  std::fprintf(stderr, "fuzz_sse_parser: %s differs between whole and sliced feeding "
                       "(cuts at %zu and %zu of %zu bytes)\n",
               what, a, b, body.size());
  std::abort();
}

std::vector<std::string_view> Slices(std::string_view body, std::size_t a, std::size_t b) {
  return {body.substr(0, a), body.substr(a, b - a), body.substr(b)};
}

void CheckParser(std::string_view body, std::size_t a, std::size_t b, SseParserOptions opts) {
  SseParser whole(opts);
  std::vector<SseEvent> whole_events;
  auto whole_status = whole.Feed(body, whole_events);

  SseParser sliced(opts);
  std::vector<SseEvent> sliced_events;
  agentd::Status sliced_status = agentd::Status();
  for (auto slice : Slices(body, a, b)) {
    sliced_status = sliced.Feed(slice, sliced_events);
    if (!sliced_status) break;
  }
  if (whole_status.has_value() != sliced_status.has_value()) Mismatch("parser status", body, a, b);
  if (!whole_status) return;
  if (whole_events != sliced_events) Mismatch("parser events", body, a, b);
  if (whole.AtEventBoundary() != sliced.AtEventBoundary()) Mismatch("event boundary", body, a, b);
  if (whole.reconnection_time_ms() != sliced.reconnection_time_ms()) {
    Mismatch("reconnection time", body, a, b);
  }
}

template <class Decoder>
void CheckStream(std::string_view body, std::size_t a, std::size_t b, SseParserOptions opts) {
  ChatStream whole(std::make_unique<Decoder>(), opts);
  std::vector<StreamDelta> whole_deltas;
  auto whole_status = whole.Feed(body, whole_deltas);

  ChatStream sliced(std::make_unique<Decoder>(), opts);
  std::vector<StreamDelta> sliced_deltas;
  agentd::Status sliced_status = agentd::Status();
  for (auto slice : Slices(body, a, b)) {
    sliced_status = sliced.Feed(slice, sliced_deltas);
    if (!sliced_status) break;
  }
  if (whole_status.has_value() != sliced_status.has_value()) Mismatch("stream status", body, a, b);
  if (whole_deltas != sliced_deltas) Mismatch("stream deltas", body, a, b);
  if (whole.done() != sliced.done()) Mismatch("stream done", body, a, b);
  if (!(whole.partial() == sliced.partial())) Mismatch("partial result", body, a, b);
  auto whole_result = whole.TakeResult();
  auto sliced_result = sliced.TakeResult();
  if (whole_result.has_value() != sliced_result.has_value()) Mismatch("result", body, a, b);
  if (whole_result && !(*whole_result == *sliced_result)) Mismatch("result value", body, a, b);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  SseParserOptions opts;
  if (data[0] & 1) {
    opts.max_line_bytes = 64;
    opts.max_event_data_bytes = 128;
  }
  std::string_view body(reinterpret_cast<const char*>(data) + 3, size - 3);
  std::size_t a = body.empty() ? 0 : data[1] % (body.size() + 1);
  std::size_t b = body.empty() ? 0 : data[2] % (body.size() + 1);
  if (a > b) std::swap(a, b);

  CheckParser(body, a, b, opts);
  CheckStream<OpenAiStreamDecoder>(body, a, b, opts);
  CheckStream<AnthropicStreamDecoder>(body, a, b, opts);
  (void)ParseOpenAiResponse(body);
  (void)ParseAnthropicResponse(body);
  return 0;
}
