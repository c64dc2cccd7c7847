// agentd: one binary, several subcommands (see commands.hpp and apps/README.md).

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "commands.hpp"

namespace {

bool IsHelp(std::string_view arg) { return arg == "--help" || arg == "-h" || arg == "help"; }

bool WantsHelp(const std::vector<std::string>& args) {
  for (const auto& a : args) {
    if (a == "--help" || a == "-h") return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace agentd::app;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    fmt::print("{}", MainHelp());
    return 0;
  }
  const std::string command = args.front();
  // Bare settings (`agentd --port 9000`) mean `agentd serve --port 9000`.
  const bool implicit_serve = command.rfind("--", 0) == 0 && !IsHelp(command) && command != "--version";
  std::vector<std::string> rest(args.begin() + (implicit_serve ? 0 : 1), args.end());

  if (IsHelp(command)) {
    fmt::print("{}", MainHelp());
    return 0;
  }
  if (command == "version" || command == "--version") {
    fmt::print("agentd {}\n", kVersion);
    return 0;
  }
  if (command == "serve" || implicit_serve) {
    if (WantsHelp(rest)) {
      fmt::print("{}", ServeHelp());
      return 0;
    }
    return RunServe(rest);
  }
  if (command == "mock-llm") {
    if (WantsHelp(rest)) {
      fmt::print("{}", MockLlmHelp());
      return 0;
    }
    return RunMockLlm(rest);
  }
  if (command == "config") {
    if (WantsHelp(rest)) {
      fmt::print("{}", ConfigHelp());
      return 0;
    }
    return RunConfig(rest);
  }
  if (command == "loadgen") {
    if (WantsHelp(rest)) {
      fmt::print("{}", LoadgenHelp());
      return 0;
    }
    return RunLoadgen(rest);
  }
  fmt::print(stderr, "agentd: unknown command \"{}\" (see agentd --help)\n", command);
  return 2;
}
