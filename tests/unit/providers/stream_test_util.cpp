#include "stream_test_util.hpp"

#include <type_traits>

#include <fmt/format.h>

#include "common/error.hpp"

namespace agentd::runtime::providers::testing {
namespace {

std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

}  // namespace

std::string Render(const StreamDelta& delta) {
  return std::visit(
      [](const auto& d) -> std::string {
        using T = std::decay_t<decltype(d)>;
        if constexpr (std::is_same_v<T, MessageStart>) {
          return "start " + d.id;
        } else if constexpr (std::is_same_v<T, TextDelta>) {
          return "text " + Quote(d.text);
        } else if constexpr (std::is_same_v<T, ToolCallStart>) {
          return fmt::format("call_start {} {} {}", d.index, d.id, d.name);
        } else if constexpr (std::is_same_v<T, ToolCallArgsDelta>) {
          return fmt::format("call_args {} {}", d.index, Quote(d.fragment));
        } else if constexpr (std::is_same_v<T, Usage>) {
          return fmt::format("usage {} {}", d.prompt_tokens, d.completion_tokens);
        } else {
          return "finish " + d.reason;
        }
      },
      delta);
}

std::string Render(const ChatResult& r) {
  std::string out = fmt::format("result id={} finish={} text={}", r.id, r.finish_reason,
                                Quote(r.text));
  if (r.usage) out += fmt::format(" usage={}/{}", r.usage->prompt_tokens, r.usage->completion_tokens);
  for (const ToolCall& c : r.tool_calls) {
    out += fmt::format("\n  call {} {} {}", c.id, c.name, Quote(c.arguments_json));
  }
  return out;
}

std::string Render(const Error& e) {
  return fmt::format("error {}: {}", ErrcName(e.code), e.message);
}

std::string RunSlices(const DecoderFactory& factory, const std::vector<std::string_view>& slices,
                      SseParserOptions options) {
  ChatStream stream(factory(), options);
  std::vector<StreamDelta> deltas;
  std::string out;
  for (std::string_view slice : slices) {
    if (Status s = stream.Feed(slice, deltas); !s) {
      for (const StreamDelta& d : deltas) out += Render(d) + "\n";
      return out + Render(s.error());
    }
  }
  for (const StreamDelta& d : deltas) out += Render(d) + "\n";
  auto result = stream.TakeResult();
  return out + (result ? Render(*result) : Render(result.error()));
}

::testing::AssertionResult SameForEverySlicing(const DecoderFactory& factory,
                                               std::string_view bytes, std::string* whole) {
  const std::string expected = RunSlices(factory, {bytes});
  if (whole) *whole = expected;
  for (std::size_t split = 0; split <= bytes.size(); ++split) {
    std::string got = RunSlices(factory, {bytes.substr(0, split), bytes.substr(split)});
    if (got != expected) {
      return ::testing::AssertionFailure()
             << "split at byte " << split << " gave\n" << got << "\ninstead of\n" << expected;
    }
  }
  std::vector<std::string_view> bytewise;
  for (std::size_t i = 0; i < bytes.size(); ++i) bytewise.push_back(bytes.substr(i, 1));
  if (std::string got = RunSlices(factory, bytewise); got != expected) {
    return ::testing::AssertionFailure() << "byte-at-a-time feed gave\n" << got;
  }
  return ::testing::AssertionSuccess();
}

}  // namespace agentd::runtime::providers::testing
