#include "runtime/model_registry.hpp"

#include <fmt/format.h>

#include "runtime/mock_chat_model.hpp"
#include "runtime/providers/anthropic_provider.hpp"
#include "runtime/providers/openai_provider.hpp"

namespace agentd::runtime {

Result<std::unique_ptr<ChatModel>> MakeChatModel(const config::ModelSpec& spec,
                                                 HttpTransport& transport,
                                                 observe::Metrics* metrics) {
  if (spec.provider == "mock") {
    mock::MockOptions options;
    options.chunks = spec.mock_chunks > 0 ? static_cast<std::size_t>(spec.mock_chunks) : 1;
    options.base_latency = spec.mock_latency;
    options.slow_latency = spec.mock_slow_latency;
    return std::unique_ptr<ChatModel>(std::make_unique<MockChatModel>(
        spec.name, options, spec.model.empty() ? "mock" : spec.model, spec.max_concurrency,
        metrics, providers::ChatOptionsFrom(spec)));
  }
  auto options = providers::ProviderOptionsFrom(spec);
  options.metrics = metrics;
  if (spec.provider == "openai") {
    return std::unique_ptr<ChatModel>(
        std::make_unique<providers::OpenAiProvider>(std::move(options), transport));
  }
  if (spec.provider == "anthropic") {
    return std::unique_ptr<ChatModel>(
        std::make_unique<providers::AnthropicProvider>(std::move(options), transport));
  }
  return MakeError(Errc::kInvalidArgument,
                   fmt::format("models.{}: unknown provider \"{}\" (mock, openai, anthropic)",
                               spec.name, spec.provider));
}

Result<std::unique_ptr<ModelRegistry>> ModelRegistry::Build(
    const std::vector<config::ModelSpec>& models, HttpTransport& transport,
    observe::Metrics* metrics, const ModelRegistry* previous) {
  auto registry = std::make_unique<ModelRegistry>();
  for (const auto& spec : models) {
    if (registry->models_.count(spec.name) != 0) {
      return MakeError(Errc::kInvalidArgument, fmt::format("models.{}: duplicate name", spec.name));
    }
    if (previous != nullptr) {
      auto it = previous->models_.find(spec.name);
      if (it != previous->models_.end() && it->second.spec == spec) {
        registry->models_.emplace(spec.name, it->second);
        continue;
      }
    }
    auto model = MakeChatModel(spec, transport, metrics);
    if (!model) return model.error();
    registry->models_.emplace(spec.name, Entry{spec, std::shared_ptr<ChatModel>(std::move(*model))});
  }
  return registry;
}

ChatModel* ModelRegistry::Find(std::string_view name) const {
  auto it = models_.find(name);
  return it == models_.end() ? nullptr : it->second.model.get();
}

std::vector<std::string> ModelRegistry::Names() const {
  std::vector<std::string> names;
  names.reserve(models_.size());
  for (const auto& [name, model] : models_) names.push_back(name);
  return names;
}

}  // namespace agentd::runtime
