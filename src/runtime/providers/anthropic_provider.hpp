#pragma once
// AnthropicProvider: the `anthropic` model provider — the Messages API streamed over an
// HttpTransport. POSTs BuildAnthropicRequest(stream: true) to <base_url>/v1/messages with
// `x-api-key` and `anthropic-version: 2023-06-01`. 529 (overloaded) is retried like 5xx.
// Retries, concurrency and errors: see HttpChatProvider.

#include "runtime/providers/http_provider.hpp"

namespace agentd::runtime::providers {

inline constexpr std::string_view kDefaultAnthropicBaseUrl = "https://api.anthropic.com";
inline constexpr std::string_view kAnthropicVersion = "2023-06-01";

class AnthropicProvider final : public HttpChatProvider {
 public:
  // `transport` must outlive the provider.
  AnthropicProvider(ProviderOptions options, HttpTransport& transport);

 protected:
  HttpCall BuildCall(const ChatRequest& request) const override;
  std::unique_ptr<ChatStreamDecoder> MakeDecoder() const override;
};

}  // namespace agentd::runtime::providers
