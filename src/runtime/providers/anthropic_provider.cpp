#include "runtime/providers/anthropic_provider.hpp"

#include <boost/json/serialize.hpp>

#include "runtime/providers/anthropic_stream.hpp"

namespace agentd::runtime::providers {

AnthropicProvider::AnthropicProvider(ProviderOptions options, HttpTransport& transport)
    : HttpChatProvider(std::move(options), transport) {}

HttpCall AnthropicProvider::BuildCall(const ChatRequest& request) const {
  const auto& opts = options();
  std::string base = opts.base_url.empty() ? std::string(kDefaultAnthropicBaseUrl) : opts.base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  HttpCall call;
  call.method = "POST";
  call.url = base + "/v1/messages";
  call.headers.emplace_back("Content-Type", "application/json");
  call.headers.emplace_back("Accept", "text/event-stream");
  call.headers.emplace_back("anthropic-version", std::string(kAnthropicVersion));
  if (!opts.api_key.empty()) call.headers.emplace_back("x-api-key", opts.api_key);
  call.body = boost::json::serialize(BuildAnthropicRequest(request.messages, request.tools,
                                                           opts.model, /*stream=*/true,
                                                           request.options));
  return call;
}

std::unique_ptr<ChatStreamDecoder> AnthropicProvider::MakeDecoder() const {
  return std::make_unique<AnthropicStreamDecoder>();
}

}  // namespace agentd::runtime::providers
