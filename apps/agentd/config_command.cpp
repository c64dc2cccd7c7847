// `agentd config`: the effective configuration, --validate [FILE], --markdown.

#include <cstdio>
#include <vector>

#include <fmt/format.h>

#include "commands.hpp"
#include "config/dump.hpp"
#include "config/environment.hpp"
#include "config/loader.hpp"
#include "graph/loader.hpp"

namespace agentd::app {

int RunConfig(std::span<const std::string> args) {
  std::vector<std::string> settings;
  std::string validate;
  bool validating = false;
  bool markdown = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--markdown") {
      markdown = true;
    } else if (args[i] == "--validate" || args[i].rfind("--validate=", 0) == 0) {
      validating = true;
      if (args[i] == "--validate") {
        // Without a FILE (nothing or a flag next): the effective configuration of the settings.
        if (i + 1 < args.size() && args[i + 1].rfind("--", 0) != 0) validate = args[++i];
      } else {
        validate = args[i].substr(std::string_view("--validate=").size());
      }
    } else {
      settings.push_back(args[i]);
    }
  }
  if (markdown) {
    fmt::print("{}", config::SettingsMarkdown());
    return 0;
  }
  if (!validate.empty()) {
    settings.insert(settings.begin(), {"--config", validate});
  }
  auto loaded = config::LoadConfig(settings, config::Environment::FromProcess());
  if (!loaded) {
    fmt::print(stderr, "config error: {}\n", loaded.error().message);
    return 1;
  }
  if (validating) {
    // Graph files: every error of every file, one per line (graph/loader.hpp).
    const auto graphs = graph::LoadGraphFiles(*loaded);
    if (!graphs.diags.empty()) {
      for (const auto& d : graphs.diags.items()) fmt::print(stderr, "graph error: {}\n", d.Format());
      fmt::print(stderr, "config error: {} problem(s) in graph files\n", graphs.diags.items().size());
      return 1;
    }
    fmt::print("ok: {} ({} models, {} tools, {} graphs)\n", validate.empty() ? loaded->source : validate,
               loaded->models.size(), loaded->tools.size(), loaded->graphs.size() + graphs.graphs.size());
    return 0;
  }
  fmt::print("{}", config::DumpEffective(*loaded));
  return 0;
}

}  // namespace agentd::app
