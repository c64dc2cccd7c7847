#pragma once
// ModelRegistry: one ChatModel per configured model (config models[]), by name. Built once at
// start-up from the validated config, then read-only (safe from every loop). Providers:
// "mock" -> MockChatModel, "openai" -> OpenAiProvider, "anthropic" -> AnthropicProvider; the
// HTTP ones share the given transport (http::ClientPool in production), which must outlive
// the registry. With a metrics registry every model counts its agentd_llm_* series
// (model_metrics.hpp, label model = its configured name); it must outlive the registry too.

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "config/config.hpp"
#include "observe/metrics.hpp"
#include "runtime/chat_model.hpp"
#include "runtime/http_transport.hpp"

namespace agentd::runtime {

class ModelRegistry {
 public:
  // Errors: kInvalidArgument naming the model with an unknown provider or a duplicate name.
  static Result<std::unique_ptr<ModelRegistry>> Build(const std::vector<config::ModelSpec>& models,
                                                      HttpTransport& transport,
                                                      observe::Metrics* metrics = nullptr);

  // The model called `name`, or null.
  ChatModel* Find(std::string_view name) const;
  std::vector<std::string> Names() const;

 private:
  std::map<std::string, std::unique_ptr<ChatModel>, std::less<>> models_;
};

// One ChatModel for `spec` (the factory Build uses). kInvalidArgument for an unknown provider.
Result<std::unique_ptr<ChatModel>> MakeChatModel(const config::ModelSpec& spec,
                                                 HttpTransport& transport,
                                                 observe::Metrics* metrics = nullptr);

}  // namespace agentd::runtime
