// fuzz_mock_reply: arbitrary bytes as the JSON body of a chat-completions request to the mock
// model (src/mock/mock_model.hpp), through every request -> reply function: ComputeReply,
// RenderCompletion, RenderStream, LatencyFor, ContentToText, and the get_weather tool's body
// rule. Properties: no crash or sanitizer report; the streamed frames end with [DONE]; the
// rendered completion is JSON.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include <boost/json/parse.hpp>

#include "mock/mock_model.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)agentd::mock::GetWeatherFromBody(text);

  boost::system::error_code ec;
  auto parsed = boost::json::parse(text, ec);
  if (ec) return 0;
  (void)agentd::mock::ContentToText(parsed);
  if (!parsed.is_object()) return 0;
  const auto& request = parsed.get_object();

  agentd::mock::MockOptions options;
  options.chunks = 1 + size % 16;
  if (auto* messages = request.if_contains("messages")) {
    (void)agentd::mock::LatencyFor(*messages, options);
  }
  auto reply = agentd::mock::ComputeReply(request, options);
  (void)reply.PieceDelay();

  auto completion = agentd::mock::RenderCompletion(request, reply);
  boost::json::parse(completion, ec);
  if (ec) {
    std::fprintf(stderr, "fuzz_mock_reply: RenderCompletion is not JSON: %s\n",
                 completion.c_str());
    std::abort();
  }
  auto frames = agentd::mock::RenderStream(request, reply);
  if (frames.empty() || frames.back().bytes != "data: [DONE]\n\n") {
    std::fprintf(stderr, "fuzz_mock_reply: the stream does not end with [DONE]\n");
    std::abort();
  }
  return 0;
}
