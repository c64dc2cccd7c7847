#pragma once
// OpenAiProvider: the `openai` model provider — OpenAI chat completions (and any compatible
// server, e.g. `agentd mock-llm`) streamed over an HttpTransport. POSTs
// BuildOpenAiRequest(stream: true) to <base_url>/chat/completions with
// `Authorization: Bearer <api_key>` (left out when the key is empty). Retries, concurrency and
// errors: see HttpChatProvider.

#include "runtime/providers/http_provider.hpp"

namespace agentd::runtime::providers {

inline constexpr std::string_view kDefaultOpenAiBaseUrl = "https://api.openai.com/v1";

class OpenAiProvider final : public HttpChatProvider {
 public:
  // `transport` must outlive the provider.
  OpenAiProvider(ProviderOptions options, HttpTransport& transport);

 protected:
  HttpCall BuildCall(const ChatRequest& request) const override;
  std::unique_ptr<ChatStreamDecoder> MakeDecoder() const override;
};

}  // namespace agentd::runtime::providers
