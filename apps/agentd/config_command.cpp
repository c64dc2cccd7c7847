// `agentd config`: the effective configuration, --validate FILE, --markdown.

#include <cstdio>
#include <vector>

#include <fmt/format.h>

#include "commands.hpp"
#include "config/dump.hpp"
#include "config/environment.hpp"
#include "config/loader.hpp"

namespace agentd::app {

int RunConfig(std::span<const std::string> args) {
  std::vector<std::string> settings;
  std::string validate;
  bool markdown = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--markdown") {
      markdown = true;
    } else if (args[i] == "--validate" || args[i].rfind("--validate=", 0) == 0) {
      if (args[i] == "--validate") {
        if (i + 1 >= args.size()) {
          fmt::print(stderr, "config error: --validate: missing file\n");
          return 1;
        }
        validate = args[++i];
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
  if (!validate.empty()) {
    fmt::print("ok: {} ({} models, {} tools, {} graphs)\n", validate, loaded->models.size(),
               loaded->tools.size(), loaded->graphs.size());
    return 0;
  }
  fmt::print("{}", config::DumpEffective(*loaded));
  return 0;
}

}  // namespace agentd::app
