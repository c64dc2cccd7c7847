#pragma once
// Test helpers for the provider codecs: render deltas/results as text (so a test compares the
// whole outcome at once) and replay a recorded byte stream under every slicing.

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/providers/chat_stream.hpp"
#include "runtime/providers/chat_types.hpp"

namespace agentd::runtime::providers::testing {

using DecoderFactory = std::function<std::unique_ptr<ChatStreamDecoder>()>;

std::string Render(const StreamDelta& delta);
std::string Render(const ChatResult& result);
std::string Render(const Error& error);

// Feeds `slices` in order to a fresh ChatStream, then renders every delta (one per line), then
// the TakeResult() outcome, or the first Feed error.
std::string RunSlices(const DecoderFactory& factory, const std::vector<std::string_view>& slices,
                      SseParserOptions options = {});

// Checks that `bytes` fed in two slices split at every byte boundary, and fed one byte at a
// time, renders exactly as when fed whole. Returns the rendering of the whole feed in `whole`.
::testing::AssertionResult SameForEverySlicing(const DecoderFactory& factory,
                                               std::string_view bytes, std::string* whole);

}  // namespace agentd::runtime::providers::testing
