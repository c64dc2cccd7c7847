#include <fmt/format.h>

#include "commands.hpp"
#include "config/dump.hpp"

namespace agentd::app {

std::string MainHelp() {
  return fmt::format(
      "agentd {} - a LangGraph Agent Server compatible server\n\n"
      "Usage: agentd <command> [flags]\n\n"
      "Commands:\n"
      "  serve      run the server (also: agentd --setting value ...)\n"
      "  mock-llm   run the deterministic mock LLM as an OpenAI-compatible server\n"
      "  config     print the effective configuration; --validate FILE; --markdown\n"
      "  loadgen    drive a server with load scenarios (wait, stream, ramp, history, connections)\n"
      "  version    print the version\n\n"
      "`agentd <command> --help` shows a command's flags.\n\n{}",
      kVersion, config::SettingsHelp());
}

std::string ServeHelp() {
  return "Usage: agentd serve [settings]\n\n"
         "Runs the server until SIGTERM/SIGINT, then drains: /ready fails, in-flight requests get\n"
         "shutdown_grace_ms, storage closes last. SIGHUP reloads the configuration (auth, limits,\n"
         "models, tools, log level; docs/operations.md). Without --config, the demo configuration.\n\n" +
         config::SettingsHelp();
}

std::string ConfigHelp() {
  return "Usage: agentd config [settings]            print the effective configuration\n"
         "       agentd config --validate FILE [settings]  check FILE; exit 0, or 1 with one line\n"
         "       agentd config --markdown             the settings table for docs/configuration.md\n\n"
         "API keys are printed as ****.\n\n" +
         config::SettingsHelp();
}

std::string MockLlmHelp() {
  return "Usage: agentd mock-llm [flags]\n\n"
         "The deterministic mock model (docs/mock-llm.md) as an OpenAI-compatible server:\n"
         "POST /v1/chat/completions (stream and not), GET /v1/models, GET /health,\n"
         "POST /tools/get_weather.\n\n"
         "Flags:\n"
         "  --host <string>      address to listen on (default 127.0.0.1)\n"
         "  --port <integer>     port; 0 picks a free one (default 18787)\n"
         "  --latency-ms <ms>    base latency of every completion (default 0)\n"
         "  --slow-ms <ms>       extra latency when the last user message says \"slow\" (default 2000)\n"
         "  --chunks <integer>   streamed pieces per reply (default 8)\n"
         "  --threads <integer>  event-loop threads (default 1)\n";
}

}  // namespace agentd::app
