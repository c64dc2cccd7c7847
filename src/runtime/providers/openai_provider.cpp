#include "runtime/providers/openai_provider.hpp"

#include <boost/json/serialize.hpp>

#include "runtime/providers/openai_stream.hpp"

namespace agentd::runtime::providers {

namespace {
std::string TrimSlash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}
}  // namespace

OpenAiProvider::OpenAiProvider(ProviderOptions options, HttpTransport& transport)
    : HttpChatProvider(std::move(options), transport) {}

HttpCall OpenAiProvider::BuildCall(const ChatRequest& request) const {
  const auto& opts = options();
  HttpCall call;
  call.method = "POST";
  call.url = TrimSlash(opts.base_url.empty() ? std::string(kDefaultOpenAiBaseUrl) : opts.base_url) +
             "/chat/completions";
  call.headers.emplace_back("Content-Type", "application/json");
  call.headers.emplace_back("Accept", "text/event-stream");
  if (!opts.api_key.empty()) call.headers.emplace_back("Authorization", "Bearer " + opts.api_key);
  call.body = boost::json::serialize(BuildOpenAiRequest(request.messages, request.tools, opts.model,
                                                        /*stream=*/true, request.options));
  return call;
}

std::unique_ptr<ChatStreamDecoder> OpenAiProvider::MakeDecoder() const {
  return std::make_unique<OpenAiStreamDecoder>();
}

}  // namespace agentd::runtime::providers
