#pragma once
// Builds the effective Config once at start-up: table defaults < config file < environment
// (AGENTD_*) < command-line flags, then sizes the 0 ("auto") settings from the machine.
// Every failure is one kInvalidArgument Error whose message names the key and the problem
// (`graphs[1].model: unknown model "gpt5"`, `AGENTD_PORT: expected an integer, got "x"`,
// `--threads: must be between 0 and 1024, got 5000`); callers print "config error: " + message.
// A config file's independent sections are all checked: their problems are joined by
// kProblemSeparator (SplitProblems() lists them again).

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "common/error.hpp"
#include "config/config.hpp"
#include "config/environment.hpp"

namespace agentd::config {

inline constexpr std::string_view kProblemSeparator = "; ";

// `args` are the flags after the subcommand (`agentd serve --port 9000` -> {"--port", "9000"}).
// Flags take `--name value` or `--name=value`; a bool flag alone (`--dev-endpoints`) means true.
Result<Config> LoadConfig(std::span<const std::string> args, const Environment& env);

// Parses config-file text (JSON; comments and trailing commas allowed). `name` prefixes
// errors: "<name>:<line>:<column>: syntax error ...".
Result<boost::json::value> ParseConfigText(std::string_view text, std::string_view name);

// Applies a parsed config file (the top-level object) onto `config`.
Status ApplyConfigFile(const boost::json::value& file, const Environment& env, Config& config);

// The problems of a LoadConfig error message, one per entry.
std::vector<std::string> SplitProblems(std::string_view message);

// The "auto" rules for settings left at 0; documented in docs/configuration.md.
std::size_t AutoThreads(const Environment& env);
std::size_t AutoMaxConnections(const Environment& env);
std::size_t AutoMaxActiveRuns(const Environment& env);
std::size_t AutoMaxQueuedRuns(std::size_t max_active_runs);

}  // namespace agentd::config
