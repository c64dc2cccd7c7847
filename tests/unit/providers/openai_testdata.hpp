#pragma once
// Byte-exact responses recorded from the reference mock (/work/shared/peer/mock-llm.mjs) with
// curl: a streamed text reply, a streamed tool-call reply (both with
// stream_options.include_usage) and the same two replies non-streamed. Do not reformat: the
// tests replay these bytes under every slicing.

#include <string_view>

namespace agentd::runtime::providers::testing {

// messages [{user, "hello there"}], stream, include_usage
inline constexpr std::string_view kOpenAiTextStream = R"sse(data: {"id":"chatcmpl-64e95a1abd348f2419f71ee4","object":"chat.completion.chunk","created":1700000000,"model":"mock","system_fingerprint":"mock","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}

data: {"id":"chatcmpl-64e95a1abd348f2419f71ee4","object":"chat.completion.chunk","created":1700000000,"model":"mock","system_fingerprint":"mock","choices":[{"index":0,"delta":{"content":"ech"},"logprobs":null,"finish_reason":null}]}

data: {"id":"chatcmpl-64e95a1abd348f2419f71ee4","object":"chat.completion.chunk","created":1700000000,"model":"mock","system_fingerprint":"mock","choices":[{"index":0,"delta":{"content":"o: "},"logprobs":null,"finish_reason":null}]}

data: {"id":"chatcmpl-64e95a1abd348f2419f71ee4","object":"chat.completion.chunk","created":1700000000,"model":"mock","system_fingerprint":"mock","choices":[{"index":0,"delta":{"content":"hel"},"logprobs":null,"finish_reason":null}]}

data: {"id":"chatcmpl-64e95a1abd348f2419f71ee4","object":"chat.completion.chunk","created":1700000000,"model":"mock","system_fingerprint":"mock","choices":[{"index":0,"delta":{"content":"lo "},"logprobs":null,"finish_reason":null}]}

data: {"id":"chatcmpl-64e95a1abd348f2419f71ee4","object":"chat.completion.chunk","created":1700000000,"model":"mock","system_fingerprint":"mock","choices":[{"index":0,"delta":{"content":"the"},"logprobs":null,"finish_reason":null}]}

data: {"id":"chatcmpl-64e95a1abd348f2419f71ee4","object":"chat.completion.chunk","created":1700000000,"model":"mock","system_fingerprint":"mock","choices":[{"index":0,"delta":{"content":"re"},"logprobs":null,"finish_reason":null}]}

data: {"id":"chatcmpl-64e95a1abd348f2419f71ee4","object":"chat.completion.chunk","created":1700000000,"model":"mock","system_fingerprint":"mock","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}

data: {"id":"chatcmpl-64e95a1abd348f2419f71ee4","object":"chat.completion.chunk","created":1700000000,"model":"mock","system_fingerprint":"mock","choices":[],"usage":{"prompt_tokens":11,"completion_tokens":6,"total_tokens":17}}

data: [DONE]

)sse";

// messages [{user, "what is the weather?"}], tools [get_weather], stream, include_usage
inline constexpr std::string_view kOpenAiToolStream = R"sse(data: {"id":"chatcmpl-e3ad9cd37fbea14e211a2537","object":"chat.completion.chunk","created":1700000000,"model":"mock","system_fingerprint":"mock","choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_e3ad9cd37fbea14e211a2537","type":"function","function":{"name":"get_weather","arguments":""}}]},"logprobs":null,"finish_reason":null}]}

data: {"id":"chatcmpl-e3ad9cd37fbea14e211a2537","object":"chat.completion.chunk","created":1700000000,"model":"mock","system_fingerprint":"mock","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\""}}]},"logprobs":null,"finish_reason":null}]}

data: {"id":"chatcmpl-e3ad9cd37fbea14e211a2537","object":"chat.completion.chunk","created":1700000000,"model":"mock","system_fingerprint":"mock","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"ci"}}]},"logprobs":null,"finish_reason":null}]}

data: {"id":"chatcmpl-e3ad9cd37fbea14e211a2537","object":"chat.completion.chunk","created":1700000000,"model":"mock","system_fingerprint":"mock","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"ty"}}]},"logprobs":null,"finish_reason":null}]}

data: {"id":"chatcmpl-e3ad9cd37fbea14e211a2537","object":"chat.completion.chunk","created":1700000000,"model":"mock","system_fingerprint":"mock","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\":"}}]},"logprobs":null,"finish_reason":null}]}

data: {"id":"chatcmpl-e3ad9cd37fbea14e211a2537","object":"chat.completion.chunk","created":1700000000,"model":"mock","system_fingerprint":"mock","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"p"}}]},"logprobs":null,"finish_reason":null}]}

data: {"id":"chatcmpl-e3ad9cd37fbea14e211a2537","object":"chat.completion.chunk","created":1700000000,"model":"mock","system_fingerprint":"mock","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"ar"}}]},"logprobs":null,"finish_reason":null}]}

data: {"id":"chatcmpl-e3ad9cd37fbea14e211a2537","object":"chat.completion.chunk","created":1700000000,"model":"mock","system_fingerprint":"mock","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"is"}}]},"logprobs":null,"finish_reason":null}]}

data: {"id":"chatcmpl-e3ad9cd37fbea14e211a2537","object":"chat.completion.chunk","created":1700000000,"model":"mock","system_fingerprint":"mock","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"}"}}]},"logprobs":null,"finish_reason":null}]}

data: {"id":"chatcmpl-e3ad9cd37fbea14e211a2537","object":"chat.completion.chunk","created":1700000000,"model":"mock","system_fingerprint":"mock","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}]}

data: {"id":"chatcmpl-e3ad9cd37fbea14e211a2537","object":"chat.completion.chunk","created":1700000000,"model":"mock","system_fingerprint":"mock","choices":[],"usage":{"prompt_tokens":13,"completion_tokens":8,"total_tokens":21}}

data: [DONE]

)sse";

inline constexpr std::string_view kOpenAiTextResponse = R"json({"id":"chatcmpl-64e95a1abd348f2419f71ee4","object":"chat.completion","created":1700000000,"model":"mock","choices":[{"index":0,"message":{"role":"assistant","content":"echo: hello there"},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":11,"completion_tokens":6,"total_tokens":17},"system_fingerprint":"mock"})json";

inline constexpr std::string_view kOpenAiToolResponse = R"json({"id":"chatcmpl-e3ad9cd37fbea14e211a2537","object":"chat.completion","created":1700000000,"model":"mock","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_e3ad9cd37fbea14e211a2537","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"paris\"}"}}]},"logprobs":null,"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":13,"completion_tokens":8,"total_tokens":21},"system_fingerprint":"mock"})json";

}  // namespace agentd::runtime::providers::testing
