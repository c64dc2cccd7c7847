#pragma once
// ModelRegistry: one ChatModel per configured model (config models[]), by name. Built from the
// validated config, then read-only (safe from every loop). A configuration reload builds a new
// registry from the previous one (Build's `previous`): a model whose spec did not change is
// the same ChatModel in both (its max_concurrency permits and in-flight calls carry on), a
// changed one is new; runs that hold the old registry finish with its models. Providers:
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
  // `previous`: the registry this one replaces (a reload), whose unchanged models are shared.
  static Result<std::unique_ptr<ModelRegistry>> Build(const std::vector<config::ModelSpec>& models,
                                                      HttpTransport& transport,
                                                      observe::Metrics* metrics = nullptr,
                                                      const ModelRegistry* previous = nullptr);

  // The model called `name`, or null.
  ChatModel* Find(std::string_view name) const;
  std::vector<std::string> Names() const;

 private:
  struct Entry {
    config::ModelSpec spec;
    std::shared_ptr<ChatModel> model;  // shared with the registry a reload built from this one
  };
  std::map<std::string, Entry, std::less<>> models_;
};

// One ChatModel for `spec` (the factory Build uses). kInvalidArgument for an unknown provider.
Result<std::unique_ptr<ChatModel>> MakeChatModel(const config::ModelSpec& spec,
                                                 HttpTransport& transport,
                                                 observe::Metrics* metrics = nullptr);

}  // namespace agentd::runtime
